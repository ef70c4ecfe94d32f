-- Files held back by the final privacy scan, newest first (run status page).
select * from reporting.rpt_export_blocks limit $max_rows;
