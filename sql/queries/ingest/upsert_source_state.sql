-- Record a source's config, zone/country and (SQL) watermark with the batch that moved it.
insert or replace into raw.source_state (
    source, stream, preset, format, timezone, country, config_hash, watermark, watermark_type,
    last_batch_id, last_location, updated_at
) values (
    $source, $stream, $preset, $format, $timezone, $country, $config_hash, $watermark, $watermark_type,
    $batch_id, $location, $updated_at
);
