-- The migrations table: which SQL file was applied with which content, and (for models
-- materialised as tables) from which data. apply_schema and build_models read it to skip
-- what is already current; it is created first, before any schema file runs.
create schema if not exists ops;
create table if not exists ops.schema_migrations (
    name          varchar primary key,  -- 'schema/030_ops', 'marts/fct_feedback', ...
    kind          varchar not null,     -- schema | view | table
    sha256        varchar not null,     -- the file's text (models: and the definitions they read)
    inputs_sha256 varchar,              -- tables: fingerprint of the data they were built from
    applied_at    timestamptz not null
);
