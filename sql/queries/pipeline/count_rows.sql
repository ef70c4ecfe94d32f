-- Row count of a relation given by name (used by `feedback status` and tests).
select count(*) from query_table($relation);
