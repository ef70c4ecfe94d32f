-- Segment lift input: informative comments per segment (level and theme_id null) and comments
-- carrying each theme (level 'theme') or any theme of a taxonomy category with at least two
-- themes (level 'category', theme_id 'category:<category_id>'), counted twice: with any clause on it (comments_any) and
-- with a clause on it of negative aspect sentiment (comments_negative). Segments: site, service,
-- channel, weekday, hour_band, month. Hour bands use only sources that record a time of day (a
-- source whose every record is at 00:00 local time, e.g. complaints dated by day, has none).
-- Reads the intermediate views (see insights_month_counts.sql).
with base as (
    select
        feedback_id, source, site, service, channel, weekday, hour_of_day,
        cast(month as date) as period,
        cast(received_local as time) as local_time
    from intermediate.int_feedback_enriched
    where is_informative and received_local is not null
),
timed_sources as (
    select source from base group by source having bool_or(local_time <> time '00:00:00')
),
comments as (
    select
        b.*,
        case
            when b.source not in (select source from timed_sources) then null
            when b.hour_of_day < 6 then '00-06 night'
            when b.hour_of_day < 12 then '06-12 morning'
            when b.hour_of_day < 18 then '12-18 afternoon'
            else '18-24 evening'
        end as hour_band
    from base as b
),
mentions as (
    select * from intermediate.int_feedback_theme_mentions
),
segmented as (
    select c.feedback_id, s.segment_type, coalesce(s.segment_value, 'Unknown') as segment_value
    from comments as c
    cross join lateral (
        values ('site', c.site), ('service', c.service), ('channel', c.channel), ('weekday', c.weekday),
               ('hour_band', c.hour_band), ('month', strftime(c.period, '%Y-%m'))
    ) as s(segment_type, segment_value)
    where s.segment_type <> 'hour_band' or c.hour_band is not null
)
select
    cast(null as varchar) as level, cast(null as varchar) as theme_id, cast(null as varchar) as category_id,
    segment_type, segment_value, count(*) as comments_any, count(*) as comments_negative
from segmented
group by all
union all
select
    m.level, m.theme_id, m.category_id, s.segment_type, s.segment_value,
    count(*) as comments_any, count(*) filter (where m.negative) as comments_negative
from segmented as s
join mentions as m using (feedback_id)
group by all
