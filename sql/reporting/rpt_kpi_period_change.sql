-- Each KPI cell versus the previous month and the same month last year, with a significance
-- flag at the 5% level (two-sided). Tests (pipelines/kpis.py has the same maths and exact
-- p-values for the reports):
--   proportion  two-proportion z-test with pooled variance
--   poisson     z-test for two Poisson rates (counts: equal exposure, rates: exposure = the
--               denominator), conditional on the total, normal approximation
--   nps         z = difference of NPS / sqrt(v1/n1 + v2/n2), v = p_promoter + p_detractor -
--               (p_promoter - p_detractor)^2
--   mean        Welch z = difference of means / sqrt(s1^2/n1 + s2^2/n2)
--   none        medians and percentiles are shown with their change, never flagged
-- A comparison with a suppressed or missing side is not made (assessment 'not comparable').
-- assessment_*: significantly better | significantly worse | significant change (volumes) |
-- no significant change | not tested | not comparable.
create or replace view reporting.rpt_kpi_period_change as
with cells as (
    select * from reporting.rpt_kpi_monthly
),
comparisons as (
    select
        c.*,
        o.comparison,
        b.month       as base_month,
        b.value       as base_value,
        b.n           as base_n,
        b.numerator   as base_numerator,
        b.denominator as base_denominator,
        b.std_dev     as base_std_dev,
        b.detractors  as base_detractors,
        not c.suppressed and b.value is not null and c.value is not null as comparable
    from cells as c
    cross join (values ('previous', 1), ('last_year', 12)) as o(comparison, months_back)
    left join cells as b
        on b.kpi_id = c.kpi_id
       and b.scope_type = c.scope_type
       and b.scope_value = c.scope_value
       and b.month = cast(c.month - to_months(o.months_back) as date)
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
    kpi_id, kpi_name, unit, direction, test, month, scope_type, scope_value, n, value, suppressed,
    max(base_month)  filter (where comparison = 'previous')  as prev_month,
    max(base_value)  filter (where comparison = 'previous')  as prev_value,
    max(base_n)      filter (where comparison = 'previous')  as prev_n,
    max(change)      filter (where comparison = 'previous')  as change_vs_prev,
    max(z)           filter (where comparison = 'previous')  as z_vs_prev,
    bool_or(significant) filter (where comparison = 'previous') as significant_vs_prev,
    max(assessment)  filter (where comparison = 'previous')  as assessment_vs_prev,
    max(base_month)  filter (where comparison = 'last_year') as last_year_month,
    max(base_value)  filter (where comparison = 'last_year') as last_year_value,
    max(base_n)      filter (where comparison = 'last_year') as last_year_n,
    max(change)      filter (where comparison = 'last_year') as change_vs_last_year,
    max(z)           filter (where comparison = 'last_year') as z_vs_last_year,
    bool_or(significant) filter (where comparison = 'last_year') as significant_vs_last_year,
    max(assessment)  filter (where comparison = 'last_year') as assessment_vs_last_year
from assessed
group by kpi_id, kpi_name, unit, direction, test, month, scope_type, scope_value, n, value, suppressed;
