-- Up to five diverse redacted quotes per theme and month for the theme report: round-robin
-- over aspect sentiment (negative, positive, neutral), preferring different sites, duplicates
-- removed, 15-300 characters. Only for theme-months with at least k comments (k = min_cell).
-- quote is a clause of redacted text (PHI placeholders such as [NAME] in place).
create or replace view reporting.rpt_theme_quotes as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
eligible as (
    select
        theme_id, cast(month as date) as month, feedback_id, clause_idx, clause_text, aspect_sentiment3,
        site, service, channel
    from published.fct_feedback_theme
    where length(clause_text) between 15 and 300 and month is not null
    qualify row_number() over (partition by theme_id, cast(month as date), lower(trim(clause_text)) order by feedback_id) = 1
),
by_site as (
    select *, row_number() over (partition by theme_id, month, site order by hash(feedback_id, clause_idx)) as site_rank
    from eligible
),
by_sentiment as (
    select *, row_number() over (partition by theme_id, month, aspect_sentiment3 order by site_rank, hash(feedback_id, clause_idx)) as sentiment_rank
    from by_site
),
picked as (
    select *, row_number() over (
        partition by theme_id, month
        order by sentiment_rank, case aspect_sentiment3 when 'negative' then 0 when 'positive' then 1 else 2 end
    ) as quote_rank
    from by_sentiment
),
volume as (
    select theme_id, month, comments from published.fct_kpi_theme_monthly where scope_type = 'overall'
)
select p.theme_id, p.month, p.quote_rank, p.clause_text as quote, p.aspect_sentiment3 as sentiment, p.channel, p.feedback_id
from picked as p
join volume as v using (theme_id, month)
cross join k
where p.quote_rank <= 5 and v.comments >= k.min_cell
order by p.theme_id, p.month, p.quote_rank;
