-- Sources, sites or services that started or stopped sending comments, per segment and month
-- (published.fct_source_changes): the reason a month's comparison left some comments out. Shown next
-- to the emerging-theme alerts so that a new source is read as a new source. Counts under k
-- (ops.report_settings 'min_cell') are suppressed.
create or replace view reporting.rpt_source_changes as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
)
select
    c.segment_type,
    c.segment_value,
    c.period,
    c.stratum,
    c.change,
    case when c.comments >= k.min_cell or c.comments = 0 then c.comments end as comments,
    case when c.baseline_comments >= k.min_cell or c.baseline_comments = 0 then c.baseline_comments end as baseline_comments,
    c.baseline_months
from published.fct_source_changes as c
cross join k
order by c.period, c.segment_type, c.segment_value, c.stratum;
