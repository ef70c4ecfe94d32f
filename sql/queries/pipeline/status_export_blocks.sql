-- `feedback status`: files the final privacy scan held back, newest first (never the values).
select run_id, file, column_name as "column", kind, count, blocked_at::timestamp(0) as blocked_at
from reporting.rpt_export_blocks
limit $limit;
