-- Latest ingest batches with their reconciliation.
select * from reporting.rpt_ingest_reconciliation limit $max_rows;
