-- Reviewers' merges (registered frame themes_corr_merges(theme_id, target_id), chains resolved):
-- the merged theme's clause rows move to the target (a clause on both keeps one row, the better
-- rank), and the merged theme is marked 'merged' with a pointer to its target.
create or replace temp table themes_merge_moved as
select
    a.feedback_id, a.clause_idx, m.target_id as theme_id, min(a.theme_rank) as theme_rank,
    max(a.probability) as probability, any_value(a.theme_run_id) as theme_run_id, any_value(a.text_hash) as text_hash
from enrich.theme_assignments as a
join themes_corr_merges as m on a.theme_id = m.theme_id
group by a.feedback_id, a.clause_idx, m.target_id;
delete from enrich.theme_assignments where theme_id in (select theme_id from themes_corr_merges);
insert into enrich.theme_assignments (feedback_id, clause_idx, theme_id, theme_rank, probability, method, theme_run_id, text_hash)
select feedback_id, clause_idx, theme_id, theme_rank, probability, 'merged', theme_run_id, text_hash
from themes_merge_moved
on conflict (feedback_id, clause_idx, theme_id) do update set theme_rank = least(theme_rank, excluded.theme_rank);
update enrich.themes as t
set status = 'merged', merged_into = m.target_id, size = 0
from themes_corr_merges as m
where t.theme_id = m.theme_id;
drop table themes_merge_moved;
