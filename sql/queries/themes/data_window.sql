-- Received-at range of the informative comments a refit is trained on.
select min(f.received_at) as data_from, max(f.received_at) as data_to
from raw.feedback as f
inner join enrich.sentiment as s using (feedback_id)
where s.is_informative
