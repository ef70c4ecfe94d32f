-- Canonical feedback records as ingested (raw text = PHI: never read by reports).
-- Columns mirror pipelines/schema.py (tests/unit/test_schema.py keeps them in step).
create table if not exists raw.feedback (
    feedback_id        varchar primary key,
    channel            varchar not null,
    source             varchar not null,
    source_record_id   varchar not null,
    response_id        varchar,
    received_at        timestamptz,
    source_timezone    varchar,
    site               varchar,
    service            varchar,
    question_key       varchar,
    question           varchar,
    text               varchar,
    rating_scale       varchar,
    rating_raw         varchar,
    rating_value       double,
    nps                bigint,
    complaint_category varchar,
    complaint_severity varchar,
    complaint_status   varchar,
    opened_at          timestamptz,
    acknowledged_at    timestamptz,
    closed_at          timestamptz,
    contact_count      bigint,
    handling_minutes   bigint,
    age_band           varchar,
    record_hash        varchar not null,
    batch_id           varchar not null,
    ingested_at        timestamptz not null,
    file_checksum      varchar
);

-- Every version a record has had (complaints change status over time).
create table if not exists raw.feedback_history as
    select *, cast(null as timestamptz) as valid_from from raw.feedback where false;

-- Rows that failed parsing or validation: nothing is dropped silently.
create table if not exists raw.quarantine (
    batch_id         varchar not null,
    source           varchar not null,
    row_number       bigint,
    source_record_id varchar,
    raw_row          varchar,
    failed_check     varchar not null,
    reason           varchar not null,
    quarantined_at   timestamptz not null
);

-- One row per ingest batch with its reconciliation:
-- rows_read = rows_loaded + rows_quarantined + rows_duplicate.
create table if not exists raw.ingest_batches (
    batch_id          varchar primary key,
    source            varchar not null,
    stream            varchar not null,
    location          varchar,
    file_checksum     varchar,
    started_at        timestamptz not null,
    finished_at       timestamptz,
    status            varchar not null,
    rows_read         bigint,
    rows_loaded       bigint,
    rows_inserted     bigint,
    rows_updated      bigint,
    rows_quarantined  bigint,
    rows_duplicate    bigint,
    rows_skipped      bigint,
    watermark         varchar,
    gx_success        boolean,
    message           varchar
);
