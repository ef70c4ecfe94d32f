-- Unique clause texts currently on each theme (primary rows), with their cached embeddings.
select distinct a.theme_id, a.text_hash, asp.clause_text, e.embedding
from enrich.theme_assignments as a
inner join enrich.aspects as asp
    on asp.feedback_id = a.feedback_id and asp.clause_idx = a.clause_idx
inner join enrich.embeddings as e
    on e.text_hash = a.text_hash and e.model_name = $model_name
where a.theme_rank = 1
order by a.theme_id, a.text_hash
