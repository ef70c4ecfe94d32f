-- Record one ingest batch and its reconciliation.
insert or replace into raw.ingest_batches (
    batch_id, source, stream, location, file_checksum, started_at, finished_at, status,
    rows_read, rows_loaded, rows_inserted, rows_updated, rows_quarantined, rows_duplicate,
    rows_skipped, watermark, gx_success, message, config_hash
) values (
    $batch_id, $source, $stream, $location, $file_checksum, $started_at, $finished_at, $status,
    $rows_read, $rows_loaded, $rows_inserted, $rows_updated, $rows_quarantined, $rows_duplicate,
    $rows_skipped, $watermark, $gx_success, $message, $config_hash
);
