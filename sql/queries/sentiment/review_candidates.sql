-- Informative, scored, not yet labelled comments for the reviewers' export; only the redacted
-- text leaves the warehouse. $sample false: least confident first (the uncertain half; the
-- caller re-ranks by margin). $sample true: a fixed pseudo-random sample (the representative
-- half is clustered from it).
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
order by
    case when $sample then md5(s.feedback_id) end,
    case when not $sample then s.confidence end,
    s.feedback_id
limit $pool
