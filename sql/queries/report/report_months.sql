-- Every month with feedback: responses, informative comments, complete or not (choosing and
-- listing report periods).
select * from reporting.rpt_report_months order by month;
