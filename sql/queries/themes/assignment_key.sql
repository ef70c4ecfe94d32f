-- Primary-key columns of enrich.theme_assignments (older warehouses keyed it by clause only).
select constraint_column_names
from duckdb_constraints()
where schema_name = 'enrich' and table_name = 'theme_assignments' and constraint_type = 'PRIMARY KEY'
