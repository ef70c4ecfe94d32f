-- Segments where each theme is concentrated in the report period (unsuppressed, lift above 1).
select *
from reporting.rpt_theme_window_segments
where window_end = $window_end and window_months = $window_months and not suppressed and lift > 1
order by theme_id, lift desc;
