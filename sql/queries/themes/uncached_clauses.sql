-- Distinct informative clause texts with no cached embedding under $model_name (what a theme run
-- would embed): planned into partitions by pipelines.themes.embedding before the theme stage.
select distinct
    sha256(a.clause_text) as text_hash,
    a.clause_text
from enrich.aspects as a
inner join enrich.sentiment as s using (feedback_id)
where s.is_informative
    and length(trim(a.clause_text)) > 0
    and not exists (
        select 1 from enrich.embeddings as e
        where e.text_hash = sha256(a.clause_text) and e.model_name = $model_name
    )
order by text_hash
