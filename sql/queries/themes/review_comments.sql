-- Sample clauses per active theme for the reviewer workbook: up to $per_theme different redacted
-- texts of each theme's primary clauses, in a fixed pseudo-random order. Reads the marts only.
with themed as (
    select f.feedback_id, f.clause_idx, f.clause_text, f.theme_id, f.theme_label, f.category_id
    from marts.fct_feedback_theme as f
    join marts.dim_theme as d using (theme_id)
    where f.theme_rank = 1 and d.theme_status = 'active' and length(trim(f.clause_text)) > 0
    qualify row_number() over (
        partition by f.theme_id, lower(trim(f.clause_text)) order by f.feedback_id, f.clause_idx
    ) = 1
),
ranked as (
    select *, row_number() over (partition by theme_id order by hash(feedback_id, clause_idx), feedback_id) as pick
    from themed
)
select feedback_id, clause_idx, clause_text, theme_id, theme_label, category_id
from ranked
where pick <= $per_theme
order by theme_id, pick
