-- Layers of the warehouse. raw/enrich/ops hold tables written by the library;
-- staging -> intermediate -> marts -> reporting are rebuilt from sql/<layer>/*.sql.
create schema if not exists raw;
create schema if not exists enrich;
create schema if not exists ops;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists reporting;
