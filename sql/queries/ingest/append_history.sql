-- Keep every version of a record that is new or changed (complaints evolve over time).
insert into raw.feedback_history
select i.*, cast($valid_from as timestamptz) as valid_from
from incoming as i
left join raw.feedback as f using (feedback_id)
where f.feedback_id is null or f.record_hash <> i.record_hash;
