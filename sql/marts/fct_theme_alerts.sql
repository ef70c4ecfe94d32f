-- Emerging-theme alerts of the latest insights run (enrich.theme_alerts, see docs/insights.md):
-- a theme whose share of a segment's informative comments in a month rose above its trailing
-- baseline beyond chance (one-sided test, Benjamini-Hochberg q <= alpha, minimum counts, minimum
-- lift). family_size = comparisons corrected for; negative_share = share of the month's theme
-- comments with a negative clause on it (a rising complaint, or rising praise). level = theme |
-- category (theme_id 'category:<id>': all themes of that taxonomy category together); label =
-- the theme label or the category name. Quotes are redacted clauses (json list): escape them.
create or replace table marts.fct_theme_alerts as
with latest as (
    select run_id, params_hash from enrich.insight_runs order by finished_at desc nulls last, run_id desc limit 1
)
select
    a.run_id,
    a.level,
    a.theme_id,
    coalesce(d.theme_label, c.name)                    as label,
    d.theme_label,
    coalesce(a.category_id, d.category_id)             as category_id,
    coalesce(c.name, d.category_name)                  as category_name,
    a.segment_type,
    a.segment_value,
    a.period,
    a.count,
    a.total,
    a.share,
    a.baseline_share,
    a.baseline_count,
    a.baseline_total,
    a.baseline_from,
    a.baseline_to,
    a.increase,
    a.negative_share,
    a.lift,
    a.ci_low,
    a.dispersion,
    a.p_exact,
    a.p_value,
    a.q_value,
    a.family_size,
    a.quotes,
    a.method,
    l.params_hash
from enrich.theme_alerts as a
join latest as l using (run_id)
left join marts.dim_theme as d using (theme_id)
left join enrich.theme_categories as c on c.category_id = coalesce(a.category_id, d.category_id);
