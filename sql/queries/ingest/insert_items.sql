insert into raw.survey_items
select source, response_id, item_key, question, scale, answer_raw, value, batch_id, ingested_at
from incoming_items;
