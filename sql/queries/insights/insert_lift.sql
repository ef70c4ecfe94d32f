-- Append the rows of the registered frame insights_incoming (columns matched by name).
insert into enrich.segment_lift by name select * from insights_incoming
