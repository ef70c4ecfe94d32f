-- The taxonomy as applied now, from the registered frame themes_incoming_categories.
delete from enrich.theme_categories;
insert into enrich.theme_categories (category_id, name, category_group, description, seed_terms, taxonomy_hash)
select category_id, name, category_group, description, seed_terms, taxonomy_hash
from themes_incoming_categories
