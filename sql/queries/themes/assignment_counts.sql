-- Informative clauses processed so far, and how many of them carry a (primary) theme.
select
    (select count(*) from enrich.theme_assignments where theme_rank = 1)
        + (select count(*) from enrich.theme_outliers) as clauses,
    (select count(*) from enrich.theme_assignments where theme_rank = 1) as themed
