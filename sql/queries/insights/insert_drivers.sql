-- Append the rows of the registered frame insights_incoming (columns matched by name).
insert into enrich.key_drivers by name select * from insights_incoming
