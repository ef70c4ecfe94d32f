-- Reviewers' labels (registered frame themes_corr_renames(theme_id, new_label)).
update enrich.themes as t
set label = r.new_label
from themes_corr_renames as r
where t.theme_id = r.theme_id and t.label is distinct from r.new_label
