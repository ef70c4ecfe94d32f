-- Complaints opened per month by site and category, with the rate per 1,000 survey responses
-- received at the same site in the same month. Cells of fewer than k complaints (k =
-- ops.report_settings 'min_cell') are suppressed: complaints and rate are null.
create or replace view reporting.rpt_complaints_by_category_site as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
complaints as (
    select opened_month as month, site, category, count(*) as complaints,
           count(*) filter (where is_ack_within_3wd) as acknowledged_in_time,
           count(is_ack_within_3wd) as acknowledgements_due
    from published.fct_complaints
    where opened_month is not null
    group by all
),
exposure as (
    select month, site, count(*) as survey_responses
    from published.fct_responses
    where channel = 'survey'
    group by all
)
select
    c.month,
    c.site,
    c.category,
    case when c.complaints >= k.min_cell then c.complaints end                                   as complaints,
    case when c.complaints >= k.min_cell and e.survey_responses >= k.min_cell then e.survey_responses end as survey_responses,
    case when c.complaints >= k.min_cell and e.survey_responses >= k.min_cell
         then 1000.0 * c.complaints / e.survey_responses end                                     as rate_per_1000,
    case when c.acknowledgements_due >= k.min_cell
         then 100.0 * c.acknowledged_in_time / c.acknowledgements_due end                        as ack_within_3wd_pct,
    c.complaints < k.min_cell                                                                    as suppressed
from complaints as c
cross join k
left join exposure as e using (month, site)
order by c.month, c.site, c.category;
