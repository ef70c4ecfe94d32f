-- Every value of one column ($column) of one extract table ($relation), for the privacy scan of a
-- column whose type holds text inside a struct or map (pipelines/report/extract.py).
select columns(c -> c = $column) from query_table($relation);
