-- Sources, sites or services that started or stopped sending comments in the report period, per
-- segment (the emerging-theme tests leave them out of the month and its baseline: shown beside
-- the alerts so that a new source is read as a new source).
select *
from reporting.rpt_source_changes
where period between $month_from and $month_to
order by period desc, segment_type, segment_value, change, stratum;
