-- KPIs per site for the report period with their change vs the period before (trend pack breakdown).
select c.*, d.sort_order
from reporting.rpt_kpi_window_change as c
join reporting.rpt_kpi_definitions as d using (kpi_id)
where c.window_end = $window_end and c.window_months = $window_months and c.scope_type = 'site'
  and c.kpi_id in ('responses', 'fft_positive_pct', 'nps', 'negative_sentiment_pct', 'complaints', 'complaint_rate_per_1000', 'ack_within_3wd_pct')
order by d.sort_order, c.scope_value;
