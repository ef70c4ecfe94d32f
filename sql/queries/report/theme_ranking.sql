-- Themes of the report period with their ranks and aspect sentiment, for the theme report
-- (suppressed themes last).
select *
from reporting.rpt_theme_window_ranking
where window_end = $window_end and window_months = $window_months
order by suppressed, rank_volume nulls last, theme_id;
