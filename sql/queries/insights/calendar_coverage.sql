-- Days each working-day calendar covers: (calendar_id, first day, last day).
select calendar_id, min(day), max(day) from ops.calendar group by calendar_id;
