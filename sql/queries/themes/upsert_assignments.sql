-- Insert clause -> theme rows from the registered frame themes_incoming_assignments.
insert or replace into enrich.theme_assignments (
    feedback_id, clause_idx, theme_id, theme_rank, probability, method, theme_run_id, text_hash
)
select
    feedback_id, cast(clause_idx as integer), theme_id, cast(theme_rank as smallint), probability, method,
    theme_run_id, text_hash
from themes_incoming_assignments
