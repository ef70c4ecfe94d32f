-- What apply_schema / build_models applied last, per SQL file.
select name, sha256, inputs_sha256 from ops.schema_migrations;
