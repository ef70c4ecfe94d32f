-- Per batch: rows read = loaded + quarantined + duplicate (+ skipped, which should be 0).
create or replace view reporting.rpt_ingest_reconciliation as
select
    batch_id, source, stream, location, started_at, status, rows_read, rows_loaded, rows_inserted,
    rows_updated, rows_quarantined, rows_duplicate, rows_skipped,
    rows_read = rows_loaded + rows_quarantined + rows_duplicate + rows_skipped as reconciles,
    gx_success, message
from raw.ingest_batches
order by started_at desc;
