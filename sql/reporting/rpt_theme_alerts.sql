-- Emerging-theme alerts of the latest insights run (pipelines/insights.py writes
-- enrich.theme_alerts): a theme whose share in a period (and segment) rose above its baseline,
-- with p and q (false-discovery-rate adjusted) values, lift and redacted example quotes.
-- The latest run is the newest run_id in any insights table, so a run that raised no alert
-- shows none. Alerts on fewer than k comments (k = min_cell) are suppressed: count, share and
-- quotes are null.
create or replace view reporting.rpt_theme_alerts as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
latest as (
    select max(run_id) as run_id from (
        select run_id from enrich.theme_alerts
        union all select run_id from enrich.key_drivers
        union all select run_id from enrich.segment_lift
    )
)
select
    a.run_id,
    a.theme_id,
    d.theme_label,
    d.category_name,
    a.segment_type,
    a.segment_value,
    a.period,
    case when a.count >= k.min_cell then a.count end  as count,
    case when a.count >= k.min_cell then a.share end  as share,
    a.baseline_share,
    a.lift,
    a.p_value,
    a.q_value,
    case when a.count >= k.min_cell then a.quotes end as quotes,
    a.method,
    coalesce(a.count, 0) < k.min_cell                 as suppressed
from enrich.theme_alerts as a
join latest as l on a.run_id = l.run_id
cross join k
left join marts.dim_theme as d on d.theme_id = a.theme_id
order by a.period desc, a.q_value nulls last, a.p_value nulls last;
