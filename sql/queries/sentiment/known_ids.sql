-- Which of the given feedback ids exist (label import validation).
select feedback_id
from raw.feedback
where list_contains($ids, feedback_id)
