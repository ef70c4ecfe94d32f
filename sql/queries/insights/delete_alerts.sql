-- Remove a run's rows from enrich.theme_alerts before they are written again (re-runs are idempotent).
delete from enrich.theme_alerts where run_id = $run_id
