-- Data window and stage coverage per source.
select * from reporting.rpt_data_windows;
