-- Segment lift of the latest insights run (enrich.segment_lift): themes over-represented in a
-- segment (site, service, channel, age band, weekday ...) compared with everywhere else, with
-- p and q values. Rows with fewer than k responses (k = min_cell) are suppressed: an age band
-- at one small service cannot point at a patient.
create or replace view reporting.rpt_segment_lift as
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
    s.run_id,
    s.theme_id,
    d.theme_label,
    s.segment_type,
    s.segment_value,
    case when s.n >= k.min_cell then s.n end                as n,
    case when s.n >= k.min_cell then s.share_in_segment end as share_in_segment,
    case when s.n >= k.min_cell then s.share_elsewhere end  as share_elsewhere,
    case when s.n >= k.min_cell then s.lift end             as lift,
    case when s.n >= k.min_cell then s.p_value end          as p_value,
    case when s.n >= k.min_cell then s.q_value end          as q_value,
    coalesce(s.n, 0) < k.min_cell                           as suppressed
from enrich.segment_lift as s
join latest as l on s.run_id = l.run_id
cross join k
left join marts.dim_theme as d on d.theme_id = s.theme_id
order by s.q_value nulls last, s.lift desc nulls last;
