-- Files the final privacy scan held back, newest first: which file, column and kind of
-- identifier, how many. The values themselves are never stored.
create or replace view reporting.rpt_export_blocks as
select run_id, file, column_name, kind, count, blocked_at
from ops.export_blocks
order by blocked_at desc, file, column_name, kind;
