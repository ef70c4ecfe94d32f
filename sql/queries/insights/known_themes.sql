-- Theme registry (id, label) that actions are checked against.
select theme_id, theme_label from marts.dim_theme order by theme_id;
