-- Complaints opened over windows of whole months (calendar quarters, rolling "last N months";
-- see rpt_kpi_window_cells) by site and category, as rpt_complaints_by_category_site does per
-- month: the rate per 1,000 survey responses received at the same site in the same window and
-- the share acknowledged within 3 working days. Cells of fewer than k complaints (k =
-- ops.report_settings 'min_cell') are suppressed. One-month windows equal that view.
create or replace view reporting.rpt_complaints_window_category_site as
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
),
windows as (
    select distinct l.window_months, cast(c.month as date) as window_end,
           cast(c.month - to_months(l.window_months - 1) as date) as window_start
    from complaints as c
    cross join range(1, 13) as l(window_months)
),
summed as (
    select w.window_end, w.window_months, w.window_start, c.site, c.category,
           sum(c.complaints) as complaints, sum(c.acknowledged_in_time) as acknowledged_in_time,
           sum(c.acknowledgements_due) as acknowledgements_due
    from complaints as c
    join windows as w on c.month between w.window_start and w.window_end
    group by all
),
window_exposure as (
    select w.window_end, w.window_months, e.site, sum(e.survey_responses) as survey_responses
    from exposure as e
    join windows as w on e.month between w.window_start and w.window_end
    group by all
)
select
    c.window_end,
    c.window_months,
    c.window_start,
    c.site,
    c.category,
    case when c.complaints >= k.min_cell then c.complaints end                                   as complaints,
    case when c.complaints >= k.min_cell and e.survey_responses >= k.min_cell then e.survey_responses end as survey_responses,
    case when c.complaints >= k.min_cell and e.survey_responses >= k.min_cell
         then 1000.0 * c.complaints / e.survey_responses end                                     as rate_per_1000,
    case when c.acknowledgements_due >= k.min_cell
         then 100.0 * c.acknowledged_in_time / c.acknowledgements_due end                        as ack_within_3wd_pct,
    c.complaints < k.min_cell                                                                    as suppressed
from summed as c
cross join k
left join window_exposure as e using (window_end, window_months, site)
order by c.window_months, c.window_end, c.site, c.category;
