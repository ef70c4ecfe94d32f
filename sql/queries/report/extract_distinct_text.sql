-- The distinct non-empty strings of one VARCHAR column ($column) of one extract table ($relation),
-- in order of first appearance: what the privacy scan reads (pipelines/report/extract.py).
select v
from (select columns(c -> c = $column) as v, row_number() over () as r from query_table($relation))
where v is not null and v <> ''
group by v
order by min(r), v;
