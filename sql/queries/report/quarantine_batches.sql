-- Quarantined rows per ingest batch, check and reason (run status: each batch links to its rows).
select * from reporting.rpt_quarantine_batches limit $max_rows;
