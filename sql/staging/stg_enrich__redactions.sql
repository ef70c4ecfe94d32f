create or replace view staging.stg_enrich__redactions as
with source as (select * from enrich.redactions),
renamed as (
    select feedback_id, record_hash, text_redacted, entity_counts, redactor_version, redacted_at
    from source
)
select * from renamed;
