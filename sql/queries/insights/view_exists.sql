-- 1 when the named view (schema.name) exists: the report stage rebuilds the models otherwise.
select count(*) from duckdb_views() where schema_name || '.' || view_name = $name;
