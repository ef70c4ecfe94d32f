create or replace view staging.stg_enrich__theme_assignments as
with source as (select * from enrich.theme_assignments),
renamed as (
    select feedback_id, clause_idx, theme_id, theme_rank, probability as theme_probability, method as theme_method, theme_run_id
    from source
)
select * from renamed;
