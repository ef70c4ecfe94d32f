-- One row describing the reporting extract: the run that wrote it, the window of feedback the
-- warehouse held (local time of each source, from rpt_data_windows), the model versions and
-- runs of every stage (from rpt_model_versions) and the code that wrote it. Run on the extract.
create table main.meta as
with windows as (
    select min(first_received) as data_from, max(last_received) as data_to, sum(records) as records
    from main.rpt_data_windows
),
stages as (
    select stage, any_value(run_id) as run_id, json_group_object(component, version) as components
    from main.rpt_model_versions
    group by stage
)
select
    cast($run_id as varchar)                                   as run_id,
    cast($created_at as timestamptz)                           as created_at,
    cast($report_period as varchar)                            as report_period,
    w.data_from,
    w.data_to,
    cast(coalesce(w.records, 0) as bigint)                     as records,
    (select json_group_object(stage, components) from stages)  as model_versions,
    (select json_group_object(stage, run_id) from stages)      as source_runs,
    cast($source_warehouse as varchar)                         as source_warehouse,
    cast($pipelines_version as varchar)                        as pipelines_version,
    cast($git_sha as varchar)                                  as git_sha,
    cast($duckdb_version as varchar)                           as duckdb_version,
    (select count(*) from extract_tables)                      as tables
from windows as w;
