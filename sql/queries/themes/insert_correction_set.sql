-- Record one imported reviewer file as a correction set.
insert into enrich.theme_correction_sets (set_version, file_name, file_sha256, reviewer, run_id, applied_at, counts)
values ($set_version, $file_name, $file_sha256, $reviewer, $run_id, $applied_at, $counts)
