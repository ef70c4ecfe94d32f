create or replace view staging.stg_enrich__aspects as
with source as (select * from enrich.aspects),
renamed as (
    select feedback_id, clause_idx, clause_text, label3 as aspect_sentiment3, score as aspect_score
    from source
)
select * from renamed;
