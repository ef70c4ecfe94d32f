-- Files/extracts (by sha256) a source has already loaded successfully with its current mapping
-- (batches from before config_hash existed count for any mapping).
select file_checksum from raw.ingest_batches
where source = $source and status = 'success' and file_checksum is not null
  and (config_hash = $config_hash or config_hash is null);
