-- For the data team: the versions recorded by the latest successful run of each stage (library,
-- git sha, DuckDB, redactor, sentiment and theme models ...), one row per (stage, component),
-- from the versions json of ops.stage_runs.
create or replace view reporting.rpt_model_versions as
with latest as (
    select *
    from ops.stage_runs
    where status = 'success' and versions is not null and json_valid(versions)
    qualify row_number() over (partition by stage order by started_at desc) = 1
)
select
    l.stage,
    l.run_id,
    l.finished_at,
    c.component,
    json_extract_string(l.versions, '$."' || c.component || '"') as version
from latest as l
cross join lateral (select unnest(json_keys(l.versions)) as component) as c
order by l.stage, c.component;
