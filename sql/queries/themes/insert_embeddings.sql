-- Add newly computed embeddings from the registered frame themes_new_embeddings(text_hash, embedding).
insert into enrich.embeddings (text_hash, model_name, embedding)
select text_hash, $model_name, cast(embedding as float[])
from themes_new_embeddings
on conflict do nothing
