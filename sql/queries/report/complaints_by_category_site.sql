-- Complaints by site and category for the report period (suppressed cells included, flagged).
select *
from reporting.rpt_complaints_window_category_site
where window_end = $window_end and window_months = $window_months
order by site, category;
