-- Informative, scored, not yet labelled comments, least confident first (active learning pool).
-- Only the redacted text leaves the warehouse. The caller re-ranks the pool by entropy.
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
order by s.confidence asc, s.feedback_id
limit $pool
