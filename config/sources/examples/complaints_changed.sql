-- Complaints changed since the last pull. :watermark is the largest updated_at already loaded
-- (NULL on the first pull); rows at exactly the watermark are re-read and counted as duplicates.
select
    c.complaint_ref,
    c.received_at,
    s.site_name      as site,
    c.service,
    c.category,
    c.severity,
    c.status,
    c.acknowledged_at,
    c.closed_at,
    c.contact_count,
    c.handling_minutes,
    c.description,
    c.updated_at
from complaints as c
join sites as s on s.site_id = c.site_id
where :watermark is null or c.updated_at >= :watermark
order by c.updated_at
