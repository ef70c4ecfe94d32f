select source, started_at::timestamp(0) as started, status, rows_read as read, rows_loaded as loaded,
       rows_quarantined as quarantined, rows_duplicate as duplicate, rows_skipped as skipped,
       reconciles, gx_success
from reporting.rpt_ingest_reconciliation
limit $limit;
