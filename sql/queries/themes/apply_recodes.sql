-- Reviewers' recodes (registered frame themes_corr_recodes(feedback_id, clause_idx, clause_text,
-- theme_id, theme_run_id), merges resolved): the clause's primary theme is the reviewer's, as long
-- as the clause still has the text the reviewer saw and its comment is informative. A secondary
-- row on the same theme goes; the clause is no longer an outlier; its theme is active.
create or replace temp table themes_recode_rows as
select r.feedback_id, cast(r.clause_idx as integer) as clause_idx, r.theme_id, r.theme_run_id, sha256(a.clause_text) as text_hash
from themes_corr_recodes as r
join enrich.aspects as a on a.feedback_id = r.feedback_id and a.clause_idx = cast(r.clause_idx as integer)
join enrich.sentiment as s on s.feedback_id = a.feedback_id
where s.is_informative and a.clause_text = r.clause_text;
delete from enrich.theme_assignments as t
using themes_recode_rows as r
where t.feedback_id = r.feedback_id and t.clause_idx = r.clause_idx and (t.theme_rank = 1 or t.theme_id = r.theme_id);
delete from enrich.theme_outliers as o
using themes_recode_rows as r
where o.feedback_id = r.feedback_id and o.clause_idx = r.clause_idx;
insert into enrich.theme_assignments (feedback_id, clause_idx, theme_id, theme_rank, probability, method, theme_run_id, text_hash)
select feedback_id, clause_idx, theme_id, 1, null, 'reviewer', theme_run_id, text_hash
from themes_recode_rows;
update enrich.themes
set status = 'active'
where theme_id in (select theme_id from themes_recode_rows) and status <> 'merged';
drop table themes_recode_rows;
