-- Fact table: one row per feedback record (redacted text only) with its themes.
create or replace table marts.fct_feedback as
with themes as (
    select
        feedback_id,
        list(distinct theme_id order by theme_id)           as theme_ids,
        list(distinct theme_label order by theme_label)     as theme_labels,
        list(distinct category_name order by category_name) as categories
    from intermediate.int_feedback_themed
    group by feedback_id
)
select
    e.*,
    t.theme_ids,
    t.theme_labels,
    t.categories
from intermediate.int_feedback_enriched as e
left join themes as t using (feedback_id);
