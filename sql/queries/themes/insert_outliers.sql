-- Insert unthemed clauses from the registered frame themes_incoming_outliers, with their reason:
-- 'no theme' or 'no content' (placeholders and non-answers, pipelines/themes/noncontent.py).
insert or replace into enrich.theme_outliers (feedback_id, clause_idx, text_hash, theme_run_id, reason)
select feedback_id, cast(clause_idx as integer), text_hash, theme_run_id, coalesce(reason, 'no theme')
from themes_incoming_outliers
