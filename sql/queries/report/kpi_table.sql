-- The trend pack's KPI table: headline KPIs for the report period (overall, and per survey type
-- for satisfaction) against the period of equal length before it and the same period last year.
-- A period is a window of whole months: $window_end (first day of its last month), $window_months.
select c.*, d.sort_order, d.definition, d.month_basis
from reporting.rpt_kpi_window_change as c
join reporting.rpt_kpi_definitions as d using (kpi_id)
where c.window_end = $window_end and c.window_months = $window_months
  and c.scope_type in ('overall', 'survey_type') and d.headline
order by d.sort_order, c.scope_value;
