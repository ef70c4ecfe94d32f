insert or replace into enrich.sentiment
select feedback_id, record_hash, is_informative, label5, label3, score, confidence, is_mixed,
       model_version, scored_at
from incoming_sentiment;
