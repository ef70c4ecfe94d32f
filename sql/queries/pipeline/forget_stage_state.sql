-- A stage failed: its next run does the work whatever the fingerprint says.
delete from ops.stage_state where stage = $stage;
