-- Remove the records listed by queries/ingest/stale_records (their history stays).
delete from raw.feedback
where source = $source
  and response_id in (select response_id from incoming)
  and feedback_id not in (select feedback_id from incoming);
