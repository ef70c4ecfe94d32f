-- Empty enrich.source_changes before a run writes its rows (the latest run only, as for alerts).
delete from enrich.source_changes
