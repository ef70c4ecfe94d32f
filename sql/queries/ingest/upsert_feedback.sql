-- New or changed records replace their previous version; unchanged ones keep their batch.
insert or replace into raw.feedback
select i.*
from incoming as i
left join raw.feedback as f using (feedback_id)
where f.feedback_id is null or f.record_hash <> i.record_hash;
