-- How the registered `incoming` records compare with what is loaded: (new, changed, unchanged).
select
    count(*) filter (where f.feedback_id is null)                                    as inserted,
    count(*) filter (where f.feedback_id is not null and f.record_hash <> i.record_hash) as updated,
    count(*) filter (where f.record_hash = i.record_hash)                            as unchanged
from incoming as i
left join raw.feedback as f using (feedback_id);
