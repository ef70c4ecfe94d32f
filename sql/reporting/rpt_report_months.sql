-- Every calendar month with feedback, for choosing and listing report periods: responses
-- received (survey responses, suggestion-box entries and complaints, as the KPI 'responses'),
-- informative comments, whether the month is complete (it ends on or before the last day with
-- data) and that last day. Whole-month operational counts with no patient attribute: not
-- suppressed.
-- The report's default period is the latest complete month with enough responses.
create or replace view reporting.rpt_report_months as
with responses as (
    select cast(month as date) as month, count(*) as responses
    from published.fct_responses
    where month is not null
    group by all
),
comments as (
    select cast(month as date) as month, count(*) filter (where is_informative) as comments
    from published.fct_feedback
    where month is not null
    group by all
),
data_end as (
    select cast(max(received_local) as date) as last_day from published.fct_feedback
)
select
    month,
    coalesce(r.responses, 0)                                             as responses,
    coalesce(c.comments, 0)                                              as comments,
    cast(month + interval 1 month - interval 1 day as date) <= d.last_day as is_complete,
    d.last_day                                                           as data_last_day
from responses as r
full join comments as c using (month)
cross join data_end as d
order by month;
