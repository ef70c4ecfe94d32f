-- Source changes of the latest insights run (enrich.source_changes, pipelines/insights/emerging.py):
-- a stratum (source / site / service) that started ('new source') or stopped ('stopped source')
-- contributing informative comments to a segment in a month. The emerging-theme tests leave such
-- strata out of the month and its baseline, so a change in the mix of sources is reported here,
-- never as an emerging theme.
create or replace table marts.fct_source_changes as
with latest as (
    select run_id from enrich.insight_runs order by finished_at desc nulls last, run_id desc limit 1
)
select c.* exclude (run_id), c.run_id
from enrich.source_changes as c
join latest using (run_id);
