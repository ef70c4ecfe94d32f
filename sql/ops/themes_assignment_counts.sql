-- Informative clauses assigned so far, and how many of them carry a theme.
select count(*) as clauses, count(theme_id) as themed
from enrich.theme_assignments
