-- Comments of the report period that need a response (reason, priority), for the theme report.
select * from reporting.rpt_comments_needing_response
where month between $month_from and $month_to
order by priority, received_local desc
limit $max_rows;
