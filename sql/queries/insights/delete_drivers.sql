-- Remove a run's rows from enrich.key_drivers before they are written again (re-runs are idempotent).
delete from enrich.key_drivers where run_id = $run_id
