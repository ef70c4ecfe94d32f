-- The stored state of one source (SQL watermark), if it has run before.
select watermark, watermark_type from raw.source_state where source = $source;
