-- Primary theme each clause text had before this refit (most frequent, then lowest id).
select text_hash, theme_id
from (
    select text_hash, theme_id, row_number() over (partition by text_hash order by count(*) desc, theme_id) as rn
    from enrich.theme_assignments
    where theme_rank = 1 and text_hash is not null
    group by text_hash, theme_id
)
where rn = 1
