-- The theme registry, active and retired, oldest id first.
select
    theme_id, label, category_id, category_name, keywords, quotes, centroid,
    first_seen_run, last_seen_run, status, size
from enrich.themes
order by theme_id
