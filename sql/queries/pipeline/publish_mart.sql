-- Publish one mart: the reporting views read published.{mart}, a copy made when a run is complete.
-- {mart} is a marts model name checked by warehouse.publish (an identifier, not a value).
create or replace table published.{mart} as from marts.{mart};
