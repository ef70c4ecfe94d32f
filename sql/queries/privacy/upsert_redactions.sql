insert or replace into enrich.redactions
select feedback_id, record_hash, text_redacted, entity_counts, redactor_version, redacted_at
from incoming_redactions;
