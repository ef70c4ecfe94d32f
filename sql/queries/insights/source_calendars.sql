-- Which working-day calendar each source follows (source, calendar_id).
select source, calendar_id from ops.source_calendar;
