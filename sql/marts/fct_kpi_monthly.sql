-- Every KPI per calendar month and scope, unsuppressed (the reporting layer applies k).
-- One row per (kpi_id, month, scope_type, scope_value):
--   scope_type   overall (scope_value 'All') | site | service | channel | survey_type | category
--   test         how a change is tested: proportion (two-proportion z) | poisson (rate/count)
--                | nps (difference of NPS) | mean (Welch z) | none (medians, percentiles)
--   n            responses / comments / complaints the cell aggregates (suppression uses this)
--   numerator    successes (proportion), events (poisson), sum (mean), promoters (nps)
--   denominator  eligible units (proportion, mean, nps) or exposure (poisson: 1 for counts,
--                survey responses for rates per 1,000)
--   value        the KPI in its unit (see the KPI catalogue view rpt_kpi_definitions)
--   std_dev      sample standard deviation (mean KPIs), detractors: NPS detractor count
-- Months: responses and comments by month received, complaints by month opened, resolution
-- KPIs by month closed.
create or replace table marts.fct_kpi_monthly as
with responses as (
    select r.*, s.scope_type, s.scope_value
    from marts.fct_responses as r
    cross join lateral (values ('overall', 'All'), ('site', r.site), ('service', r.service), ('channel', r.channel))
        as s(scope_type, scope_value)
),
comments as (
    select f.*, cast(f.month as date) as month_date, s.scope_type, s.scope_value
    from marts.fct_feedback as f
    cross join lateral (values ('overall', 'All'), ('site', f.site), ('service', f.service), ('channel', f.channel))
        as s(scope_type, scope_value)
    where f.is_informative
),
complaints as (
    select c.*, s.scope_type, s.scope_value
    from marts.fct_complaints as c
    cross join lateral (values ('overall', 'All'), ('site', c.site), ('service', c.service), ('category', c.category))
        as s(scope_type, scope_value)
),
survey_exposure as (
    select month, scope_type, scope_value, count(*) as survey_responses
    from responses
    where channel = 'survey' and scope_type in ('overall', 'site', 'service')
    group by all
),
volume as (
    select 'responses' as kpi_id, month, scope_type, scope_value, 'poisson' as test,
           count(*) as n, count(*) as numerator, 1 as denominator, count(*) as value,
           null as std_dev, null as detractors
    from responses
    group by all
),
fft as (
    select kpi.kpi_id, month, scope_type, scope_value, 'proportion' as test,
           count(*) as n,
           count(*) filter (where list_contains(kpi.categories, fft_category)) as numerator,
           count(*) as denominator,
           100.0 * count(*) filter (where list_contains(kpi.categories, fft_category)) / count(*) as value,
           null as std_dev, null as detractors
    from responses
    cross join (values ('fft_positive_pct', ['positive']), ('fft_negative_pct', ['negative'])) as kpi(kpi_id, categories)
    where fft_category is not null and scope_type <> 'channel'
    group by kpi.kpi_id, month, scope_type, scope_value
),
satisfaction as (
    select 'satisfaction_mean' as kpi_id, month, 'survey_type' as scope_type, rating_scale as scope_value, 'mean' as test,
           count(*) as n, 100.0 * sum(rating_value order by rating_value) as numerator, count(*) as denominator,
           100.0 * avg(rating_value order by rating_value) as value,
           100.0 * stddev_samp(rating_value order by rating_value) as std_dev, null as detractors
    from responses
    where scope_type = 'overall' and rating_value is not null and rating_scale is not null
    group by all
    union all
    select 'satisfaction_top_box_pct', month, 'survey_type', rating_scale, 'proportion',
           count(*), count(*) filter (where is_top_box), count(*),
           100.0 * count(*) filter (where is_top_box) / count(*), null, null
    from responses
    where scope_type = 'overall' and rating_value is not null and rating_scale is not null
    group by all
),
nps as (
    select 'nps' as kpi_id, month, scope_type, scope_value, 'nps' as test,
           count(*) as n,
           count(*) filter (where nps_class = 'promoter') as numerator,
           count(*) as denominator,
           100.0 * (count(*) filter (where nps_class = 'promoter') - count(*) filter (where nps_class = 'detractor')) / count(*) as value,
           null as std_dev,
           count(*) filter (where nps_class = 'detractor') as detractors
    from responses
    where nps_class is not null and scope_type <> 'channel'
    group by all
),
sentiment as (
    select 'negative_sentiment_pct' as kpi_id, month_date as month, scope_type, scope_value, 'proportion' as test,
           count(*) as n, count(*) filter (where sentiment3 = 'negative') as numerator, count(*) as denominator,
           100.0 * count(*) filter (where sentiment3 = 'negative') / count(*) as value, null as std_dev, null as detractors
    from comments
    where month_date is not null
    group by all
),
complaint_counts as (
    select opened_month as month, scope_type, scope_value, count(*) as complaints
    from complaints
    where opened_month is not null
    group by all
),
complaint_volume as (
    select 'complaints' as kpi_id, month, scope_type, scope_value, 'poisson' as test,
           complaints as n, complaints as numerator, 1 as denominator, complaints as value, null as std_dev, null as detractors
    from complaint_counts
    union all
    select 'complaint_rate_per_1000', c.month, c.scope_type, c.scope_value, 'poisson',
           c.complaints, c.complaints, e.survey_responses, 1000.0 * c.complaints / e.survey_responses, null, null
    from complaint_counts as c
    join survey_exposure as e
        on e.month = c.month
       and e.scope_type = case when c.scope_type = 'category' then 'overall' else c.scope_type end
       and e.scope_value = case when c.scope_type = 'category' then 'All' else c.scope_value end
),
complaint_opened as (
    select 'ack_within_3wd_pct' as kpi_id, opened_month as month, scope_type, scope_value, 'proportion' as test,
           count(*) as n, count(*) filter (where is_ack_within_3wd) as numerator, count(*) as denominator,
           100.0 * count(*) filter (where is_ack_within_3wd) / count(*) as value, null as std_dev, null as detractors
    from complaints
    where is_ack_within_3wd is not null
    group by all
    union all
    select 'reopened_pct', opened_month, scope_type, scope_value, 'proportion',
           count(*), count(*) filter (where is_reopened), count(*),
           100.0 * count(*) filter (where is_reopened) / count(*), null, null
    from complaints
    where opened_month is not null
    group by all
),
complaint_closed as (
    select 'resolution_median_wd' as kpi_id, closed_month as month, scope_type, scope_value, 'none' as test,
           count(*) as n, null as numerator, null as denominator,
           quantile_cont(resolution_working_days, 0.5) as value, null as std_dev, null as detractors
    from complaints
    where is_resolved and resolution_working_days is not null
    group by all
    union all
    select 'resolution_p90_wd', closed_month, scope_type, scope_value, 'none',
           count(*), null, null, quantile_cont(resolution_working_days, 0.9), null, null
    from complaints
    where is_resolved and resolution_working_days is not null
    group by all
    union all
    select 'resolution_over_target_pct', closed_month, scope_type, scope_value, 'proportion',
           count(*), count(*) filter (where is_over_target), count(*),
           100.0 * count(*) filter (where is_over_target) / count(*), null, null
    from complaints
    where is_over_target is not null
    group by all
    union all
    select 'first_contact_resolution_pct', closed_month, scope_type, scope_value, 'proportion',
           count(*), count(*) filter (where is_first_contact_resolution), count(*),
           100.0 * count(*) filter (where is_first_contact_resolution) / count(*), null, null
    from complaints
    where is_first_contact_resolution is not null
    group by all
    union all
    select 'avg_handling_minutes', closed_month, scope_type, scope_value, 'mean',
           count(*), sum(handling_minutes order by handling_minutes), count(*),
           avg(handling_minutes order by handling_minutes), stddev_samp(handling_minutes order by handling_minutes), null
    from complaints
    where is_resolved and handling_minutes is not null
    group by all
),
unioned as (
    select * from volume
    union all by name select * from fft
    union all by name select * from satisfaction
    union all by name select * from nps
    union all by name select * from sentiment
    union all by name select * from complaint_volume
    union all by name select * from complaint_opened
    union all by name select * from complaint_closed
)
select
    kpi_id,
    cast(month as date)          as month,
    scope_type,
    coalesce(scope_value, 'Unknown') as scope_value,
    test,
    cast(n as bigint)            as n,
    cast(numerator as double)    as numerator,
    cast(denominator as double)  as denominator,
    cast(value as double)        as value,
    cast(std_dev as double)      as std_dev,
    cast(detractors as double)   as detractors
from unioned
where month is not null;
