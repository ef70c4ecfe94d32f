-- Records with text that is new, changed, or redacted by another recognizer version.
select f.feedback_id, f.record_hash, f.text
from raw.feedback as f
left join enrich.redactions as r using (feedback_id)
where f.text is not null
  and (r.feedback_id is null or r.record_hash <> f.record_hash or r.redactor_version <> $version)
order by f.feedback_id;
