-- A fixed pseudo-random sample of informative, scored, not yet labelled comments (the
-- representative half of the reviewers' export is clustered from it). Redacted text only.
select
    s.feedback_id,
    coalesce(f.question, '') as question,
    r.text_redacted as text,
    s.label5 as predicted_label,
    s.confidence,
    s.model_version
from enrich.sentiment as s
join enrich.redactions as r on r.feedback_id = s.feedback_id
join raw.feedback as f on f.feedback_id = s.feedback_id
left join enrich.sentiment_labels as l on l.feedback_id = s.feedback_id
where s.is_informative
  and r.text_redacted is not null
  and length(trim(r.text_redacted)) > 0
  and l.feedback_id is null
order by md5(s.feedback_id), s.feedback_id
limit $pool
