-- Complaints by site and category for the month (suppressed cells included, flagged).
select * from reporting.rpt_complaints_by_category_site where month = $month order by site, category;
