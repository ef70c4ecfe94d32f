-- Every KPI over windows of whole months, per scope, with small-cell suppression: the report
-- periods longer than a month (calendar quarters, rolling "last N months") and, for checking,
-- single months. A window is (window_end = first day of its last month, window_months = 1..12);
-- a calendar quarter is the 3-month window ending in March, June, September or December.
-- Windows end no later than the last month with data.
--   n, numerator, denominator, detractors   summed over the window's months (counts get an
--                                           exposure of one per month of the window)
--   value      recomputed from the sums in the KPI's unit; mean KPIs pool their standard
--              deviation from the monthly ones; test 'none' KPIs (medians, percentiles) cannot
--              be pooled from months and are null for windows longer than one month
-- Suppression as rpt_kpi_monthly (primary: n < k; secondary: the next smallest cell of a
-- breakdown with exactly one suppressed cell), per window. One-month windows equal
-- rpt_kpi_monthly row for row (tests/unit/test_report_periods.py checks this).
create or replace view reporting.rpt_kpi_window_cells as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
last_month as (
    select max(month) as last_month from published.fct_kpi_monthly
),
spread as (
    -- each monthly cell counts in every window that contains its month
    select m.*, l.window_months, cast(m.month + to_months(o.months_after) as date) as window_end
    from published.fct_kpi_monthly as m
    cross join range(1, 13) as l(window_months)
    cross join range(0, 12) as o(months_after)
    where o.months_after < l.window_months
),
pooled as (
    select
        s.kpi_id, s.window_end, s.window_months, s.scope_type, s.scope_value,
        any_value(s.test)                                                    as test,
        sum(s.n)                                                             as n,
        sum(s.numerator order by s.numerator)                                as numerator,
        sum(s.denominator)                                                   as denominator,
        sum(s.detractors)                                                    as detractors,
        -- sum of squares of a mean KPI's units, rebuilt from each month's mean and sd
        sum(
            coalesce(s.std_dev, 0) ^ 2 * (s.denominator - 1) + s.denominator * (s.numerator / s.denominator) ^ 2
            order by coalesce(s.std_dev, 0) ^ 2 * (s.denominator - 1) + s.denominator * (s.numerator / s.denominator) ^ 2
        )                                                                    as sum_squares,
        any_value(s.value)                                                   as month_value,
        any_value(s.std_dev)                                                 as month_std_dev
    from spread as s
    cross join last_month as l
    where s.window_end <= l.last_month
    group by all
),
valued as (
    select
        p.kpi_id, p.window_end, p.window_months, p.scope_type, p.scope_value, p.test, p.n, p.numerator,
        case when d.unit = 'count' then p.window_months else p.denominator end as denominator,
        p.detractors,
        case
            when p.window_months = 1 then p.month_value
            when p.test = 'none' then null
            when d.unit = 'count' then p.numerator
            when d.unit = 'per 1,000' then 1000.0 * p.numerator / p.denominator
            when p.test = 'nps' then 100.0 * (p.numerator - p.detractors) / p.denominator
            when p.test = 'mean' then p.numerator / p.denominator
            else 100.0 * p.numerator / p.denominator
        end as value,
        case
            when p.window_months = 1 then p.month_std_dev
            when p.test = 'mean' and p.denominator > 1 then
                sqrt(greatest(p.sum_squares - p.numerator ^ 2 / p.denominator, 0) / (p.denominator - 1))
        end as std_dev,
        d.kpi_name, d.unit, d.direction, d.sort_order
    from pooled as p
    left join reporting.rpt_kpi_definitions as d using (kpi_id)
),
ranked as (
    select
        v.*,
        v.n < k.min_cell                                                     as primary_suppressed,
        count(*) filter (where v.n < k.min_cell) over breakdown             as suppressed_in_breakdown,
        count(*) over breakdown                                              as cells_in_breakdown,
        row_number() over (partition by v.kpi_id, v.window_end, v.window_months, v.scope_type, v.n < k.min_cell
                           order by v.n, v.scope_value)                      as size_rank
    from valued as v
    cross join k
    window breakdown as (partition by v.kpi_id, v.window_end, v.window_months, v.scope_type)
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
    kpi_id,
    kpi_name,
    unit,
    direction,
    window_end,
    window_months,
    cast(window_end - to_months(window_months - 1) as date) as window_start,
    scope_type,
    scope_value,
    test,
    case when not is_suppressed then n end           as n,
    case when not is_suppressed then numerator end   as numerator,
    case when not is_suppressed then denominator end as denominator,
    case when not is_suppressed then value end       as value,
    case when not is_suppressed then std_dev end     as std_dev,
    case when not is_suppressed then detractors end  as detractors,
    is_suppressed                                    as suppressed
from suppressed
order by sort_order, window_months, window_end, scope_type, scope_value;
