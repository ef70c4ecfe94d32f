-- Site and service names are never redacted as person names.
select distinct site from raw.feedback where site is not null
union
select distinct service from raw.feedback where service is not null;
