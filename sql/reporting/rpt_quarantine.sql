-- Quarantined rows by source and reason (raw rows stay in raw.quarantine for the data team).
create or replace view reporting.rpt_quarantine as
select source, failed_check, reason, count(*) as rows, min(quarantined_at) as first_seen, max(quarantined_at) as last_seen
from raw.quarantine
group by all
order by rows desc;
