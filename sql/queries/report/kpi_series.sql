-- Monthly KPI series with control limits for the trend pack's charts (overall scope).
select *
from reporting.rpt_kpi_control_limits
where scope_type = 'overall' and month between $month_from and $month_to
order by kpi_id, month;
