-- Re-link registry themes to (edited) taxonomy categories from the frame themes_incoming_map.
update enrich.themes as t
set
    category_id = m.category_id,
    category_name = m.category_name,
    category_group = m.category_group,
    category_similarity = m.category_similarity,
    category_runner_up = m.category_runner_up,
    taxonomy_hash = m.taxonomy_hash,
    updated_at = m.updated_at
from themes_incoming_map as m
where t.theme_id = m.theme_id
