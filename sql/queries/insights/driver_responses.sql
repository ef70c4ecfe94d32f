-- Key-driver input, one row per survey response that has an outcome (FFT category or NPS
-- class) and at least one informative comment. A survey response's free-text answers are
-- separate records tied by response_id (marts.fct_responses builds the same response_uid);
-- ratings are repeated on every record of a response. marts.fct_responses is current here:
-- run_insights refreshes it first (it depends only on ingest and enrich).
with records as (
    select source || '|' || coalesce(response_id, feedback_id) as response_uid, is_informative
    from intermediate.int_feedback_enriched
),
informative as (
    select response_uid, count(*) filter (where is_informative) as informative_comments
    from records
    group by response_uid
)
select
    r.response_uid, r.source, r.channel, r.site, r.service, r.month,
    r.rating_scale, r.rating_value, r.nps, r.fft_category, r.nps_class,
    i.informative_comments
from marts.fct_responses as r
join informative as i using (response_uid)
where i.informative_comments > 0
  and (r.fft_category in ('positive', 'neutral', 'negative') or r.nps_class is not null)
