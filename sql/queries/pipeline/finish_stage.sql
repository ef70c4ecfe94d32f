update ops.stage_runs
set finished_at = $finished_at, status = $status, rows_in = $rows_in, rows_out = $rows_out,
    data_from = $data_from, data_to = $data_to, versions = $versions, message = $message
where run_id = $run_id and stage = $stage;
