-- Informative clauses without a theme assignment, or whose text changed since it was assigned.
select
    a.feedback_id,
    a.clause_idx,
    a.clause_text,
    sha256(a.clause_text) as text_hash
from enrich.aspects as a
inner join enrich.sentiment as s using (feedback_id)
left join enrich.theme_assignments as t
    on t.feedback_id = a.feedback_id and t.clause_idx = a.clause_idx
where s.is_informative
    and length(trim(a.clause_text)) > 0
    and (t.feedback_id is null or t.text_hash is distinct from sha256(a.clause_text))
order by a.feedback_id, a.clause_idx
