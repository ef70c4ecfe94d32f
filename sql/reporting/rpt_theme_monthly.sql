-- Each theme per month (all sites): comments, share of the month's informative comments,
-- clause-level aspect sentiment shares and mean, with p-chart control limits for the share
-- (centre = pooled share over the theme's unsuppressed months, limits = +/- 3 sigma for the
-- month's denominator, above_upper_limit / outside_limits flag special causes).
-- Cells with fewer than k comments are suppressed (k = min_cell).
create or replace view reporting.rpt_theme_monthly as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
cells as (
    select m.*, m.comments < k.min_cell as suppressed
    from published.fct_kpi_theme_monthly as m
    cross join k
    where m.scope_type = 'overall'
),
centres as (
    select theme_id, sum(comments) * 1.0 / nullif(sum(total_comments), 0) as pooled_share
    from cells
    where not suppressed
    group by theme_id
)
select
    c.theme_id,
    d.theme_label,
    d.category_name,
    c.month,
    case when not c.suppressed then c.comments end                                as comments,
    case when not c.suppressed then c.total_comments end                          as total_comments,
    case when not c.suppressed then 100.0 * c.comments / c.total_comments end     as share_pct,
    case when not c.suppressed then 100.0 * c.positive_clauses / c.clauses end    as positive_pct,
    case when not c.suppressed then 100.0 * c.neutral_clauses / c.clauses end     as neutral_pct,
    case when not c.suppressed then 100.0 * c.negative_clauses / c.clauses end    as negative_pct,
    case when not c.suppressed then c.mean_sentiment end                          as mean_sentiment,
    100.0 * m.pooled_share                                                        as share_centre_pct,
    least(100.0, 100.0 * (m.pooled_share + 3 * sqrt(m.pooled_share * (1 - m.pooled_share) / c.total_comments))) as share_upper_pct,
    greatest(0.0, 100.0 * (m.pooled_share - 3 * sqrt(m.pooled_share * (1 - m.pooled_share) / c.total_comments))) as share_lower_pct,
    not c.suppressed
        and 1.0 * c.comments / c.total_comments > m.pooled_share + 3 * sqrt(m.pooled_share * (1 - m.pooled_share) / c.total_comments) as above_upper_limit,
    not c.suppressed
        and abs(1.0 * c.comments / c.total_comments - m.pooled_share) > 3 * sqrt(m.pooled_share * (1 - m.pooled_share) / c.total_comments) as outside_limits,
    c.suppressed
from cells as c
left join centres as m using (theme_id)
left join published.dim_theme as d using (theme_id)
order by c.theme_id, c.month;
