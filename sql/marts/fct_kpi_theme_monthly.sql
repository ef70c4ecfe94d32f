-- Theme volume, share and aspect sentiment per calendar month and scope, unsuppressed
-- (the reporting views rpt_theme_monthly, rpt_theme_segments and rpt_theme_ranking apply k).
--   scope_type      overall (scope_value 'All') | site | service | channel
--   comments        distinct comments with at least one clause on the theme
--   total_comments  informative comments in the same month and scope (the share's denominator)
--   *_clauses       clause-level (aspect) sentiment of the theme's clauses
create or replace table marts.fct_kpi_theme_monthly as
with clauses as (
    select t.*, cast(t.month as date) as month_date, s.scope_type, s.scope_value
    from marts.fct_feedback_theme as t
    cross join lateral (values ('overall', 'All'), ('site', t.site), ('service', t.service), ('channel', t.channel))
        as s(scope_type, scope_value)
),
cells as (
    select
        theme_id,
        month_date                                                 as month,
        scope_type,
        coalesce(scope_value, 'Unknown')                           as scope_value,
        count(distinct feedback_id)                                as comments,
        count(*)                                                   as clauses,
        count(*) filter (where aspect_sentiment3 = 'positive')     as positive_clauses,
        count(*) filter (where aspect_sentiment3 = 'neutral')      as neutral_clauses,
        count(*) filter (where aspect_sentiment3 = 'negative')     as negative_clauses,
        avg(aspect_score order by aspect_score)                    as mean_sentiment,
        stddev_samp(aspect_score order by aspect_score)            as sd_sentiment
    from clauses
    where month_date is not null
    group by all
),
totals as (
    select cast(f.month as date) as month, s.scope_type, coalesce(s.scope_value, 'Unknown') as scope_value,
           count(*) as total_comments
    from marts.fct_feedback as f
    cross join lateral (values ('overall', 'All'), ('site', f.site), ('service', f.service), ('channel', f.channel))
        as s(scope_type, scope_value)
    where coalesce(f.is_informative, f.text_redacted is not null) and f.month is not null
    group by all
)
select
    c.*,
    greatest(coalesce(t.total_comments, 0), c.comments)            as total_comments
from cells as c
left join totals as t using (month, scope_type, scope_value);
