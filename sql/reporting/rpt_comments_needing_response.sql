-- Comments that need a response to close the loop, with the reason:
--   'very negative comment'                  comment-level sentiment is very negative
--   'open complaint'                         a complaint not (yet) closed
--   'negative comment on a complaint theme'  negative comment carrying a theme that comes
--                                            mostly through complaints (rpt_theme_ranking)
-- priority 1 = very negative or reopened complaint, 2 = the rest. Redacted text only.
create or replace view reporting.rpt_comments_needing_response as
with complaint_themes as (
    select coalesce(list(distinct theme_id), []) as theme_ids
    from reporting.rpt_theme_ranking
    where is_complaint_theme
),
flagged as (
    select
        f.*,
        f.sentiment_label = 'very negative'                                               as is_very_negative,
        f.channel = 'complaint' and coalesce(f.complaint_status, 'open') <> 'closed'      as is_open_complaint,
        f.sentiment3 = 'negative' and list_has_any(coalesce(f.theme_ids, []), c.theme_ids) as is_negative_on_complaint_theme
    from published.fct_feedback as f
    cross join complaint_themes as c
    where f.text_redacted is not null
)
select
    feedback_id,
    received_local,
    cast(received_local as date) as received_date,
    cast(month as date)          as month,
    channel, site, service, text_redacted, sentiment_label, sentiment_score, theme_ids, theme_labels, complaint_status,
    case
        when is_very_negative then 'very negative comment'
        when is_open_complaint then 'open complaint'
        else 'negative comment on a complaint theme'
    end as reason,
    case when is_very_negative or complaint_status = 'reopened' then 1 else 2 end as priority
from flagged
where is_very_negative or is_open_complaint or is_negative_on_complaint_theme
order by priority, received_local desc;
