-- Segments where each theme is concentrated in the month (unsuppressed, lift above 1).
select *
from reporting.rpt_theme_segments
where month = $month and not suppressed and lift > 1
order by theme_id, lift desc;
