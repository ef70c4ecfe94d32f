-- Sites and services that occur in the feedback (kind, value).
select distinct 'site' as kind, site as value from marts.fct_responses where site is not null
union all
select distinct 'service', service from marts.fct_responses where service is not null;
