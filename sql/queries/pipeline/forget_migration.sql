-- Forget what was recorded for one file or copy (it is made again next time).
delete from ops.schema_migrations where name = $name;
