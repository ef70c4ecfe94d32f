-- Run bookkeeping for the data team and for reproducibility of every report.
create table if not exists ops.stage_runs (
    run_id        varchar not null,
    stage         varchar not null,
    started_at    timestamptz not null,
    finished_at   timestamptz,
    status        varchar not null,
    rows_in       bigint,
    rows_out      bigint,
    seed          bigint,
    data_from     timestamptz,
    data_to       timestamptz,
    versions      varchar,     -- json: model / recognizer / library versions, git sha
    message       varchar,
    primary key (run_id, stage)
);

-- Settings the SQL models need (small-cell threshold k, time zone); written on every build.
create table if not exists ops.report_settings (
    key   varchar primary key,
    value varchar not null
);

-- The process running a stage (added later: warehouses made before have null here). A row left
-- 'running' by a killed process is marked failed, 'interrupted', when the next stage starts.
alter table ops.stage_runs add column if not exists pid bigint;
alter table ops.stage_runs add column if not exists host varchar;
