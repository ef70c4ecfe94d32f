-- A file held back by the final privacy scan: where and what was found (never the value).
insert into ops.export_blocks by name
select run_id, file, column_name, kind, count, blocked_at from incoming_export_blocks;
