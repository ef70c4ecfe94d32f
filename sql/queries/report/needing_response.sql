-- Comments of the month that need a response (reason, priority), for the theme report.
select * from reporting.rpt_comments_needing_response
where month = $month
order by priority, received_local desc
limit $max_rows;
