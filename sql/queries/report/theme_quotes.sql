-- Diverse redacted quotes per theme for the report period: each month's quotes (rpt_theme_quotes,
-- only theme-months with k or more comments), the newest month's first, at most five per theme.
select theme_id, month, quote_rank as month_quote_rank, quote, sentiment, channel, feedback_id,
       row_number() over (partition by theme_id order by quote_rank, month desc) as quote_rank
from reporting.rpt_theme_quotes
where month between $month_from and $month_to
qualify row_number() over (partition by theme_id order by quote_rank, month desc) <= 5
order by theme_id, quote_rank;
