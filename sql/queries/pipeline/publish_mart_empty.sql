-- A mart's published copy with the mart's columns and no rows (new warehouse, or new columns):
-- it fills at the next publish. {mart} is a marts model name checked by warehouse.publish.
create or replace table published.{mart} as from marts.{mart} limit 0;
