-- Emerging-theme alerts of the latest insights run up to the end of the report period.
select * from reporting.rpt_theme_alerts where period is null or period <= $month_to;
