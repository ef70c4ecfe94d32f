-- Last runs per stage for the data team: status, rows, versions and data window.
create or replace view reporting.rpt_run_status as
select run_id, stage, started_at, finished_at, status, rows_in, rows_out, seed, data_from, data_to, versions, message
from ops.stage_runs
order by started_at desc;
