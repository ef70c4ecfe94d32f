-- Segment lift of the latest insights run (published.fct_segment_lift, see docs/insights.md): themes
-- over-represented in a segment (site, service, channel, weekday, hour band, month) compared
-- with every other segment of the same type, with p and q values; is_significant marks the
-- comparisons to report. Rows with fewer than k theme comments or k comments in the segment
-- (k = min_cell) are suppressed: a rare segment cannot point at a patient.
create or replace view reporting.rpt_segment_lift as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
flagged as (
    select s.*, coalesce(s.n, 0) < k.min_cell or coalesce(s.total, s.n, 0) < k.min_cell as is_suppressed
    from published.fct_segment_lift as s
    cross join k
)
select
    run_id,
    theme_id,
    level,
    label as theme_label,
    segment_type,
    segment_value,
    case when not is_suppressed then n end                as n,
    case when not is_suppressed then total end            as total,
    case when not is_suppressed then share_in_segment end as share_in_segment,
    case when not is_suppressed then share_elsewhere end  as share_elsewhere,
    case when not is_suppressed then lift end             as lift,
    case when not is_suppressed then p_value end          as p_value,
    case when not is_suppressed then q_value end          as q_value,
    case when not is_suppressed then is_significant end   as is_significant,
    mention,
    is_suppressed                                         as suppressed
from flagged
order by is_significant desc nulls last, q_value nulls last, lift desc nulls last;
