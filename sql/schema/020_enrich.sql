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

-- Embedding cache: one row per unique redacted clause text and model (text_hash = sha256(text)).
create table if not exists enrich.embeddings (
    text_hash      varchar not null,
    model_name     varchar not null,
    embedding      float[] not null,   -- L2-normalised
    primary key (text_hash, model_name)
);

-- Theme registry (written by pipelines/themes.py): stable ids across refits; retired themes stay
-- for history. category_id is a taxonomy id (models/themes/taxonomy.yaml) or 'new'.
create table if not exists enrich.themes (
    theme_id        varchar primary key,   -- T0001, T0002, ... never reused
    label           varchar not null,      -- short phrase, kept across refits
    category_id     varchar,
    category_name   varchar,
    keywords        varchar,               -- json list of phrases
    quotes          varchar,               -- json list of 3-5 redacted clauses (diverse)
    centroid        float[],               -- L2-normalised mean clause embedding
    first_seen_run  varchar,
    last_seen_run   varchar,
    status          varchar not null,      -- active | retired
    size            bigint                 -- clauses currently assigned
);
alter table enrich.themes add column if not exists category_group varchar;
alter table enrich.themes add column if not exists category_similarity double;
alter table enrich.themes add column if not exists category_runner_up varchar;
alter table enrich.themes add column if not exists taxonomy_hash varchar;
alter table enrich.themes add column if not exists model_version varchar;
alter table enrich.themes add column if not exists updated_at timestamptz;

-- Clause -> theme. Every themed clause has one primary row (theme_rank 1); a clause that also
-- clearly speaks about a second taxonomy category has a secondary row (theme_rank 2), so count
-- comments or clauses per theme, and filter theme_rank = 1 for one theme per clause.
create table if not exists enrich.theme_assignments (
    feedback_id    varchar not null,
    clause_idx     integer not null,
    theme_id       varchar not null,
    theme_rank     smallint not null default 1,  -- 1 primary | 2 secondary
    probability    double,              -- cosine similarity to the theme centroid
    method         varchar not null,    -- bertopic | reduce_outliers | taxonomy | centroid | secondary
    theme_run_id   varchar not null,
    text_hash      varchar,             -- sha256 of the clause text the theme was given for
    primary key (feedback_id, clause_idx, theme_id)
);
alter table enrich.theme_assignments add column if not exists theme_rank smallint default 1;
alter table enrich.theme_assignments add column if not exists text_hash varchar;

-- Informative clauses left without a theme (the outlier share reported by every run).
create table if not exists enrich.theme_outliers (
    feedback_id    varchar not null,
    clause_idx     integer not null,
    text_hash      varchar,
    theme_run_id   varchar not null,
    primary key (feedback_id, clause_idx)
);
-- 'no theme' (fits no theme) or 'no content' (a placeholder or non-answer, never themed; not
-- counted in the outlier share).
alter table enrich.theme_outliers add column if not exists reason varchar;

-- The taxonomy as last applied (users edit the YAML; remap_taxonomy re-links themes).
create table if not exists enrich.theme_categories (
    category_id    varchar primary key,
    name           varchar not null,
    category_group varchar,
    description    varchar,
    seed_terms     varchar,             -- json list
    taxonomy_hash  varchar not null
);

-- One row per theme-stage run: refit or daily assignment, with its quality numbers.
create table if not exists enrich.theme_runs (
    theme_run_id    varchar primary key,
    model_version   varchar not null,
    refitted        boolean not null,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    clauses         bigint,             -- informative clauses processed this run
    themed          bigint,
    outlier_share   double,             -- of all informative clauses after the run
    n_themes        bigint,             -- active themes
    new_themes      bigint,
    retired_themes  bigint,
    kept_themes     bigint,
    taxonomy_hash   varchar,
    details         varchar             -- json: config, methods breakdown, timings
);
