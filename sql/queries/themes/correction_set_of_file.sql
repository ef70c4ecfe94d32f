-- The correction set an identical file (same sha256) was applied as, if any.
select set_version, applied_at, file_name from enrich.theme_correction_sets where file_sha256 = $sha256
