-- Quarantined rows by source and reason.
select * from reporting.rpt_quarantine;
