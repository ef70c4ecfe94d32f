-- Drop one calendar before it is rewritten for a wider range of years.
delete from ops.calendar where calendar_id = $calendar_id;
