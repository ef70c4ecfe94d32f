-- Texts the final privacy scan (pipelines/privacy/scan.py) found clean, by scanner version: a
-- later report run does not scan them again. Only a digest is kept (the first 128 bits of the
-- sha256 of the text), never the text; texts with a finding are never remembered, so they are
-- scanned, and held back, every time. A new scanner version (recognizers, name lists, code,
-- allow-list) starts from nothing.
create table if not exists ops.scan_clean (
    scanner_version varchar not null,
    text_digest     varchar not null,
    first_seen      timestamptz not null,
    primary key (scanner_version, text_digest)
);
