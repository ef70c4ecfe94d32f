-- Redacted comments not yet scored by this model version (or whose content changed), with the
-- respondent's own rating of the same response (0..1, 1 = best; null when unrated): the model
-- reads it as context for the whole comment.
select r.feedback_id, r.record_hash, r.text_redacted, f.question, f.rating_value
from enrich.redactions as r
join raw.feedback as f using (feedback_id)
left join enrich.sentiment as s using (feedback_id)
where r.record_hash = f.record_hash
  and (s.feedback_id is null or s.record_hash <> r.record_hash or s.model_version <> $version)
order by r.feedback_id;
