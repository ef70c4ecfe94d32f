-- Segment lift of the latest insights run (enrich.segment_lift, see docs/insights.md): for each
-- theme and segment (site, service, channel, weekday, hour_band, month), the share of the
-- segment's informative comments carrying the theme (negative mentions by default, see
-- mention) against the share in every other segment of the same type, with a one-sided
-- Fisher exact test and Benjamini-Hochberg q-value. Every tested comparison is kept;
-- is_significant marks lift >= min_lift with enough comments and q <= alpha. level = theme |
-- category (theme_id 'category:<id>' = all themes of a taxonomy category together).
--   n       theme comments in the segment;  total   informative comments in the segment
create or replace table marts.fct_segment_lift as
with latest as (
    select run_id, params_hash from enrich.insight_runs order by finished_at desc nulls last, run_id desc limit 1
)
select
    s.run_id,
    s.level,
    s.theme_id,
    coalesce(d.theme_label, c.name)                    as label,
    d.theme_label,
    coalesce(s.category_id, d.category_id)             as category_id,
    coalesce(c.name, d.category_name)                  as category_name,
    s.segment_type,
    s.segment_value,
    s.n,
    s.total,
    s.share_in_segment,
    s.count_elsewhere,
    s.total_elsewhere,
    s.share_elsewhere,
    s.lift,
    s.p_value,
    s.q_value,
    s.is_significant,
    s.mention,
    s.method,
    l.params_hash
from enrich.segment_lift as s
join latest as l using (run_id)
left join marts.dim_theme as d using (theme_id)
left join enrich.theme_categories as c on c.category_id = coalesce(s.category_id, d.category_id);
