-- Every comment with redacted text, sentiment and themes: the verbatims response teams read.
create or replace view reporting.rpt_feedback_comments as
select
    feedback_id, channel, source, site, service, received_local, month, question, text_redacted,
    rating_scale, rating_raw, rating_value, nps, complaint_category, complaint_status,
    is_informative, sentiment_label, sentiment3, sentiment_score, sentiment_confidence, is_mixed,
    theme_ids, theme_labels, categories, sentiment_model_version, redactor_version
from published.fct_feedback
where text_redacted is not null;
