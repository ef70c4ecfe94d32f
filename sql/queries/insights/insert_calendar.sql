-- Insert the registered frame `incoming_calendar` (pipelines/kpis.py calendar_frame).
insert into ops.calendar by name select * from incoming_calendar;
