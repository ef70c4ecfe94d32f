-- Before re-assigning clauses (registered frame themes_incoming_keys): drop their old rows.
delete from enrich.theme_assignments as t
using themes_incoming_keys as k
where t.feedback_id = k.feedback_id and t.clause_idx = k.clause_idx;
delete from enrich.theme_outliers as t
using themes_incoming_keys as k
where t.feedback_id = k.feedback_id and t.clause_idx = k.clause_idx
