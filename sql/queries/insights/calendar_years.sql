-- First and last calendar year any feedback or complaint date falls in (for ops.calendar).
select
    least(min(year(received_at)), min(year(opened_at))),
    greatest(max(year(received_at)), max(year(acknowledged_at)), max(year(closed_at)))
from raw.feedback;
