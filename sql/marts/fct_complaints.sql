-- Fact table: one row per complaint with its working-day clock.
-- Dates are local dates in the source's time zone. Working days come from ops.calendar (written
-- from the `holidays` package for the source's country, see pipelines/kpis.py): the day a
-- complaint arrives is day 0, so acknowledged on the 3rd working day after receipt counts as
-- "within 3 working days" (NHS complaints regulations 2009, reg. 13). A complaint not yet
-- acknowledged is a breach once more than 3 working days have passed by the data's as-of date
-- (the last day any feedback was received) and pending (null) before that.
-- Resolution target (working days) = ops.report_settings 'resolution_target_working_days',
-- default 25. Reopened = status 'reopened' now or in any earlier version, or a closed version
-- followed by a version that is not closed (staging.stg_raw__complaint_history).
create or replace table marts.fct_complaints as
with settings as (
    select
        coalesce(max(try_cast(value as integer)) filter (where key = 'resolution_target_working_days'), 25) as target_wd,
        coalesce(max(value) filter (where key = 'default_calendar'), 'GB')                                   as default_calendar
    from ops.report_settings
),
as_of as (
    select max(cast(received_local as date)) as as_of_date from staging.stg_raw__feedback
),
complaints as (
    select
        f.feedback_id,
        f.source,
        coalesce(f.response_id, f.source_record_id)                                           as complaint_ref,
        f.site,
        f.service,
        coalesce(f.complaint_category, 'Uncategorised')                                       as category,
        f.complaint_severity                                                                  as severity,
        f.complaint_status                                                                    as status,
        cast(timezone(coalesce(f.source_timezone, 'Europe/London'), coalesce(f.opened_at, f.received_at)) as date) as opened_date,
        cast(timezone(coalesce(f.source_timezone, 'Europe/London'), f.acknowledged_at) as date) as acknowledged_date,
        cast(timezone(coalesce(f.source_timezone, 'Europe/London'), f.closed_at) as date)       as closed_date,
        f.contact_count,
        f.handling_minutes,
        coalesce(sc.calendar_id, s.default_calendar)                                          as calendar_id,
        s.target_wd
    from staging.stg_raw__feedback as f
    cross join settings as s
    left join ops.source_calendar as sc on sc.source = f.source
    where f.channel = 'complaint'
),
history as (
    select
        feedback_id,
        complaint_status,
        lag(complaint_status) over (partition by feedback_id order by valid_from) as previous_status
    from staging.stg_raw__complaint_history
),
reopened as (
    select feedback_id, true as was_reopened
    from history
    group by feedback_id
    having bool_or(complaint_status = 'reopened' or (previous_status = 'closed' and complaint_status <> 'closed'))
),
clocked as (
    select
        c.*,
        a.as_of_date,
        o.working_day_index  as opened_idx,
        k.working_day_index  as acknowledged_idx,
        d.working_day_index  as closed_idx,
        n.working_day_index  as as_of_idx,
        coalesce(r.was_reopened, false) or c.status = 'reopened' as is_reopened
    from complaints as c
    cross join as_of as a
    left join ops.calendar as o on o.calendar_id = c.calendar_id and o.day = c.opened_date
    left join ops.calendar as k on k.calendar_id = c.calendar_id and k.day = c.acknowledged_date
    left join ops.calendar as d on d.calendar_id = c.calendar_id and d.day = c.closed_date
    left join ops.calendar as n on n.calendar_id = c.calendar_id and n.day = a.as_of_date
    left join reopened as r on r.feedback_id = c.feedback_id
)
select
    feedback_id, source, complaint_ref, site, service, category, severity, status, calendar_id,
    opened_date,
    cast(date_trunc('month', opened_date) as date)                     as opened_month,
    acknowledged_date,
    closed_date,
    cast(date_trunc('month', closed_date) as date)                     as closed_month,
    as_of_date,
    acknowledged_idx - opened_idx                                      as ack_working_days,
    case
        when acknowledged_date is not null then acknowledged_idx - opened_idx <= 3
        when as_of_idx - opened_idx > 3 then false
    end                                                                as is_ack_within_3wd,
    closed_date is not null                                            as is_resolved,
    closed_idx - opened_idx                                            as resolution_working_days,
    target_wd                                                          as resolution_target_working_days,
    case when closed_date is not null then closed_idx - opened_idx > target_wd end as is_over_target,
    contact_count,
    case when closed_date is not null and contact_count is not null then contact_count = 1 end as is_first_contact_resolution,
    handling_minutes,
    is_reopened,
    opened_idx is null                                                 as calendar_missing
from clocked;
