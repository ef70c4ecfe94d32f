-- Emerging themes input: informative comments per (segment, month) (level and theme_id null)
-- and comments carrying each theme (level 'theme') or any theme of a taxonomy category (level
-- 'category', theme_id 'category:<category_id>'; themes mapped to 'new' have no category, and a
-- category with a single theme is left out as it would repeat that theme), for the segments
-- all / site / service / channel. Unit: informative comment; a comment counts once per theme
-- (category) however many of its clauses carry it; negative_comments = those with a clause on it
-- of negative aspect sentiment (tells a rising complaint from rising praise). Every count is
-- split by stratum (source / site / service): a month is compared with its baseline only over
-- the strata that contribute to both (pipelines/insights/emerging.py), so a source that starts
-- or stops sending comments is reported as a new or stopped source, not as an emerging theme.
-- Reads the intermediate views, not the marts tables: the insights run inside the theme stage,
-- before the marts are rebuilt with this run's theme assignments.
with comments as (
    select
        feedback_id, site, service, channel, cast(month as date) as period,
        coalesce(source, 'Unknown source') || ' / ' || coalesce(site, 'Unknown site') || ' / '
            || coalesce(service, 'Unknown service') as stratum
    from intermediate.int_feedback_enriched
    where is_informative and month is not null
),
mentions as (
    select * from intermediate.int_feedback_theme_mentions
),
segmented as (
    select c.feedback_id, c.period, c.stratum, s.segment_type, coalesce(s.segment_value, 'Unknown') as segment_value
    from comments as c
    cross join lateral (values ('all', 'All'), ('site', c.site), ('service', c.service), ('channel', c.channel))
        as s(segment_type, segment_value)
)
select
    cast(null as varchar) as level, cast(null as varchar) as theme_id, cast(null as varchar) as category_id,
    segment_type, segment_value, stratum, period, count(*) as comments, count(*) as negative_comments
from segmented
group by all
union all
select
    m.level, m.theme_id, m.category_id, s.segment_type, s.segment_value, s.stratum, s.period,
    count(*) as comments, count(*) filter (where m.negative) as negative_comments
from segmented as s
join mentions as m using (feedback_id)
group by all
