-- The KPI catalogue: one row per KPI with its definition, unit, the direction that is better,
-- the significance test used for period-over-period changes, and the month it is counted in.
-- docs/kpis.md explains each in full, with the KPIs the data cannot support.
--   direction   higher | lower (better) | neutral (volumes: neither is "better")
--   test        proportion | poisson | nps | mean | none (see published.fct_kpi_monthly)
--   headline    shown in the trend pack's KPI table
create or replace view reporting.rpt_kpi_definitions as
select * from (values
    (1, 'responses', 'Responses', 'count', 'neutral', 'poisson', true, 'month received',
     'Survey responses, suggestion-box entries and complaints received. A survey response with several free-text answers counts once.'),
    (2, 'fft_positive_pct', 'FFT % positive', '%', 'higher', 'proportion', true, 'month received',
     'NHS England definition: (Very good + Good) / all FFT responses with an answer, Don''t know included in the denominator.'),
    (3, 'fft_negative_pct', 'FFT % negative', '%', 'lower', 'proportion', true, 'month received',
     'NHS England definition: (Poor + Very poor) / all FFT responses with an answer, Don''t know included in the denominator.'),
    (4, 'satisfaction_mean', 'Satisfaction (mean, 0-100)', 'score', 'higher', 'mean', true, 'month received',
     'Mean rating per survey type, each scale mapped to 0 (worst) .. 100 (best). Don''t know and missing answers excluded.'),
    (5, 'satisfaction_top_box_pct', 'Satisfaction top-box %', '%', 'higher', 'proportion', true, 'month received',
     'Share of rated responses giving the best answer of their scale: FFT Very good, 0-10 scales 9-10, HCAHPS Always, Likert 5.'),
    (6, 'nps', 'Net Promoter Score', 'NPS', 'higher', 'nps', true, 'month received',
     'Percent promoters (9-10) minus percent detractors (0-6) of likelihood-to-recommend answers, from -100 to 100.'),
    (7, 'negative_sentiment_pct', 'Negative sentiment %', '%', 'lower', 'proportion', true, 'month received',
     'Share of informative comments (redacted free text) whose comment-level sentiment is negative.'),
    (8, 'complaints', 'Complaints', 'count', 'lower', 'poisson', true, 'month opened',
     'Complaints and grievances opened in the month.'),
    (9, 'complaint_rate_per_1000', 'Complaints per 1,000 responses', 'per 1,000', 'lower', 'poisson', true, 'month opened',
     'Complaints opened / survey responses received in the same month and scope x 1,000 (by category: over all survey responses).'),
    (10, 'ack_within_3wd_pct', 'Acknowledged within 3 working days %', '%', 'higher', 'proportion', true, 'month opened',
     'Complaints acknowledged by the 3rd working day after receipt (site calendar with bank holidays) / complaints due. Unacknowledged complaints count as late once 3 working days have passed, and are left out while still within them.'),
    (11, 'resolution_median_wd', 'Time to resolution, median (working days)', 'working days', 'lower', 'none', true, 'month closed',
     'Median working days from receipt to closure of complaints closed in the month.'),
    (12, 'resolution_p90_wd', 'Time to resolution, 90th percentile (working days)', 'working days', 'lower', 'none', true, 'month closed',
     '90th percentile of working days from receipt to closure of complaints closed in the month.'),
    (13, 'resolution_over_target_pct', 'Resolved over target %', '%', 'lower', 'proportion', true, 'month closed',
     'Complaints closed in the month that took longer than the resolution target (ops.report_settings resolution_target_working_days, default 25 working days).'),
    (14, 'first_contact_resolution_pct', 'First-contact resolution %', '%', 'higher', 'proportion', true, 'month closed',
     'Closed complaints with a recorded contact count that were resolved in one contact (contact_count = 1).'),
    (15, 'avg_handling_minutes', 'Average handling time (minutes)', 'minutes', 'lower', 'mean', true, 'month closed',
     'Mean staff handling minutes of complaints closed in the month, where handling time is recorded.'),
    (16, 'reopened_pct', 'Reopened complaints %', '%', 'lower', 'proportion', true, 'month opened',
     'Complaints opened in the month that have been reopened at least once (status reopened now or in their history, or closed then open again).')
) as t(sort_order, kpi_id, kpi_name, unit, direction, test, headline, month_basis, definition);
