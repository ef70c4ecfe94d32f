-- Current KPI settings (key, value) as written by the report stage and build_models.
select key, value from ops.report_settings;
