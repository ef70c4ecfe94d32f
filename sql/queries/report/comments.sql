-- Redacted comments for the theme report's drill-down and search (newest first, capped).
select feedback_id, channel, site, service, received_local, cast(month as date) as month, question, text_redacted,
       sentiment_label, sentiment3, theme_ids, theme_labels, complaint_status
from reporting.rpt_feedback_comments
where cast(month as date) between $month_from and $month_to
order by received_local desc
limit $max_rows;
