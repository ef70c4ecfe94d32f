-- Categories of the report period, each comment counted once per category (the theme report's
-- month view; suppressed categories last).
select *
from reporting.rpt_category_window_ranking
where window_end = $window_end and window_months = $window_months
order by suppressed, rank_volume nulls last, category_name;
