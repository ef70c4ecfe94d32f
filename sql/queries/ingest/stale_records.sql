-- Loaded records of the incoming responses that the new version no longer has (an amended
-- survey response dropped an answer, or a rating-only response gained free text).
select f.feedback_id, f.response_id
from raw.feedback as f
where f.source = $source
  and f.response_id in (select response_id from incoming)
  and f.feedback_id not in (select feedback_id from incoming);
