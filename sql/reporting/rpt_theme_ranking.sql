-- Themes ranked per month for the response team, three ways:
--   volume      comments on the theme in the month
--   negativity  share of the theme's clauses with negative aspect sentiment
--   momentum    z of the theme's share this month vs its pooled share in the 3 months before
--               (two-proportion z-test), with the change in percentage points
-- Ranks are 1 = most; suppressed cells (fewer than k comments, k = min_cell) are not ranked.
-- is_complaint_theme: half or more of the theme's comments (all time) came through complaints.
create or replace view reporting.rpt_theme_ranking as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
overall as (
    select * from published.fct_kpi_theme_monthly where scope_type = 'overall'
),
months as (
    select distinct month, total_comments from overall
),
complaint_share as (
    select theme_id,
           sum(comments) filter (where scope_value = 'complaint') * 1.0 / nullif(sum(comments), 0) as complaint_share
    from published.fct_kpi_theme_monthly
    where scope_type = 'channel'
    group by theme_id
),
with_baseline as (
    select
        o.*,
        (select sum(b.comments) from overall as b
          where b.theme_id = o.theme_id and b.month >= cast(o.month - interval 3 month as date) and b.month < o.month) as baseline_comments,
        (select sum(m.total_comments) from months as m
          where m.month >= cast(o.month - interval 3 month as date) and m.month < o.month)                           as baseline_total
    from overall as o
),
scored as (
    select
        w.*,
        w.comments < k.min_cell                                      as suppressed,
        1.0 * w.comments / w.total_comments                          as share,
        1.0 * coalesce(w.baseline_comments, 0) / nullif(w.baseline_total, 0) as baseline_share,
        case
            when w.baseline_total > 0 and (w.comments + coalesce(w.baseline_comments, 0)) < (w.total_comments + w.baseline_total) then
                (1.0 * w.comments / w.total_comments - 1.0 * coalesce(w.baseline_comments, 0) / w.baseline_total)
                / sqrt(
                    ((w.comments + coalesce(w.baseline_comments, 0)) * 1.0 / (w.total_comments + w.baseline_total))
                    * (1 - (w.comments + coalesce(w.baseline_comments, 0)) * 1.0 / (w.total_comments + w.baseline_total))
                    * (1.0 / w.total_comments + 1.0 / w.baseline_total))
        end                                                          as momentum_z
    from with_baseline as w
    cross join k
)
select
    s.theme_id,
    d.theme_label,
    d.category_name,
    d.theme_status,
    s.month,
    case when not s.suppressed then s.comments end                                 as comments,
    case when not s.suppressed then 100.0 * s.share end                            as share_pct,
    case when not s.suppressed then 100.0 * s.negative_clauses / s.clauses end     as negative_pct,
    case when not s.suppressed then s.mean_sentiment end                           as mean_sentiment,
    case when not s.suppressed then 100.0 * s.baseline_share end                   as baseline_share_pct,
    case when not s.suppressed then 100.0 * (s.share - s.baseline_share) end       as momentum_pct_points,
    case when not s.suppressed then s.momentum_z end                               as momentum_z,
    case when not s.suppressed then abs(s.momentum_z) >= 1.959963984540054 end     as momentum_significant,
    case when not s.suppressed then rank() over (partition by s.month, s.suppressed order by s.comments desc) end as rank_volume,
    case when not s.suppressed then rank() over (partition by s.month, s.suppressed
        order by 1.0 * s.negative_clauses / s.clauses desc, s.comments desc) end  as rank_negativity,
    case when not s.suppressed then rank() over (partition by s.month, s.suppressed
        order by coalesce(s.momentum_z, 0) desc, s.comments desc) end             as rank_momentum,
    coalesce(c.complaint_share, 0) >= 0.5                                          as is_complaint_theme,
    s.suppressed
from scored as s
left join published.dim_theme as d using (theme_id)
left join complaint_share as c using (theme_id)
order by s.month, s.suppressed, s.comments desc;
