-- "You said, we did": every recorded improvement action with its measured effect on its theme
-- in its segment, before vs after the start date (windows in published.fct_kpi_action_effect).
--   share_*_pct      theme comments / informative comments in the segment and window
--   share_z          two-proportion z-test of after vs before (negative = mentioned less)
--   sentiment_z      Welch z of the theme's mean aspect sentiment after vs before
--   verdict          not started yet | too early to tell (under 28 days of data after the start,
--                    or fewer than 30 segment comments in either window) | theme mentioned less
--                    (significant) | theme mentioned more (significant) | sentiment improved
--                    (significant) | sentiment worsened (significant) | no significant change yet
-- Shares resting on 1..k-1 theme comments and sentiment means on fewer than k clauses are
-- suppressed (k = min_cell). A share of 0 is shown: it points at nobody.
create or replace view reporting.rpt_actions as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
effect as (
    select
        e.*,
        1.0 * e.theme_comments_before / nullif(e.segment_comments_before, 0) as share_before,
        1.0 * e.theme_comments_after / nullif(e.segment_comments_after, 0)   as share_after
    from published.fct_kpi_action_effect as e
),
tested as (
    select
        *,
        case
            when segment_comments_before > 0 and segment_comments_after > 0
                 and theme_comments_before + theme_comments_after > 0
                 and theme_comments_before + theme_comments_after < segment_comments_before + segment_comments_after then
                (share_after - share_before)
                / sqrt(
                    ((theme_comments_before + theme_comments_after) * 1.0 / (segment_comments_before + segment_comments_after))
                    * (1 - (theme_comments_before + theme_comments_after) * 1.0 / (segment_comments_before + segment_comments_after))
                    * (1.0 / segment_comments_before + 1.0 / segment_comments_after))
        end as share_z,
        case
            when theme_clauses_before > 1 and theme_clauses_after > 1 then
                (mean_sentiment_after - mean_sentiment_before)
                / nullif(sqrt(power(sd_sentiment_before, 2) / theme_clauses_before
                              + power(sd_sentiment_after, 2) / theme_clauses_after), 0)
        end as sentiment_z,
        window_days = 0 as not_started,
        window_days < 28 or segment_comments_before < 30 or segment_comments_after < 30 as too_early
    from effect
)
select
    t.action_id,
    t.theme_id,
    d.theme_label,
    coalesce(t.site, 'All sites')        as site,
    coalesce(t.service, 'All services')  as service,
    t.start_date, t.end_date, t.description, t.owner, t.status, t.recorded_by, t.recorded_at,
    t.as_of_date, t.window_days, t.before_from, t.after_to,
    t.segment_comments_before, t.segment_comments_after,
    case when t.theme_comments_before = 0 or t.theme_comments_before >= k.min_cell then 100.0 * t.share_before end as share_before_pct,
    case when t.theme_comments_after = 0 or t.theme_comments_after >= k.min_cell then 100.0 * t.share_after end   as share_after_pct,
    case when (t.theme_comments_before = 0 or t.theme_comments_before >= k.min_cell)
          and (t.theme_comments_after = 0 or t.theme_comments_after >= k.min_cell)
         then 100.0 * (t.share_after - t.share_before) end                                                      as share_change_pct_points,
    case when (t.theme_comments_before = 0 or t.theme_comments_before >= k.min_cell)
          and (t.theme_comments_after = 0 or t.theme_comments_after >= k.min_cell) then t.share_z end as share_z,
    case when t.theme_clauses_before >= k.min_cell then t.mean_sentiment_before end as mean_sentiment_before,
    case when t.theme_clauses_after >= k.min_cell then t.mean_sentiment_after end   as mean_sentiment_after,
    case when t.theme_clauses_before >= k.min_cell and t.theme_clauses_after >= k.min_cell then t.sentiment_z end as sentiment_z,
    case
        when t.not_started then 'not started yet'
        when t.too_early then 'too early to tell'
        when abs(t.share_z) >= 1.959963984540054 and t.share_z < 0 then 'theme mentioned less (significant)'
        when abs(t.share_z) >= 1.959963984540054 then 'theme mentioned more (significant)'
        when t.theme_clauses_before >= k.min_cell and t.theme_clauses_after >= k.min_cell
             and abs(t.sentiment_z) >= 1.959963984540054 and t.sentiment_z > 0 then 'sentiment improved (significant)'
        when t.theme_clauses_before >= k.min_cell and t.theme_clauses_after >= k.min_cell
             and abs(t.sentiment_z) >= 1.959963984540054 then 'sentiment worsened (significant)'
        else 'no significant change yet'
    end as verdict
from tested as t
cross join k
left join published.dim_theme as d using (theme_id)
order by t.start_date desc, t.action_id;
