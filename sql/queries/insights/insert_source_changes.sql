-- Append the rows of the registered frame insights_incoming (columns matched by name).
insert into enrich.source_changes by name select * from insights_incoming
