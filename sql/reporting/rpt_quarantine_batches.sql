-- Quarantined rows per ingest batch, check and reason, so the run-status page can link each
-- batch to the rows it quarantined: row numbers (first 20, in file order) point into the source
-- file; the rows themselves (raw.quarantine.raw_row) stay with the data team, never in reports.
create or replace view reporting.rpt_quarantine_batches as
select
    batch_id,
    source,
    failed_check,
    reason,
    count(*)                                             as rows,
    list(row_number order by row_number)[1:20]           as row_numbers,
    min(quarantined_at)                                  as first_seen,
    max(quarantined_at)                                  as last_seen
from raw.quarantine
group by batch_id, source, failed_check, reason
order by max(quarantined_at) desc, batch_id, rows desc;
