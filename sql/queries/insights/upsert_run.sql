-- One row per insights run with its parameters and the size of each test family.
insert or replace into enrich.insight_runs (
    run_id, started_at, finished_at, params_hash, params, data_from, data_to, emerging_tests, alerts,
    driver_scopes, drivers, lift_tests, lift_significant, details
)
values (
    $run_id, $started_at, $finished_at, $params_hash, $params, $data_from, $data_to, $emerging_tests, $alerts,
    $driver_scopes, $drivers, $lift_tests, $lift_significant, $details
)
