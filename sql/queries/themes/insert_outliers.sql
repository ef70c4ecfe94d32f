-- Insert unthemed clauses from the registered frame themes_incoming_outliers.
insert or replace into enrich.theme_outliers (feedback_id, clause_idx, text_hash, theme_run_id)
select feedback_id, cast(clause_idx as integer), text_hash, theme_run_id
from themes_incoming_outliers
