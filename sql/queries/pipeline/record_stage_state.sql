insert or replace into ops.stage_state (stage, fingerprint, run_id, recorded_at, summary)
values ($stage, $fingerprint, $run_id, $recorded_at, $summary);
