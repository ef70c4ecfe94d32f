-- A SQL file applied (a schema script run, a model built).
insert or replace into ops.schema_migrations (name, kind, sha256, inputs_sha256, applied_at)
values ($name, $kind, $sha256, $inputs_sha256, $applied_at);
