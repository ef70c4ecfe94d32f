-- Content fingerprint of one table: its row count and the sum of its rows' hashes. Equal
-- fingerprints mean (but for a 2^-64 accident) the same multiset of rows; order is ignored.
select count(*) as n, coalesce(sum(hash(t)), 0)::varchar as h from query_table($relation) as t;
