-- What the extract holds: one row per copied view with its row and column counts. Run on the extract.
create table main.meta_tables as
select
    cast(t.table_name as varchar)                                        as table_name,
    cast(t.rows as bigint)                                               as rows,
    (select count(*) from information_schema.columns as c
     where c.table_schema = 'main' and c.table_name = t.table_name)      as columns
from extract_tables as t
order by t.table_name;
