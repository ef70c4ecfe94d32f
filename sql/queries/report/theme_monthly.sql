-- Monthly theme series (share, sentiment, control limits) for sparklines and trend charts.
select * from reporting.rpt_theme_monthly where month between $month_from and $month_to order by theme_id, month;
