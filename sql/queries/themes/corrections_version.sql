-- The corrections version in force (0: no reviewer file imported yet).
select coalesce(max(set_version), 0) from enrich.theme_correction_sets
