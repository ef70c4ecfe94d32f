-- Key drivers of the latest insights run (enrich.key_drivers, see docs/insights.md): per level
-- (theme | category: theme_id 'category:<id>' = all themes of a taxonomy category), outcome
-- (fft_poor, nps_detractor) and scope (All, or one service), each theme's effect on the poor
-- outcome from a penalised logistic regression over survey responses:
--   importance      outcome rate attributable to the theme (0..1: 0.05 = 5 points of the
--                   outcome rate would go if the theme's negative mentions had not happened),
--                   with bootstrap CI importance_ci_low/high; rank 1 = largest importance
--   coef, ci_low, ci_high, odds_ratio, p_value, q_value   log-odds effect with its bootstrap CI
--   prevalence, n   share / number of the scope's responses carrying the theme
--   performance     mean rating (0..1) of the responses mentioning the theme (any sentiment):
--                   the x axis of an importance-vs-performance chart
--   is_significant  q_value <= drivers.alpha and the coefficient CI excludes 0
create or replace table marts.fct_key_drivers as
with latest as (
    select run_id, params_hash, coalesce(try_cast(json_extract_string(params, '$.drivers.alpha') as double), 0.05) as alpha
    from enrich.insight_runs
    order by finished_at desc nulls last, run_id desc
    limit 1
)
select
    k.run_id,
    k.outcome,
    k.scope_type,
    k.scope,
    k.rank,
    k.level,
    k.theme_id,
    coalesce(d.theme_label, c.name)                    as label,
    d.theme_label,
    coalesce(k.category_id, d.category_id)             as category_id,
    coalesce(c.name, d.category_name)                  as category_name,
    k.importance,
    k.importance_ci_low,
    k.importance_ci_high,
    k.importance_share,
    k.coef,
    k.ci_low,
    k.ci_high,
    k.odds_ratio,
    k.p_value,
    k.q_value,
    coalesce(k.q_value <= l.alpha and k.ci_low > 0, false) as is_significant,
    k.prevalence,
    k.n,
    k.mentions,
    k.outcome_rate_with,
    k.outcome_rate_without,
    k.performance,
    k.positive_share,
    k.n_scope,
    k.events,
    k.bootstrap_reps,
    k.method,
    l.params_hash
from enrich.key_drivers as k
join latest as l using (run_id)
left join marts.dim_theme as d using (theme_id)
left join enrich.theme_categories as c on c.category_id = coalesce(k.category_id, d.category_id);
