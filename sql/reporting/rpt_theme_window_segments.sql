-- Where each theme is concentrated over windows of whole months (calendar quarters, rolling
-- "last N months"; see rpt_kpi_window_cells), as rpt_theme_segments does per month: the theme's
-- share of informative comments in a segment (site, service or channel) against its share
-- across all segments, and the lift. Cells with fewer than k theme comments or fewer than k
-- comments in the segment are suppressed (k = min_cell). One-month windows equal
-- rpt_theme_segments.
create or replace view reporting.rpt_theme_window_segments as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
windows as (
    select distinct l.window_months, cast(m.month as date) as window_end,
           cast(m.month - to_months(l.window_months - 1) as date) as window_start
    from published.fct_kpi_theme_monthly as m
    cross join range(1, 13) as l(window_months)
),
segment_totals as (
    -- every theme row of a month and segment carries the segment's total: take it once
    select w.window_end, w.window_months, t.scope_type, t.scope_value, sum(t.total_comments) as total_comments
    from (
        select month, scope_type, scope_value, max(total_comments) as total_comments
        from published.fct_kpi_theme_monthly
        group by all
    ) as t
    join windows as w on t.month between w.window_start and w.window_end
    group by all
),
summed as (
    select
        m.theme_id, w.window_end, w.window_months, w.window_start, m.scope_type, m.scope_value,
        sum(m.comments)         as comments,
        any_value(t.total_comments) as total_comments,
        sum(m.clauses)          as clauses,
        sum(m.negative_clauses) as negative_clauses
    from published.fct_kpi_theme_monthly as m
    join windows as w on m.month between w.window_start and w.window_end
    join segment_totals as t using (window_end, window_months, scope_type, scope_value)
    group by m.theme_id, w.window_end, w.window_months, w.window_start, m.scope_type, m.scope_value
),
overall as (
    select theme_id, window_end, window_months, 1.0 * comments / total_comments as overall_share
    from summed
    where scope_type = 'overall'
)
select
    s.theme_id,
    d.theme_label,
    s.window_end,
    s.window_months,
    s.window_start,
    s.scope_type                                                              as segment_type,
    s.scope_value                                                             as segment_value,
    case when not sup.suppressed then s.comments end                          as comments,
    case when not sup.suppressed then s.total_comments end                    as segment_comments,
    case when not sup.suppressed then 100.0 * s.comments / s.total_comments end as share_in_segment_pct,
    100.0 * o.overall_share                                                   as overall_share_pct,
    case when not sup.suppressed then (1.0 * s.comments / s.total_comments) / nullif(o.overall_share, 0) end as lift,
    case when not sup.suppressed then 100.0 * s.negative_clauses / s.clauses end as negative_pct,
    sup.suppressed
from summed as s
cross join k
cross join lateral (select s.comments < k.min_cell or s.total_comments < k.min_cell as suppressed) as sup
left join overall as o using (theme_id, window_end, window_months)
left join published.dim_theme as d using (theme_id)
where s.scope_type <> 'overall'
order by s.window_months, s.window_end, s.theme_id, s.scope_type, lift desc nulls last;
