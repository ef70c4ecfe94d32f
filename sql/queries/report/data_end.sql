-- Last day with feedback (local date): the default report month is the last full month.
select cast(max(last_received) as date) from reporting.rpt_data_windows;
