-- Cached embeddings for the hashes in the registered frame themes_wanted_hashes(text_hash).
select e.text_hash, e.embedding
from enrich.embeddings as e
inner join (select distinct text_hash from themes_wanted_hashes) as w using (text_hash)
where e.model_name = $model_name
