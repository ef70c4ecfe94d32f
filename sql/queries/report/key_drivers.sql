-- Key drivers of the latest insights run.
select * from reporting.rpt_key_drivers;
