-- The trend pack's KPI table: headline KPIs for the month (overall, and per survey type for
-- satisfaction) against the previous month and the same month last year.
select c.*, d.sort_order, d.definition, d.month_basis
from reporting.rpt_kpi_period_change as c
join reporting.rpt_kpi_definitions as d using (kpi_id)
where c.month = $month and c.scope_type in ('overall', 'survey_type') and d.headline
order by d.sort_order, c.scope_value;
