-- Emerging-theme alerts of the latest insights run up to the report month.
select * from reporting.rpt_theme_alerts where period is null or period <= $month_to;
