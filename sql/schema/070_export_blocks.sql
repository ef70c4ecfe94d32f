-- Files the final privacy scan held back (pipelines/privacy/scan.py): one row per file, column
-- (or page field) and kind of identifier. The value found is never stored, only how many.
create table if not exists ops.export_blocks (
    run_id       varchar not null,
    file         varchar not null,   -- relative to the reports folder
    column_name  varchar not null,   -- CSV column, "sheet/column" of a workbook, or a page field
    kind         varchar not null,   -- NHS_NUMBER, PHONE, EMAIL, POSTCODE, DATE_OF_BIRTH, MRN, PERSON, ...
    count        bigint not null,
    blocked_at   timestamptz not null
);
