-- Up to $quotes redacted example clauses per alert (registered frame insights_alert_keys:
-- alert_key, level, theme_id, segment_type, segment_value, period): clauses on the theme (level
-- 'theme') or on any theme of the category (level 'category', theme_id 'category:<id>') from
-- the segment-month, at most one per comment, distinct texts, in a hash order: a deterministic
-- but unselected sample (quotes illustrate the alert, they are not picked to be the worst). Clause texts come from
-- enrich.aspects (redacted by the enrich stage); cut to $max_chars characters.
with clauses as (
    select
        t.feedback_id, t.clause_idx, t.theme_id, 'category:' || t.category_id as category_key, t.clause_text,
        t.aspect_score, cast(e.month as date) as period, e.site, e.service, e.channel
    from intermediate.int_feedback_themed as t
    join intermediate.int_feedback_enriched as e using (feedback_id)
    where t.theme_id is not null and e.is_informative
),
matched as (
    select k.alert_key, c.feedback_id, c.clause_idx, c.clause_text
    from insights_alert_keys as k
    join clauses as c
        on (case when k.level = 'category' then c.category_key else c.theme_id end) = k.theme_id
       and c.period = k.period
       and (
            k.segment_type = 'all'
            or (k.segment_type = 'site' and c.site = k.segment_value)
            or (k.segment_type = 'service' and c.service = k.segment_value)
            or (k.segment_type = 'channel' and c.channel = k.segment_value)
       )
),
one_per_comment as (
    select *
    from matched
    qualify row_number() over (
        partition by alert_key, feedback_id order by md5(feedback_id || ':' || clause_idx)
    ) = 1
),
distinct_texts as (
    select *
    from one_per_comment
    qualify row_number() over (
        partition by alert_key, lower(trim(clause_text)) order by md5(feedback_id || ':' || clause_idx)
    ) = 1
),
ranked as (
    select
        alert_key,
        case when length(clause_text) > $max_chars then left(clause_text, $max_chars - 1) || '…' else clause_text end as quote,
        row_number() over (
            partition by alert_key order by md5(feedback_id || ':' || clause_idx)
        ) as quote_rank
    from distinct_texts
)
select alert_key, list(quote order by quote_rank) as quotes
from ranked
where quote_rank <= $quotes
group by alert_key
