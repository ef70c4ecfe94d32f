create or replace view staging.stg_enrich__themes as
with source as (select * from enrich.themes),
renamed as (
    select
        theme_id, label as theme_label, category_id, category_name, keywords, quotes, status as theme_status,
        size as theme_size, merged_into
    from source
)
select * from renamed;
