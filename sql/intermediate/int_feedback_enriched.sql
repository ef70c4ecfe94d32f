-- One row per feedback record: dimensions, redacted text and comment-level sentiment.
-- Raw text is deliberately not selected.
create or replace view intermediate.int_feedback_enriched as
select
    f.* exclude (raw_text),
    r.text_redacted,
    r.redactor_version,
    s.is_informative,
    s.sentiment_label,
    s.sentiment3,
    s.sentiment_score,
    s.sentiment_confidence,
    s.is_mixed,
    s.sentiment_model_version,
    date_trunc('month', f.received_local) as month,
    date_trunc('week', f.received_local)  as week,
    dayname(f.received_local)             as weekday,
    hour(f.received_local)                as hour_of_day
from staging.stg_raw__feedback as f
left join staging.stg_enrich__redactions as r
    on r.feedback_id = f.feedback_id and r.record_hash = f.record_hash
left join staging.stg_enrich__sentiment as s
    on s.feedback_id = f.feedback_id and s.record_hash = f.record_hash;
