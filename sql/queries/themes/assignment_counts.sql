-- Informative clauses processed so far (non-answers, reason 'no content', left out), and how
-- many of them carry a (primary) theme.
select
    (select count(*) from enrich.theme_assignments where theme_rank = 1)
        + (select count(*) from enrich.theme_outliers where coalesce(reason, 'no theme') <> 'no content') as clauses,
    (select count(*) from enrich.theme_assignments where theme_rank = 1) as themed
