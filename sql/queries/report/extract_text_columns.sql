-- Columns of a written reporting extract that can hold text, for the privacy scan: 'text' (VARCHAR),
-- 'list' (VARCHAR[]) and 'other' (any other type with VARCHAR inside: structs, maps, nested lists).
-- Numbers, booleans, dates, times and UUIDs hold no text and are not listed. Run on the extract.
select
    c.table_name,
    c.column_name,
    case
        when c.data_type = 'VARCHAR' then 'text'
        when c.data_type = 'VARCHAR[]' then 'list'
        else 'other'
    end as kind
from information_schema.columns as c
where c.table_schema = 'main' and (c.data_type like '%VARCHAR%' or c.data_type like 'JSON%')
order by c.table_name, c.ordinal_position;
