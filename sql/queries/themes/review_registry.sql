-- Every registry theme with what a reviewer's corrections are checked against.
select theme_id, label, category_id, category_name, category_group, status, merged_into, size, centroid
from enrich.themes
order by theme_id
