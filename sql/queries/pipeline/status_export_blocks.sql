-- `feedback status`: files the final privacy scan held back, newest first, one row per file
-- (its columns and kinds folded together; never the values).
select
    run_id,
    file,
    string_agg(distinct column_name, ', ' order by column_name) as "columns",
    string_agg(distinct kind, ', ' order by kind) as kinds,
    sum(count) as "count",
    max(blocked_at)::timestamp(0) as blocked_at
from reporting.rpt_export_blocks
group by run_id, file
order by max(blocked_at) desc, file
limit $limit;
