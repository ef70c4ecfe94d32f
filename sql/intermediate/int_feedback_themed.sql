-- One row per themed clause with its aspect sentiment and theme.
create or replace view intermediate.int_feedback_themed as
select
    a.feedback_id,
    a.clause_idx,
    a.clause_text,
    a.aspect_sentiment3,
    a.aspect_score,
    t.theme_id,
    t.theme_rank,
    t.theme_method,
    th.theme_label,
    th.category_id,
    th.category_name
from staging.stg_enrich__aspects as a
join staging.stg_enrich__theme_assignments as t using (feedback_id, clause_idx)
left join staging.stg_enrich__themes as th using (theme_id);
