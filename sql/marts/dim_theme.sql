-- Theme dimension: the registry as of the last run (retired themes kept for history).
create or replace table marts.dim_theme as
select * from staging.stg_enrich__themes;
