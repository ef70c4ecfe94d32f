-- Every informative clause (redacted text) with the sha256 that keys the embedding cache.
select
    a.feedback_id,
    a.clause_idx,
    a.clause_text,
    sha256(a.clause_text) as text_hash
from enrich.aspects as a
inner join enrich.sentiment as s using (feedback_id)
where s.is_informative and length(trim(a.clause_text)) > 0
order by a.feedback_id, a.clause_idx
