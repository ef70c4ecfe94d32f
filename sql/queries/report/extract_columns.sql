-- Columns of every reporting view of the warehouse: what the PHI-free reporting extract copies,
-- and all it copies (pipelines/report/extract.py). The warehouse may be attached as a named
-- catalog (encrypted), so only the current database's views count.
select c.table_name, c.column_name
from information_schema.columns as c
join information_schema.tables as t
  on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema and t.table_name = c.table_name
where c.table_catalog = current_database() and c.table_schema = 'reporting' and t.table_type = 'VIEW'
order by c.table_name, c.ordinal_position;
