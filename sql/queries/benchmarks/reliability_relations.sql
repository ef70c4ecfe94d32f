-- Every table and view of the open warehouse, in every schema (make reliability counts them all).
select table_schema, table_name
from information_schema.tables
where table_catalog = current_database()
  and table_schema not in ('information_schema', 'pg_catalog')
order by table_schema, table_name;
