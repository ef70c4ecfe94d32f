-- The fingerprint a stage left when it last succeeded (no row: never, or it failed since).
select fingerprint, run_id, recorded_at, summary from ops.stage_state where stage = $stage;
