-- A stage starts: recorded as running, with the process that runs it (pid, host).
insert or replace into ops.stage_runs (run_id, stage, started_at, status, seed, pid, host)
values ($run_id, $stage, $started_at, 'running', $seed, $pid, $host);
