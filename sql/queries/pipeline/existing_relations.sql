-- Tables and views of the warehouse, as 'schema.name' (in the attached file when encrypted).
select schema_name || '.' || table_name as name, 'table' as kind
from duckdb_tables()
where database_name = current_database() and not internal
union all
select schema_name || '.' || view_name, 'view'
from duckdb_views()
where database_name = current_database() and not internal;
