-- Clause recodes in force: the latest of each clause (a later correction set wins).
select feedback_id, clause_idx, clause_text, new_theme_id, set_version
from enrich.theme_corrections
where kind = 'recode'
qualify row_number() over (partition by feedback_id, clause_idx order by set_version desc, seq desc) = 1
order by feedback_id, clause_idx
