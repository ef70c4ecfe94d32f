insert or replace into ops.stage_runs (run_id, stage, started_at, status, seed)
values ($run_id, $stage, $started_at, 'running', $seed);
