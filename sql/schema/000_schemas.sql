-- Layers of the warehouse. raw/enrich/ops hold tables written by the library;
-- staging -> intermediate -> marts -> reporting are rebuilt from sql/<layer>/*.sql;
-- reporting reads published, the copies of the marts made when a run is complete.
create schema if not exists raw;
create schema if not exists enrich;
create schema if not exists ops;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists published;  -- copies of the marts made when a run is complete (warehouse.publish)
create schema if not exists reporting;
