-- Themes for the reviewer workbook (`feedback themes export`): active themes, largest first, with
-- their stored quotes (json list of redacted clauses). Reads the marts layer only.
select theme_id, category_id, category_name, theme_label, theme_size, quotes
from marts.dim_theme
where theme_status = 'active'
order by theme_size desc nulls last, theme_id
