-- Evaluation / benchmark warehouses only: load comments and clauses from registered frames
-- themes_bench_comments(feedback_id) and themes_bench_clauses(feedback_id, clause_idx, clause_text).
insert or replace into enrich.sentiment (
    feedback_id, record_hash, is_informative, label5, label3, score, confidence, is_mixed, model_version, scored_at
)
select feedback_id, feedback_id, true, null, null, null, null, null, 'bench', now()
from themes_bench_comments;
delete from enrich.aspects where feedback_id in (select feedback_id from themes_bench_comments);
insert into enrich.aspects (feedback_id, clause_idx, clause_text, label3, score, model_version)
select feedback_id, cast(clause_idx as integer), clause_text, null, null, 'bench'
from themes_bench_clauses
