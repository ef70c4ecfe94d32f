-- Reviewers' category moves (registered frame themes_corr_moves(theme_id, category_id, category_name,
-- category_group)).
update enrich.themes as t
set category_id = m.category_id, category_name = m.category_name, category_group = m.category_group
from themes_corr_moves as m
where t.theme_id = m.theme_id
    and (t.category_id is distinct from m.category_id or t.category_name is distinct from m.category_name)
