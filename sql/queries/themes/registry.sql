-- The theme registry, active and retired, oldest id first.
select
    theme_id, label, category_id, category_name, category_group, category_similarity,
    category_runner_up, keywords, quotes, centroid, first_seen_run, last_seen_run, status, size,
    taxonomy_hash, model_version, updated_at
from enrich.themes
order by theme_id
