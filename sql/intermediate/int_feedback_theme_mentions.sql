-- One row per (comment, theme) and per (comment, taxonomy category): level 'theme', or level
-- 'category' with theme_id 'category:<category_id>' for categories with at least two themes (a
-- category with a single theme would only repeat that theme). negative = some clause of the
-- comment on it has negative aspect sentiment. Input of the emerging-theme and segment-lift tests.
create or replace view intermediate.int_feedback_theme_mentions as
with themed as (
    select feedback_id, theme_id, category_id, aspect_sentiment3 = 'negative' as negative
    from intermediate.int_feedback_themed
    where theme_id is not null
),
split_categories as (
    select category_id from themed
    where category_id is not null and category_id <> 'new'
    group by category_id
    having count(distinct theme_id) >= 2
)
select feedback_id, 'theme' as level, theme_id, any_value(category_id) as category_id, bool_or(negative) as negative
from themed
group by feedback_id, theme_id
union all
select feedback_id, 'category' as level, 'category:' || category_id as theme_id, category_id, bool_or(negative) as negative
from themed
where category_id in (select category_id from split_categories)
group by feedback_id, category_id;
