select source, failed_check, reason, rows from reporting.rpt_quarantine limit $limit;
