-- Insert or replace clause assignments from the registered frame themes_incoming_assignments.
insert or replace into enrich.theme_assignments (
    feedback_id, clause_idx, theme_id, probability, method, theme_run_id, text_hash
)
select feedback_id, cast(clause_idx as integer), theme_id, probability, method, theme_run_id, text_hash
from themes_incoming_assignments
