-- Stage runs still 'running' whose process ended before finishing them (killed, machine
-- restarted). Run by a stage that holds the warehouse run lock (pipelines.warehouse.run_lock),
-- so no other stage can really be running: every such row except the caller's is interrupted.
update ops.stage_runs
set status = 'failed',
    finished_at = $now,
    message = 'interrupted: its process (' || coalesce('pid ' || pid || ' on ' || host, 'pid unknown')
        || ') ended before the stage finished; a later stage found it still running'
where status = 'running' and not (run_id = $run_id and stage = $stage)
returning run_id, stage;
