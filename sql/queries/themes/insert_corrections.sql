-- Store a correction set's rows from the registered frame themes_incoming_corrections.
insert into enrich.theme_corrections by name
select
    cast(set_version as integer) as set_version, cast(seq as integer) as seq, kind, theme_id, new_label,
    new_category_id, new_category_name, new_category_group, merge_into, feedback_id,
    cast(clause_idx as integer) as clause_idx, clause_text, new_theme_id, sheet, cast(source_row as integer) as source_row
from themes_incoming_corrections
