-- Where each theme is concentrated, per month: the theme's share of informative comments in a
-- segment (site, service or channel) against its share across all segments, and the lift
-- (ratio of the two). Cells with fewer than k theme comments or fewer than k comments in the
-- segment are suppressed (k = min_cell). The insights stage's significance-tested lifts are
-- in the view rpt_segment_lift.
create or replace view reporting.rpt_theme_segments as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
segments as (
    select * from published.fct_kpi_theme_monthly where scope_type <> 'overall'
),
overall as (
    select theme_id, month, 1.0 * comments / total_comments as overall_share
    from published.fct_kpi_theme_monthly
    where scope_type = 'overall'
)
select
    s.theme_id,
    d.theme_label,
    s.month,
    s.scope_type                                                              as segment_type,
    s.scope_value                                                             as segment_value,
    case when not sup.suppressed then s.comments end                          as comments,
    case when not sup.suppressed then s.total_comments end                    as segment_comments,
    case when not sup.suppressed then 100.0 * s.comments / s.total_comments end as share_in_segment_pct,
    100.0 * o.overall_share                                                   as overall_share_pct,
    case when not sup.suppressed then (1.0 * s.comments / s.total_comments) / nullif(o.overall_share, 0) end as lift,
    case when not sup.suppressed then 100.0 * s.negative_clauses / s.clauses end as negative_pct,
    sup.suppressed
from segments as s
cross join k
cross join lateral (select s.comments < k.min_cell or s.total_comments < k.min_cell as suppressed) as sup
left join overall as o using (theme_id, month)
left join published.dim_theme as d using (theme_id)
order by s.month, s.theme_id, s.scope_type, lift desc nulls last;
