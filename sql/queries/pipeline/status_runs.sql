select run_id, stage,
       case when status = 'failed' and message like 'interrupted:%' then 'failed (interrupted)' else status end as status,
       started_at::timestamp(0) as started,
       round(epoch(finished_at - started_at), 1) as seconds, rows_in, rows_out,
       strftime(data_from, '%Y-%m-%d') || ' .. ' || strftime(data_to, '%Y-%m-%d') as data_window
from reporting.rpt_run_status
limit $limit;
