-- The clauses a reviewer file recodes (registered frame themes_review_keys(feedback_id, clause_idx)):
-- their redacted text, current primary theme and a cached embedding (null when none is cached).
with keys as (
    select distinct cast(feedback_id as varchar) as feedback_id, cast(clause_idx as integer) as clause_idx
    from themes_review_keys
),
embedded as (
    select text_hash, any_value(embedding) as embedding from enrich.embeddings group by text_hash
)
select a.feedback_id, a.clause_idx, a.clause_text, t.theme_id, e.embedding
from keys as k
join enrich.aspects as a on a.feedback_id = k.feedback_id and a.clause_idx = k.clause_idx
left join enrich.theme_assignments as t
    on t.feedback_id = a.feedback_id and t.clause_idx = a.clause_idx and t.theme_rank = 1
left join embedded as e on e.text_hash = sha256(a.clause_text)
