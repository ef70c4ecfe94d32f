-- Digests of the texts this scanner version has found clean before.
select text_digest from ops.scan_clean where scanner_version = $version
