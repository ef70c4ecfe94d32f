-- For the data team: per source and channel, the window of feedback the warehouse holds and how
-- far each stage has got (records with text, redacted, sentiment-scored, themed). Operational
-- row counts of whole sources, with no patient attribute: not subject to small-cell suppression.
create or replace view reporting.rpt_data_windows as
select
    source,
    channel,
    count(*)                                                    as records,
    min(received_local)                                         as first_received,
    max(received_local)                                         as last_received,
    count(*) filter (where text_redacted is not null)           as redacted,
    count(*) filter (where sentiment_label is not null)         as sentiment_scored,
    count(*) filter (where theme_ids is not null)               as themed,
    round(100.0 * count(*) filter (where sentiment_label is not null)
          / nullif(count(*) filter (where text_redacted is not null), 0), 1) as scored_pct_of_redacted,
    string_agg(distinct redactor_version, ', ')                 as redactor_versions,
    string_agg(distinct sentiment_model_version, ', ')          as sentiment_model_versions
from published.fct_feedback
group by source, channel
order by source, channel;
