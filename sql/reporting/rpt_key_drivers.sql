-- Key drivers of the latest insights run (published.fct_key_drivers, see docs/insights.md): per
-- outcome (fft_poor, nps_detractor) and scope (All, or one service), each theme's effect on the
-- poor outcome: importance (share of the outcome rate attributable to the theme, with its
-- bootstrap interval), log-odds coefficient with its interval, odds ratio, p and q values,
-- prevalence (share of responses carrying the theme) and performance (mean rating 0..1 of the
-- responses mentioning the theme): the axes of the importance-vs-performance chart.
-- Rows resting on fewer than k responses (k = min_cell) are suppressed.
create or replace view reporting.rpt_key_drivers as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
)
select
    kd.run_id,
    kd.outcome,
    kd.scope_type,
    kd.scope,
    kd.rank,
    kd.theme_id,
    kd.level,
    kd.label as theme_label,
    kd.category_name,
    case when kd.n >= k.min_cell then kd.importance end         as importance,
    case when kd.n >= k.min_cell then kd.importance_ci_low end  as importance_ci_low,
    case when kd.n >= k.min_cell then kd.importance_ci_high end as importance_ci_high,
    case when kd.n >= k.min_cell then kd.coef end               as coef,
    case when kd.n >= k.min_cell then kd.ci_low end             as ci_low,
    case when kd.n >= k.min_cell then kd.ci_high end            as ci_high,
    case when kd.n >= k.min_cell then kd.odds_ratio end         as odds_ratio,
    case when kd.n >= k.min_cell then kd.p_value end            as p_value,
    case when kd.n >= k.min_cell then kd.q_value end            as q_value,
    case when kd.n >= k.min_cell then kd.is_significant end     as is_significant,
    case when kd.n >= k.min_cell then kd.prevalence end         as prevalence,
    case when kd.n >= k.min_cell then kd.n end                  as n,
    case when kd.n >= k.min_cell then kd.performance end        as performance,
    coalesce(kd.n, 0) < k.min_cell                              as suppressed
from published.fct_key_drivers as kd
cross join k
order by kd.outcome, kd.scope, kd.importance desc nulls last;
