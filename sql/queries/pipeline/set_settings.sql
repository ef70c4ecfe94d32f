insert or replace into ops.report_settings values
    ('min_cell', cast($min_cell as varchar)),
    ('timezone', $timezone);
