-- The KPI catalogue (definitions shown under the trend pack's KPI table).
select * from reporting.rpt_kpi_definitions order by sort_order;
