-- Quarantined rows by source and reason.
select * from reporting.rpt_quarantine order by rows desc, source, failed_check, reason;
