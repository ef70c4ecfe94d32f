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
-- rows_read = rows_loaded + rows_quarantined + rows_duplicate (+ rows_skipped: FHIR responses
-- skipped by status, in-progress or entered-in-error; 0 for every other format).
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
    message           varchar,
    config_hash       varchar    -- hash of the source YAML's mapping keys: editing them re-ingests
);
-- Warehouses created before config_hash existed get the column (no-op afterwards).
alter table raw.ingest_batches add column if not exists config_hash varchar;

-- Per-source state: the source's zone and country (working-day calendars join on it), the
-- config it last ran with, and for SQL sources the watermark of the incremental pull.
create table if not exists raw.source_state (
    source          varchar primary key,
    stream          varchar not null,
    preset          varchar not null,
    format          varchar not null,
    timezone        varchar not null,
    country         varchar not null,
    config_hash     varchar not null,
    watermark       varchar,   -- largest watermark_column value loaded (SQL sources)
    watermark_type  varchar,   -- timestamptz | timestamp | date | integer | number | text
    last_batch_id   varchar,
    last_location   varchar,
    updated_at      timestamptz not null
);

-- Rated survey items other than the headline rating (HCAHPS Never..Always items, the
-- recommend item, further FHIR ratings): one row per answered item, value 0..1 (1 = best).
-- Join to raw.feedback on (source, response_id).
create table if not exists raw.survey_items (
    source        varchar not null,
    response_id   varchar not null,
    item_key      varchar not null,
    question      varchar,
    scale         varchar not null,
    answer_raw    varchar,
    value         double,
    batch_id      varchar not null,
    ingested_at   timestamptz not null,
    primary key (source, response_id, item_key)
);
