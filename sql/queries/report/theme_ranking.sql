-- Themes of the month with their ranks, for the theme report (suppressed themes last).
select * from reporting.rpt_theme_ranking where month = $month order by suppressed, rank_volume nulls last, theme_id;
