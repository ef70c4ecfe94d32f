-- Outputs of the Python stages, keyed by feedback_id (and clause for aspects).

-- PHI-redacted text: the only text that marts and reports ever see.
create table if not exists enrich.redactions (
    feedback_id      varchar primary key,
    record_hash      varchar not null,
    text_redacted    varchar,
    entity_counts    varchar,      -- json {"PERSON": 1, ...}
    redactor_version varchar not null,
    redacted_at      timestamptz not null
);

create table if not exists enrich.sentiment (
    feedback_id     varchar primary key,
    record_hash     varchar not null,
    is_informative  boolean not null,
    label5          varchar,       -- very negative .. very positive
    label3          varchar,       -- negative | neutral | positive
    score           double,        -- expected value mapped to [-1, 1]
    confidence      double,
    is_mixed        boolean,
    model_version   varchar not null,
    scored_at       timestamptz not null
);

-- Clause-level (aspect) units: what themes are clustered on.
create table if not exists enrich.aspects (
    feedback_id    varchar not null,
    clause_idx     integer not null,
    clause_text    varchar not null,   -- redacted
    label3         varchar,
    score          double,
    model_version  varchar not null,
    primary key (feedback_id, clause_idx)
);

-- Embedding cache: one row per unique redacted clause text and model.
create table if not exists enrich.embeddings (
    text_hash      varchar not null,
    model_name     varchar not null,
    embedding      float[] not null,
    primary key (text_hash, model_name)
);

-- Theme registry: stable ids across refits; retired themes stay for history.
create table if not exists enrich.themes (
    theme_id        varchar primary key,
    label           varchar not null,
    category_id     varchar,
    category_name   varchar,
    keywords        varchar,           -- json list
    quotes          varchar,           -- json list of redacted quotes
    centroid        float[],
    first_seen_run  varchar,
    last_seen_run   varchar,
    status          varchar not null,  -- active | retired
    size            bigint
);

create table if not exists enrich.theme_assignments (
    feedback_id    varchar not null,
    clause_idx     integer not null,
    theme_id       varchar not null,
    probability    double,
    method         varchar not null,    -- bertopic | reduce_outliers | taxonomy
    theme_run_id   varchar not null,
    primary key (feedback_id, clause_idx)
);
