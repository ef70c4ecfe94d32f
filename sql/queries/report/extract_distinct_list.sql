-- The distinct non-empty strings inside one VARCHAR[] column ($column) of one extract table
-- ($relation), in order of first appearance (row, then place in the list): what the privacy
-- scan reads (pipelines/report/extract.py).
select v
from (
    select unnest(l) as v, unnest(generate_series(1, len(l))) as p, r
    from (select columns(c -> c = $column) as l, row_number() over () as r from query_table($relation))
)
where v is not null and v <> ''
group by v
order by min({'r': r, 'p': p}), v;
