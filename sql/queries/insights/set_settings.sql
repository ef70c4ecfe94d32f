-- KPI settings the complaint models read: resolution target in working days and the calendar
-- of sources without a configured country.
insert or replace into ops.report_settings values
    ('resolution_target_working_days', cast($target as varchar)),
    ('default_calendar', $calendar);
