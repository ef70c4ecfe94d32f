-- Files (by sha256) a source has already loaded successfully.
select file_checksum from raw.ingest_batches
where source = $source and status = 'success' and file_checksum is not null;
