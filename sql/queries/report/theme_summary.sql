-- All-time theme summary (exported with the theme report).
select theme_id, theme_label, category_name, theme_status, comments, negative_share, mean_sentiment, suppressed
from reporting.rpt_theme_summary;
