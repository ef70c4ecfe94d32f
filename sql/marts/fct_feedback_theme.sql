-- Fact table: one row per (feedback, clause) assigned to a theme, with the record's dimensions.
create or replace table marts.fct_feedback_theme as
select
    t.*,
    e.channel, e.source, e.site, e.service, e.question_key, e.received_at, e.received_local,
    e.month, e.week, e.weekday, e.hour_of_day, e.rating_scale, e.rating_value, e.nps,
    e.sentiment3, e.sentiment_score
from intermediate.int_feedback_themed as t
join intermediate.int_feedback_enriched as e using (feedback_id);
