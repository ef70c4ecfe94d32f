-- Registry sizes = clauses currently on each theme (primary or secondary).
update enrich.themes as t
set size = coalesce((
    select count(*) from enrich.theme_assignments as a where a.theme_id = t.theme_id
), 0)
