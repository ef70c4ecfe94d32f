-- Diverse redacted quotes per theme for the month.
select * from reporting.rpt_theme_quotes where month = $month order by theme_id, quote_rank;
