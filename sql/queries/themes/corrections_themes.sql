-- Theme-level corrections in force: the latest rename, move and merge of each theme (a later
-- correction set wins).
select kind, theme_id, new_label, new_category_id, new_category_name, new_category_group, merge_into, set_version
from enrich.theme_corrections
where kind in ('rename', 'move', 'merge')
qualify row_number() over (partition by kind, theme_id order by set_version desc, seq desc) = 1
order by set_version, theme_id
