-- Every KPI per month and scope with small-cell suppression: a cell that aggregates fewer
-- than k units (k = ops.report_settings 'min_cell', default 5) has value, numerator and
-- denominator set to null and suppressed = true. Secondary suppression: when exactly one cell
-- of a breakdown (KPI x month x scope_type other than overall) is suppressed, the next smallest
-- is suppressed too, so the hidden cell cannot be recovered by subtracting from the total.
-- Columns: kpi_id, kpi_name, unit, direction, month, scope_type, scope_value, test, n, numerator,
-- denominator, value, std_dev, detractors, suppressed.
create or replace view reporting.rpt_kpi_monthly as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
flagged as (
    select m.*, m.n < k.min_cell as primary_suppressed
    from published.fct_kpi_monthly as m
    cross join k
),
ranked as (
    select
        *,
        count(*) filter (where primary_suppressed) over breakdown as suppressed_in_breakdown,
        count(*) over breakdown                                   as cells_in_breakdown,
        row_number() over (partition by kpi_id, month, scope_type, primary_suppressed order by n, scope_value) as size_rank
    from flagged
    window breakdown as (partition by kpi_id, month, scope_type)
),
suppressed as (
    select
        *,
        primary_suppressed
        or (scope_type <> 'overall' and suppressed_in_breakdown = 1 and cells_in_breakdown > 1
            and not primary_suppressed and size_rank = 1) as is_suppressed
    from ranked
)
select
    s.kpi_id,
    d.kpi_name,
    d.unit,
    d.direction,
    s.month,
    s.scope_type,
    s.scope_value,
    s.test,
    case when not s.is_suppressed then s.n end           as n,
    case when not s.is_suppressed then s.numerator end   as numerator,
    case when not s.is_suppressed then s.denominator end as denominator,
    case when not s.is_suppressed then s.value end       as value,
    case when not s.is_suppressed then s.std_dev end     as std_dev,
    case when not s.is_suppressed then s.detractors end  as detractors,
    s.is_suppressed                                      as suppressed
from suppressed as s
left join reporting.rpt_kpi_definitions as d using (kpi_id)
order by d.sort_order, s.month, s.scope_type, s.scope_value;
