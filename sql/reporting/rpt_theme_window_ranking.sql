-- Themes ranked over windows of whole months (calendar quarters, rolling "last N months"; see
-- rpt_kpi_window_cells for windows), the three ways of rpt_theme_ranking:
--   volume      comments on the theme in the window
--   negativity  share of the theme's clauses with negative aspect sentiment
--   momentum    z of the theme's share in the window vs its pooled share in the three windows
--               of equal length before it (two-proportion z-test), with the change in points
-- plus the window's aspect-sentiment shares (positive / neutral / negative % of clauses).
-- Ranks are 1 = most; cells with fewer than k comments (k = min_cell) are suppressed and not
-- ranked. One-month windows equal rpt_theme_ranking (tests/unit/test_report_periods.py).
create or replace view reporting.rpt_theme_window_ranking as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
overall as (
    select * from published.fct_kpi_theme_monthly where scope_type = 'overall'
),
months as (
    select month, max(total_comments) as total_comments from overall group by month
),
lengths as (
    select l.window_months, cast(m.month as date) as window_end,
           cast(m.month - to_months(l.window_months - 1) as date) as window_start
    from months as m
    cross join range(1, 13) as l(window_months)
),
windows as (
    select
        w.*,
        (select sum(t.total_comments) from months as t where t.month between w.window_start and w.window_end) as total_comments,
        (select sum(t.total_comments) from months as t
          where t.month >= cast(w.window_start - to_months(3 * w.window_months) as date) and t.month < w.window_start) as baseline_total
    from lengths as w
),
cells as (
    select
        o.theme_id, w.window_end, w.window_months, w.window_start, w.total_comments, w.baseline_total,
        sum(o.comments) filter (where o.month between w.window_start and w.window_end)          as comments,
        sum(o.comments) filter (where o.month >= cast(w.window_start - to_months(3 * w.window_months) as date)
                                  and o.month < w.window_start)                                 as baseline_comments,
        sum(o.clauses) filter (where o.month between w.window_start and w.window_end)           as clauses,
        sum(o.positive_clauses) filter (where o.month between w.window_start and w.window_end)  as positive_clauses,
        sum(o.neutral_clauses) filter (where o.month between w.window_start and w.window_end)   as neutral_clauses,
        sum(o.negative_clauses) filter (where o.month between w.window_start and w.window_end)  as negative_clauses,
        sum(o.mean_sentiment * o.clauses order by o.mean_sentiment * o.clauses) filter (where o.month between w.window_start and w.window_end)
            / sum(o.clauses) filter (where o.month between w.window_start and w.window_end)     as mean_sentiment,
        any_value(o.mean_sentiment) filter (where o.month = w.window_end)                       as month_mean_sentiment
    from overall as o
    join windows as w
      on o.month >= cast(w.window_start - to_months(3 * w.window_months) as date) and o.month <= w.window_end
    group by all
    having sum(o.comments) filter (where o.month between w.window_start and w.window_end) > 0
),
complaint_share as (
    select theme_id,
           sum(comments) filter (where scope_value = 'complaint') * 1.0 / nullif(sum(comments), 0) as complaint_share
    from published.fct_kpi_theme_monthly
    where scope_type = 'channel'
    group by theme_id
),
scored as (
    select
        c.*,
        case when c.window_months = 1 then c.month_mean_sentiment else c.mean_sentiment end as window_mean_sentiment,
        c.comments < k.min_cell                                              as suppressed,
        1.0 * c.comments / c.total_comments                                  as share,
        1.0 * coalesce(c.baseline_comments, 0) / nullif(c.baseline_total, 0) as baseline_share,
        case
            when c.baseline_total > 0 and (c.comments + coalesce(c.baseline_comments, 0)) < (c.total_comments + c.baseline_total) then
                (1.0 * c.comments / c.total_comments - 1.0 * coalesce(c.baseline_comments, 0) / c.baseline_total)
                / sqrt(
                    ((c.comments + coalesce(c.baseline_comments, 0)) * 1.0 / (c.total_comments + c.baseline_total))
                    * (1 - (c.comments + coalesce(c.baseline_comments, 0)) * 1.0 / (c.total_comments + c.baseline_total))
                    * (1.0 / c.total_comments + 1.0 / c.baseline_total))
        end                                                                  as momentum_z
    from cells as c
    cross join k
)
select
    s.theme_id,
    d.theme_label,
    d.category_name,
    d.theme_status,
    s.window_end,
    s.window_months,
    s.window_start,
    case when not s.suppressed then s.comments end                                 as comments,
    case when not s.suppressed then 100.0 * s.share end                            as share_pct,
    case when not s.suppressed then 100.0 * s.positive_clauses / s.clauses end     as positive_pct,
    case when not s.suppressed then 100.0 * s.neutral_clauses / s.clauses end      as neutral_pct,
    case when not s.suppressed then 100.0 * s.negative_clauses / s.clauses end     as negative_pct,
    case when not s.suppressed then s.window_mean_sentiment end                    as mean_sentiment,
    case when not s.suppressed then 100.0 * s.baseline_share end                   as baseline_share_pct,
    case when not s.suppressed then 100.0 * (s.share - s.baseline_share) end       as momentum_pct_points,
    case when not s.suppressed then s.momentum_z end                               as momentum_z,
    case when not s.suppressed then abs(s.momentum_z) >= 1.959963984540054 end     as momentum_significant,
    case when not s.suppressed then rank() over (partition by s.window_end, s.window_months, s.suppressed
        order by s.comments desc) end                                              as rank_volume,
    case when not s.suppressed then rank() over (partition by s.window_end, s.window_months, s.suppressed
        order by 1.0 * s.negative_clauses / s.clauses desc, s.comments desc) end  as rank_negativity,
    case when not s.suppressed then rank() over (partition by s.window_end, s.window_months, s.suppressed
        order by coalesce(s.momentum_z, 0) desc, s.comments desc) end             as rank_momentum,
    coalesce(c.complaint_share, 0) >= 0.5                                          as is_complaint_theme,
    s.suppressed
from scored as s
left join published.dim_theme as d using (theme_id)
left join complaint_share as c using (theme_id)
order by s.window_months, s.window_end, s.suppressed, s.comments desc;
