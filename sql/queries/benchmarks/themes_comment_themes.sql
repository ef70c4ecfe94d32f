-- Evaluation: every clause with its theme(s) and their categories; unthemed clauses with nulls.
select a.feedback_id, a.clause_idx, a.theme_id, a.theme_rank, a.method, t.category_id, t.label
from enrich.theme_assignments as a
left join enrich.themes as t using (theme_id)
union all
select o.feedback_id, o.clause_idx, null, 1, 'outlier', null, null
from enrich.theme_outliers as o
order by feedback_id, clause_idx, theme_rank
