-- Themes ranked by volume with negativity; cells under k comments are suppressed.
create or replace view reporting.rpt_theme_summary as
with k as (select cast(value as integer) as min_cell from ops.report_settings where key = 'min_cell'),
agg as (
    select
        theme_id,
        count(distinct feedback_id)                                        as comments,
        avg(case when aspect_sentiment3 = 'negative' then 1.0 else 0.0 end) as negative_share,
        avg(aspect_score order by aspect_score)                            as mean_sentiment
    from published.fct_feedback_theme
    group by theme_id
)
select
    d.theme_id, d.theme_label, d.category_name, d.theme_status,
    case when a.comments >= k.min_cell then a.comments end       as comments,
    case when a.comments >= k.min_cell then a.negative_share end as negative_share,
    case when a.comments >= k.min_cell then a.mean_sentiment end as mean_sentiment,
    a.comments < k.min_cell                                      as suppressed,
    d.keywords, d.quotes
from agg as a
join published.dim_theme as d using (theme_id)
cross join k
order by a.comments desc;
