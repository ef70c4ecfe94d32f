-- "You said, we did": each recorded action's theme share and theme sentiment before vs after
-- its start, in the action's segment (site and/or service, null = all).
-- Windows are symmetric: after = [start, start + w), before = [start - w, start), where
-- w = least(90, days of data from the start to the as-of date, the last day with feedback).
-- A future action (start after the as-of date) has w = 0 and empty windows.
--   segment_comments_*  informative comments in the segment and window (share denominator)
--   theme_comments_*    of those, comments with a clause on the action's theme
--   theme_clauses_*, mean_/sd_sentiment_*  aspect sentiment of the theme's clauses
create or replace table marts.fct_kpi_action_effect as
with as_of as (
    select max(cast(received_local as date)) as as_of_date from marts.fct_feedback
),
actions as (
    select
        a.*,
        o.as_of_date,
        greatest(least(90, datediff('day', a.start_date, o.as_of_date) + 1), 0) as window_days
    from ops.actions as a
    cross join as_of as o
),
windows as (
    select
        *,
        start_date - cast(window_days as integer)  as before_from,
        start_date + cast(window_days as integer)  as after_to
    from actions
),
comments as (
    select feedback_id, cast(received_local as date) as day, site, service
    from marts.fct_feedback
    where coalesce(is_informative, text_redacted is not null)
),
segment_counts as (
    select
        w.action_id,
        count(*) filter (where c.day >= w.before_from and c.day < w.start_date) as segment_comments_before,
        count(*) filter (where c.day >= w.start_date and c.day < w.after_to)    as segment_comments_after
    from windows as w
    left join comments as c
        on (w.site is null or c.site = w.site)
       and (w.service is null or c.service = w.service)
       and c.day >= w.before_from and c.day < w.after_to
    group by w.action_id
),
theme_clauses as (
    select
        w.action_id,
        t.feedback_id,
        t.aspect_score,
        cast(t.received_local as date) >= w.start_date as is_after
    from windows as w
    join marts.fct_feedback_theme as t
        on t.theme_id = w.theme_id
       and (w.site is null or t.site = w.site)
       and (w.service is null or t.service = w.service)
       and cast(t.received_local as date) >= w.before_from
       and cast(t.received_local as date) < w.after_to
),
theme_counts as (
    select
        action_id,
        count(distinct feedback_id) filter (where not is_after) as theme_comments_before,
        count(distinct feedback_id) filter (where is_after)     as theme_comments_after,
        count(*) filter (where not is_after)                    as theme_clauses_before,
        count(*) filter (where is_after)                        as theme_clauses_after,
        avg(aspect_score order by aspect_score) filter (where not is_after)         as mean_sentiment_before,
        avg(aspect_score order by aspect_score) filter (where is_after)         as mean_sentiment_after,
        stddev_samp(aspect_score order by aspect_score) filter (where not is_after)   as sd_sentiment_before,
        stddev_samp(aspect_score order by aspect_score) filter (where is_after)     as sd_sentiment_after
    from theme_clauses
    group by action_id
)
select
    w.action_id, w.theme_id, w.site, w.service, w.start_date, w.end_date, w.description, w.owner, w.status,
    w.recorded_by, w.recorded_at, w.as_of_date, w.window_days, w.before_from, w.after_to,
    coalesce(s.segment_comments_before, 0) as segment_comments_before,
    coalesce(s.segment_comments_after, 0)  as segment_comments_after,
    coalesce(t.theme_comments_before, 0)   as theme_comments_before,
    coalesce(t.theme_comments_after, 0)    as theme_comments_after,
    coalesce(t.theme_clauses_before, 0)    as theme_clauses_before,
    coalesce(t.theme_clauses_after, 0)     as theme_clauses_after,
    t.mean_sentiment_before, t.mean_sentiment_after, t.sd_sentiment_before, t.sd_sentiment_after
from windows as w
left join segment_counts as s using (action_id)
left join theme_counts as t using (action_id);
