-- Insert or update registry rows from the registered frame themes_incoming_themes.
insert or replace into enrich.themes (
    theme_id, label, category_id, category_name, keywords, quotes, centroid, first_seen_run,
    last_seen_run, status, size, category_group, category_similarity, category_runner_up,
    taxonomy_hash, model_version, updated_at
)
select
    theme_id, label, category_id, category_name, keywords, quotes, cast(centroid as float[]),
    first_seen_run, last_seen_run, status, size, category_group, category_similarity,
    category_runner_up, taxonomy_hash, model_version, updated_at
from themes_incoming_themes
