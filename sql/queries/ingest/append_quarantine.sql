-- Rows that failed parsing or validation, verbatim, with the check they failed.
insert into raw.quarantine
select batch_id, source, row_number, source_record_id, raw_row, failed_check, reason,
       cast($at as timestamptz) as quarantined_at
from incoming_quarantine;
