-- Replace the source -> calendar map with the registered frame `incoming_source_calendar`.
delete from ops.source_calendar;
insert into ops.source_calendar select source, calendar_id from incoming_source_calendar;
