-- Key drivers of the latest insights run (enrich.key_drivers): for each outcome (e.g. FFT
-- positive, NPS) and scope, how strongly mentioning a theme moves the outcome (importance,
-- coefficient with its confidence interval) against how well the theme performs (share of
-- positive mentions) and how often it is mentioned (prevalence). Rows resting on fewer than k
-- responses (k = min_cell) are suppressed.
create or replace view reporting.rpt_key_drivers as
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
    kd.run_id,
    kd.outcome,
    kd.scope,
    kd.theme_id,
    d.theme_label,
    d.category_name,
    case when kd.n >= k.min_cell then kd.importance end  as importance,
    case when kd.n >= k.min_cell then kd.coef end        as coef,
    case when kd.n >= k.min_cell then kd.ci_low end      as ci_low,
    case when kd.n >= k.min_cell then kd.ci_high end     as ci_high,
    case when kd.n >= k.min_cell then kd.prevalence end  as prevalence,
    case when kd.n >= k.min_cell then kd.n end           as n,
    case when kd.n >= k.min_cell then kd.performance end as performance,
    coalesce(kd.n, 0) < k.min_cell                       as suppressed
from enrich.key_drivers as kd
join latest as l on kd.run_id = l.run_id
cross join k
left join marts.dim_theme as d on d.theme_id = kd.theme_id
order by kd.outcome, kd.scope, kd.importance desc nulls last;
