-- Key-driver input, one row per (survey response, theme) with a clause on the theme in any of
-- the response's informative comments: negative = at least one such clause has negative
-- aspect sentiment, positive = at least one is positive. category_id = the theme's taxonomy
-- category (Python rolls themes up to categories for the category-level models).
select
    e.source || '|' || coalesce(e.response_id, e.feedback_id) as response_uid,
    t.theme_id,
    any_value(t.category_id)                                  as category_id,
    bool_or(t.aspect_sentiment3 = 'negative')                 as negative,
    bool_or(t.aspect_sentiment3 = 'positive')                 as positive,
    count(*)                                                  as clauses
from intermediate.int_feedback_themed as t
join intermediate.int_feedback_enriched as e using (feedback_id)
where t.theme_id is not null and e.is_informative and e.channel = 'survey'
group by all
