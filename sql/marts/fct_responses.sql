-- Fact table: one row per submission - a survey response (its free-text answers are separate
-- records in raw.feedback, tied by response_id), a suggestion-box entry or a complaint - so that
-- KPIs count people's responses, not text records. Ratings are repeated on every record of a
-- response, so any record's value is the response's value.
--   fft_category   positive (very good, good) | neutral (neither) | negative (poor, very poor)
--                  | dont_know | null (no FFT answer)
--   is_top_box     best answer of the scale: FFT very good, NPS/0-10 9-10, HCAHPS always,
--                  Likert 5 of 5 (rating_value >= 0.9 on the 0..1 normalised scale)
--   nps_class      promoter (9-10) | passive (7-8) | detractor (0-6)
create or replace table marts.fct_responses as
with records as (
    select * from intermediate.int_feedback_enriched
),
responses as (
    select
        source,
        coalesce(response_id, feedback_id)                               as response_key,
        any_value(channel)                                               as channel,
        any_value(site)                                                  as site,
        any_value(service)                                               as service,
        min(received_local)                                              as received_local,
        any_value(rating_scale)                                          as rating_scale,
        any_value(rating_raw) filter (where rating_raw is not null)      as rating_raw,
        max(rating_value)                                                as rating_value,
        max(nps)                                                         as nps,
        any_value(age_band) filter (where age_band is not null)          as age_band,
        count(*)                                                         as records,
        count(text_redacted)                                             as comments,
        count(*) filter (where is_informative)                           as informative_comments,
        count(*) filter (where is_informative and sentiment3 = 'negative') as negative_comments
    from records
    group by source, coalesce(response_id, feedback_id)
)
select
    source || '|' || response_key                                        as response_uid,
    *,
    cast(received_local as date)                                         as received_date,
    cast(date_trunc('month', received_local) as date)                    as month,
    case
        when rating_scale <> 'fft5' then null
        when rating_value >= 0.7 then 'positive'
        when rating_value between 0.4 and 0.6 then 'neutral'
        when rating_value <= 0.3 then 'negative'
        when rating_raw is not null then 'dont_know'
    end                                                                  as fft_category,
    case when rating_value is not null then rating_value >= 0.9 - 1e-9 end as is_top_box,
    case when nps >= 9 then 'promoter' when nps >= 7 then 'passive' when nps >= 0 then 'detractor' end as nps_class
from responses;
