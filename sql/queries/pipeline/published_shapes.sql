-- Columns and types, in order, of every table of the marts and published schemas (is each mart's
-- published copy still shaped like it?).
select schema_name, table_name, column_name, data_type
from duckdb_columns()
where database_name = current_database() and schema_name in ('marts', 'published')
order by schema_name, table_name, column_index;
