-- Evaluation: every clause with its theme and the theme's category.
select a.feedback_id, a.clause_idx, a.theme_id, a.method, t.category_id, t.label
from enrich.theme_assignments as a
left join enrich.themes as t using (theme_id)
order by a.feedback_id, a.clause_idx
