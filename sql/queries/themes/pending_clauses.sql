-- Informative clauses with neither a primary theme nor an outlier row for their current text.
select
    a.feedback_id,
    a.clause_idx,
    a.clause_text,
    sha256(a.clause_text) as text_hash
from enrich.aspects as a
inner join enrich.sentiment as s using (feedback_id)
where s.is_informative
    and length(trim(a.clause_text)) > 0
    and not exists (
        select 1 from enrich.theme_assignments as t
        where t.feedback_id = a.feedback_id and t.clause_idx = a.clause_idx and t.theme_rank = 1
            and t.text_hash = sha256(a.clause_text)
    )
    and not exists (
        select 1 from enrich.theme_outliers as o
        where o.feedback_id = a.feedback_id and o.clause_idx = a.clause_idx
            and o.text_hash = sha256(a.clause_text)
    )
order by a.feedback_id, a.clause_idx
