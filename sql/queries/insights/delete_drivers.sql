-- Empty enrich.key_drivers before a run writes its rows: the marts read only the latest run
-- (enrich.insight_runs is the run log), so keeping earlier runs' rows only made the table grow.
delete from enrich.key_drivers
