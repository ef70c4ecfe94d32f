-- Drop theme rows of clauses that no longer exist or whose comment is no longer informative.
delete from enrich.theme_assignments as t
where not exists (
    select 1
    from enrich.aspects as a
    inner join enrich.sentiment as s using (feedback_id)
    where s.is_informative and a.feedback_id = t.feedback_id and a.clause_idx = t.clause_idx
);
delete from enrich.theme_outliers as t
where not exists (
    select 1
    from enrich.aspects as a
    inner join enrich.sentiment as s using (feedback_id)
    where s.is_informative and a.feedback_id = t.feedback_id and a.clause_idx = t.clause_idx
)
