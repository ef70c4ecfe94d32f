-- Each KPI window (rpt_kpi_window_cells: calendar quarters, rolling windows of whole months)
-- versus the window of equal length just before it (the previous quarter, the previous N
-- months) and the same window a year earlier, with the tests, significance flag and
-- assessments of rpt_kpi_period_change (see its header); one-month windows equal that view.
-- A comparison with a suppressed or missing side is not made (assessment 'not comparable').
create or replace view reporting.rpt_kpi_window_change as
with cells as (
    select * from reporting.rpt_kpi_window_cells
),
comparisons as (
    select
        c.*,
        o.comparison,
        b.window_end  as base_window_end,
        b.value       as base_value,
        b.n           as base_n,
        b.numerator   as base_numerator,
        b.denominator as base_denominator,
        b.std_dev     as base_std_dev,
        b.detractors  as base_detractors,
        not c.suppressed and b.value is not null and c.value is not null as comparable
    from cells as c
    cross join (values ('previous'), ('last_year')) as o(comparison)
    left join cells as b
        on b.kpi_id = c.kpi_id
       and b.scope_type = c.scope_type
       and b.scope_value = c.scope_value
       and b.window_months = c.window_months
       and b.window_end = cast(c.window_end - to_months(case o.comparison when 'previous' then c.window_months else 12 end) as date)
       and not b.suppressed
),
scored as (
    select
        *,
        case
            when not comparable then null
            when test = 'proportion'
                 and numerator + base_numerator > 0 and numerator + base_numerator < denominator + base_denominator then
                (numerator / denominator - base_numerator / base_denominator)
                / sqrt(((numerator + base_numerator) / (denominator + base_denominator))
                       * (1 - (numerator + base_numerator) / (denominator + base_denominator))
                       * (1 / denominator + 1 / base_denominator))
            when test = 'poisson' and numerator + base_numerator > 0 then
                (numerator / denominator - base_numerator / base_denominator)
                / sqrt(((numerator + base_numerator) / (denominator + base_denominator))
                       * (1 / denominator + 1 / base_denominator))
            when test = 'nps' then
                ((numerator - detractors) / denominator - (base_numerator - base_detractors) / base_denominator)
                / nullif(sqrt(
                    (numerator / denominator + detractors / denominator
                     - power(numerator / denominator - detractors / denominator, 2)) / denominator
                    + (base_numerator / base_denominator + base_detractors / base_denominator
                       - power(base_numerator / base_denominator - base_detractors / base_denominator, 2)) / base_denominator
                ), 0)
            when test = 'mean' then
                (value - base_value)
                / nullif(sqrt(power(std_dev, 2) / denominator + power(base_std_dev, 2) / base_denominator), 0)
        end as z
    from comparisons
),
assessed as (
    select
        *,
        case when comparable then value - base_value end as change,
        abs(z) >= 1.959963984540054                        as significant,
        case
            when not comparable then 'not comparable'
            when test = 'none' or z is null then 'not tested'
            when abs(z) < 1.959963984540054 then 'no significant change'
            when direction = 'neutral' then 'significant change'
            when (value > base_value) = (direction = 'higher') then 'significantly better'
            else 'significantly worse'
        end as assessment
    from scored
)
select
    kpi_id, kpi_name, unit, direction, test, window_end, window_months, window_start, scope_type, scope_value,
    n, value, suppressed,
    max(base_window_end) filter (where comparison = 'previous') as prev_window_end,
    max(base_value)  filter (where comparison = 'previous')  as prev_value,
    max(base_n)      filter (where comparison = 'previous')  as prev_n,
    max(change)      filter (where comparison = 'previous')  as change_vs_prev,
    max(z)           filter (where comparison = 'previous')  as z_vs_prev,
    bool_or(significant) filter (where comparison = 'previous') as significant_vs_prev,
    max(assessment)  filter (where comparison = 'previous')  as assessment_vs_prev,
    max(base_window_end) filter (where comparison = 'last_year') as last_year_window_end,
    max(base_value)  filter (where comparison = 'last_year') as last_year_value,
    max(base_n)      filter (where comparison = 'last_year') as last_year_n,
    max(change)      filter (where comparison = 'last_year') as change_vs_last_year,
    max(z)           filter (where comparison = 'last_year') as z_vs_last_year,
    bool_or(significant) filter (where comparison = 'last_year') as significant_vs_last_year,
    max(assessment)  filter (where comparison = 'last_year') as assessment_vs_last_year
from assessed
group by kpi_id, kpi_name, unit, direction, test, window_end, window_months, window_start, scope_type, scope_value,
    n, value, suppressed;
