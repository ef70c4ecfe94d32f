-- Emerging-theme alerts of the latest insights run (published.fct_theme_alerts, written by
-- pipelines/insights.py, see docs/insights.md): a theme whose share of a segment's informative
-- comments in a month rose above its trailing baseline beyond chance (one-sided test,
-- Benjamini-Hochberg q-value; family_size = comparisons corrected for), with lift and redacted
-- example quotes (json list). A run that raised no alert shows none.
-- Alerts on fewer than k comments (k = ops.report_settings 'min_cell') are suppressed: count,
-- total, share and quotes are null.
create or replace view reporting.rpt_theme_alerts as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
)
select
    a.run_id,
    a.theme_id,
    a.level,
    a.label as theme_label,
    a.category_name,
    a.segment_type,
    a.segment_value,
    a.period,
    case when a.count >= k.min_cell then a.count end  as count,
    case when a.count >= k.min_cell then a.total end  as total,
    case when a.count >= k.min_cell then a.share end  as share,
    a.baseline_share,
    a.lift,
    a.p_value,
    a.q_value,
    a.family_size,
    case when a.count >= k.min_cell then a.quotes end as quotes,
    a.method,
    coalesce(a.count, 0) < k.min_cell                 as suppressed
from published.fct_theme_alerts as a
cross join k
order by a.period desc, a.q_value nulls last, a.p_value nulls last;
