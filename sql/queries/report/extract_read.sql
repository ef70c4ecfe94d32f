-- Every row of one reporting view (``$relation`` = 'reporting.rpt_...'), copied into the extract.
select * from query_table($relation);
