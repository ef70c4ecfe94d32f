-- Remember texts found clean this run (registered frame incoming_scan_clean(text_digest)).
insert or ignore into ops.scan_clean (scanner_version, text_digest, first_seen)
select distinct $version, text_digest, $now from incoming_scan_clean
