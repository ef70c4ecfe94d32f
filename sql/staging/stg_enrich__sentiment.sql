create or replace view staging.stg_enrich__sentiment as
with source as (select * from enrich.sentiment),
renamed as (
    select
        feedback_id,
        record_hash,
        is_informative,
        label5        as sentiment_label,
        label3        as sentiment3,
        score         as sentiment_score,
        confidence    as sentiment_confidence,
        is_mixed,
        model_version as sentiment_model_version
    from source
)
select * from renamed;
