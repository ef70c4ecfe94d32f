-- The next corrections version (1 for the first imported file).
select coalesce(max(set_version), 0) + 1 from enrich.theme_correction_sets
