-- Theme trends: one row per (theme, period grain, period, segment), zero-filled over every
-- period in which the segment has informative comments, for the themes ever seen in it.
--   period_grain      month | week (ISO weeks starting Monday)
--   segment_type      all (segment_value 'All') | site | service | channel
--   comments          informative comments with at least one clause on the theme
--   total_comments    informative comments in the cell (the share's denominator)
--   share             comments / total_comments
--   negative_comments comments with a negative clause on the theme; negative_share over total
--   *_clauses, mean_sentiment   clause-level (aspect) sentiment of the theme's clauses
--   complaint_comments   the theme's comments that are complaints (themed by the same stage);
--   complaint_share      complaint_comments / comments; share_of_complaints: of all informative
--                        complaints in the cell, the share on the theme
--   is_complete       the period ends on or before the last day with data (false = partial)
-- Unsuppressed: reports apply small-cell suppression (k = min_cell) on top.
create or replace table marts.fct_theme_trends as
with comments as (
    select feedback_id, channel, site, service, cast(month as date) as month, cast(week as date) as week
    from marts.fct_feedback
    where is_informative and month is not null
),
as_of as (
    select max(cast(received_local as date)) as as_of_date from marts.fct_feedback
),
cells_of_comments as (
    select c.feedback_id, c.channel, p.period_grain, p.period, s.segment_type, coalesce(s.segment_value, 'Unknown') as segment_value
    from comments as c
    cross join lateral (values ('month', c.month), ('week', c.week)) as p(period_grain, period)
    cross join lateral (values ('all', 'All'), ('site', c.site), ('service', c.service), ('channel', c.channel))
        as s(segment_type, segment_value)
),
totals as (
    select
        period_grain, period, segment_type, segment_value,
        count(*)                                          as total_comments,
        count(*) filter (where channel = 'complaint')     as total_complaints
    from cells_of_comments
    group by all
),
pairs as (
    -- One row per (comment, theme): what the cells add up. A comment sits in 8 cells (2 grains x 4
    -- segments), so counting its clauses once here, not once per cell, keeps the join small and
    -- needs no count(distinct). Scores are summed as DECIMAL(38, 18): exact, so the sum is the
    -- same in any row order without sorting each group (at 100k records 4.0 s -> 1.5 s).
    select
        t.feedback_id,
        t.theme_id,
        count(*)                                                  as clauses,
        count(*) filter (where t.aspect_sentiment3 = 'positive')  as positive_clauses,
        count(*) filter (where t.aspect_sentiment3 = 'neutral')   as neutral_clauses,
        count(*) filter (where t.aspect_sentiment3 = 'negative')  as negative_clauses,
        -- (a score that is not a finite number, never written by the scorer, is left out of the mean)
        sum(cast(case when isfinite(t.aspect_score) then t.aspect_score end as decimal(38, 18))) as score_sum,
        count(t.aspect_score) filter (where isfinite(t.aspect_score))                        as scored
    from marts.fct_feedback_theme as t
    semi join comments as c using (feedback_id)
    where t.theme_id is not null
    group by all
),
theme_cells as (
    select
        p.theme_id, c.period_grain, c.period, c.segment_type, c.segment_value,
        count(*)                                                       as comments,
        count(*) filter (where p.negative_clauses > 0)                 as negative_comments,
        count(*) filter (where c.channel = 'complaint')                as complaint_comments,
        cast(sum(p.clauses) as bigint)                                 as clauses,
        cast(sum(p.positive_clauses) as bigint)                        as positive_clauses,
        cast(sum(p.neutral_clauses) as bigint)                         as neutral_clauses,
        cast(sum(p.negative_clauses) as bigint)                        as negative_clauses,
        -- the mean of the cell's clause scores: an exact sum, so any row order gives the same bits
        cast(sum(p.score_sum) as double) / sum(p.scored)               as mean_sentiment
    from cells_of_comments as c
    join pairs as p using (feedback_id)
    group by all
),
theme_segments as (
    select distinct theme_id, segment_type, segment_value from theme_cells
),
grid as (
    select s.theme_id, t.*
    from theme_segments as s
    join totals as t using (segment_type, segment_value)
)
select
    g.theme_id,
    d.theme_label,
    d.category_id,
    d.category_name,
    g.period_grain,
    g.period,
    g.segment_type,
    g.segment_value,
    coalesce(c.comments, 0)                                                  as comments,
    g.total_comments,
    coalesce(c.comments, 0) / g.total_comments                               as share,
    coalesce(c.negative_comments, 0)                                         as negative_comments,
    coalesce(c.negative_comments, 0) / g.total_comments                      as negative_share,
    coalesce(c.clauses, 0)                                                   as clauses,
    coalesce(c.positive_clauses, 0)                                          as positive_clauses,
    coalesce(c.neutral_clauses, 0)                                           as neutral_clauses,
    coalesce(c.negative_clauses, 0)                                          as negative_clauses,
    c.mean_sentiment,
    coalesce(c.complaint_comments, 0)                                        as complaint_comments,
    g.total_complaints,
    case when c.comments > 0 then c.complaint_comments / c.comments end      as complaint_share,
    case when g.total_complaints > 0 then coalesce(c.complaint_comments, 0) / g.total_complaints end as share_of_complaints,
    case g.period_grain
        when 'month' then g.period + interval 1 month - interval 1 day
        else g.period + interval 6 day
    end <= a.as_of_date                                                      as is_complete
from grid as g
cross join as_of as a
left join theme_cells as c using (theme_id, period_grain, period, segment_type, segment_value)
left join marts.dim_theme as d using (theme_id);
