-- Statistical process control limits for every KPI series (KPI x scope), for the trend pack's
-- monthly charts: centre line and 3-sigma limits over all unsuppressed months of the series.
--   proportion  p-chart: centre = pooled p, limits = p +/- 3 sqrt(p(1-p)/n_month) (in %)
--   poisson     counts: c-chart, centre = mean count, limits = c +/- 3 sqrt(c)
--               rates per 1,000: u-chart, centre = pooled rate, limits = u +/- 3 sqrt(u/exposure)
--   mean        X-bar chart: centre = weighted mean, limits = +/- 3 pooled sd / sqrt(n_month)
--   nps         centre = pooled NPS, limits = +/- 3 sqrt(v/n_month) with the pooled variance v
--   none        no limits (medians and percentiles)
-- special_cause = the month lies outside its limits. Limits are clipped to the KPI's range.
create or replace view reporting.rpt_kpi_control_limits as
with cells as (
    select * from reporting.rpt_kpi_monthly where not suppressed
),
centres as (
    select
        kpi_id, scope_type, scope_value,
        count(*)                                       as months,
        sum(numerator order by numerator) / nullif(sum(denominator), 0) as pooled_ratio,
        avg(value order by value)                      as mean_value,
        sum(value * denominator order by value * denominator) / nullif(sum(denominator), 0) as weighted_value,
        sqrt(
            sum((denominator - 1) * power(std_dev, 2) order by (denominator - 1) * power(std_dev, 2))
            / nullif(sum(denominator - 1), 0)
        )                                              as pooled_sd,
        sum(numerator order by numerator) / nullif(sum(denominator), 0) as pooled_promoters,
        sum(detractors) / nullif(sum(denominator), 0)  as pooled_detractors
    from cells
    group by all
),
limits as (
    select
        c.kpi_id, c.kpi_name, c.unit, c.test, c.month, c.scope_type, c.scope_value, c.n, c.value,
        m.months,
        case
            when c.test = 'proportion' then 100 * m.pooled_ratio
            when c.test = 'poisson' and c.unit = 'count' then m.mean_value
            when c.test = 'poisson' then 1000 * m.pooled_ratio
            when c.test = 'mean' then m.weighted_value
            when c.test = 'nps' then 100 * (m.pooled_promoters - m.pooled_detractors)
        end as centre,
        case
            when c.test = 'proportion' then 300 * sqrt(m.pooled_ratio * (1 - m.pooled_ratio) / c.denominator)
            when c.test = 'poisson' and c.unit = 'count' then 3 * sqrt(m.mean_value)
            when c.test = 'poisson' then 3000 * sqrt(m.pooled_ratio / c.denominator)
            when c.test = 'mean' then 3 * m.pooled_sd / sqrt(c.denominator)
            when c.test = 'nps' then 300 * sqrt(
                (m.pooled_promoters + m.pooled_detractors - power(m.pooled_promoters - m.pooled_detractors, 2)) / c.denominator)
        end as three_sigma
    from cells as c
    join centres as m using (kpi_id, scope_type, scope_value)
)
select
    kpi_id, kpi_name, unit, test, month, scope_type, scope_value, n, value, months, centre,
    case when unit = '%' then least(centre + three_sigma, 100) when unit = 'NPS' then least(centre + three_sigma, 100)
         else centre + three_sigma end as upper_limit,
    case when unit = 'NPS' then greatest(centre - three_sigma, -100) else greatest(centre - three_sigma, 0) end as lower_limit,
    value > centre + three_sigma or value < centre - three_sigma as special_cause
from limits
where test <> 'none';
