-- Incoming records already loaded with identical content (skipped as duplicates).
select i.feedback_id
from incoming as i
join raw.feedback as f using (feedback_id)
where f.record_hash = i.record_hash;
