-- Remove a run's rows from enrich.segment_lift before they are written again (re-runs are idempotent).
delete from enrich.segment_lift where run_id = $run_id
