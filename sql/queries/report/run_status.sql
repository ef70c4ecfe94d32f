-- Latest stage runs for the data team.
select * from reporting.rpt_run_status limit $max_rows;
