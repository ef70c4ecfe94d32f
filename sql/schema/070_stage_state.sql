-- Per-stage change detection (pipelines/changes.py): the fingerprint of everything a stage reads
-- (table contents, code, configs, model files, settings), taken when it last succeeded. A run
-- whose fingerprint is the same skips the stage: it would find nothing to do.
create table if not exists ops.stage_state (
    stage        varchar primary key,
    fingerprint  varchar not null,
    run_id       varchar not null,   -- the run that did the work
    recorded_at  timestamptz not null,
    summary      varchar             -- json: that run's summary (versions, files written)
);
