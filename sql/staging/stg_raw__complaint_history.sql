-- Every version a complaint has had (status and dates only, no text): for reopen analysis.
create or replace view staging.stg_raw__complaint_history as
with source as (
    select * from raw.feedback_history where channel = 'complaint'
),
renamed as (
    select feedback_id, complaint_status, opened_at, acknowledged_at, closed_at, valid_from
    from source
)
select * from renamed;
