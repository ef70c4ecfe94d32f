-- Outputs of the insights stage (pipelines/insights.py, docs/insights.md), one set of rows per
-- pipeline run (run_id); marts.fct_theme_alerts / fct_key_drivers / fct_segment_lift show the
-- latest run. Results come at two levels: 'theme' (theme_id = a registry id, T0001 ...) and
-- 'category' (theme_id = 'category:<taxonomy id>', every theme mapped to that category together:
-- stable across refits and not weakened when the model splits a topic). 050_actions.sql declares the base columns too (so the reporting layer builds
-- before this stage ever ran); the extra columns are added here, idempotently.

-- One row per insights run: parameters and the size of every test family, so that a
-- committee report can say what was tested and how many comparisons were corrected for.
create table if not exists enrich.insight_runs (
    run_id            varchar primary key,
    started_at        timestamptz not null,
    finished_at       timestamptz,
    params_hash       varchar not null,
    params            varchar not null,    -- json: models/themes/insights.yaml as applied
    data_from         date,                -- first and last month analysed
    data_to           date,
    emerging_tests    bigint,              -- comparisons in the BH family
    alerts            bigint,
    driver_scopes     bigint,              -- (outcome, scope) models fitted
    drivers           bigint,              -- theme rows in enrich.key_drivers
    lift_tests        bigint,
    lift_significant  bigint,
    details           varchar              -- json: skipped scopes and why, timings
);

-- Emerging themes: a theme whose share of a segment's informative comments in a month rose
-- above its trailing baseline beyond chance (one-sided test, BH-corrected). Only alerts.
create table if not exists enrich.theme_alerts (
    run_id          varchar not null,
    theme_id        varchar not null,
    segment_type    varchar,      -- all | site | service | channel
    segment_value   varchar,
    period          date,         -- first day of the month
    count           bigint,       -- comments on the theme in the segment-month
    share           double,       -- count / informative comments in the segment-month
    baseline_share  double,
    p_value         double,
    q_value         double,
    lift            double,       -- share / baseline_share (null when the baseline share is 0)
    quotes          varchar,      -- json list of redacted quotes
    method          varchar
);
alter table enrich.theme_alerts add column if not exists level varchar;        -- theme | category
alter table enrich.theme_alerts add column if not exists category_id varchar;
alter table enrich.theme_alerts add column if not exists total bigint;
alter table enrich.theme_alerts add column if not exists baseline_count bigint;
alter table enrich.theme_alerts add column if not exists baseline_total bigint;
alter table enrich.theme_alerts add column if not exists baseline_from date;
alter table enrich.theme_alerts add column if not exists baseline_to date;
alter table enrich.theme_alerts add column if not exists increase double;
alter table enrich.theme_alerts add column if not exists ci_low double;
alter table enrich.theme_alerts add column if not exists dispersion double;
alter table enrich.theme_alerts add column if not exists p_exact double;
alter table enrich.theme_alerts add column if not exists family_size bigint;
alter table enrich.theme_alerts add column if not exists negative_share double;  -- of the month's theme comments

-- Sources (source / site / service strata) that started or stopped contributing to a segment in
-- a month. The emerging-theme tests compare a month with its baseline only over the strata that
-- contribute to both, and this table says which were left out and why: a change in the mix of
-- sources is labelled as such, never as an emerging theme.
create table if not exists enrich.source_changes (
    run_id             varchar not null,
    segment_type       varchar,      -- all | site | service | channel
    segment_value      varchar,
    period             date,         -- first day of the month
    stratum            varchar,      -- 'source / site / service'
    change             varchar,      -- new source | stopped source
    comments           bigint,       -- informative comments of the stratum in the month
    baseline_comments  bigint,       -- ... in the previous baseline_months months
    baseline_months    bigint        -- months of that window in which it had comments
);

-- Key drivers: theme effects on a poor outcome per (outcome, scope), from a penalised
-- logistic regression over survey responses with bootstrap confidence intervals.
create table if not exists enrich.key_drivers (
    run_id       varchar not null,
    outcome      varchar,         -- fft_poor | nps_detractor
    scope        varchar,         -- 'All' or a service name
    theme_id     varchar not null,
    importance   double,          -- outcome rate (0..1) attributable to the theme
    coef         double,          -- log-odds coefficient
    ci_low       double,          -- CI of coef
    ci_high      double,
    prevalence   double,          -- share of the scope's responses carrying the theme
    n            bigint,          -- responses carrying the theme
    performance  double           -- mean rating (0..1) of responses mentioning the theme
);
alter table enrich.key_drivers add column if not exists level varchar;         -- theme | category
alter table enrich.key_drivers add column if not exists category_id varchar;
alter table enrich.key_drivers add column if not exists scope_type varchar;
alter table enrich.key_drivers add column if not exists rank integer;
alter table enrich.key_drivers add column if not exists importance_ci_low double;
alter table enrich.key_drivers add column if not exists importance_ci_high double;
alter table enrich.key_drivers add column if not exists importance_share double;
alter table enrich.key_drivers add column if not exists odds_ratio double;
alter table enrich.key_drivers add column if not exists p_value double;
alter table enrich.key_drivers add column if not exists q_value double;
alter table enrich.key_drivers add column if not exists outcome_rate_with double;
alter table enrich.key_drivers add column if not exists outcome_rate_without double;
alter table enrich.key_drivers add column if not exists mentions bigint;
alter table enrich.key_drivers add column if not exists positive_share double;
alter table enrich.key_drivers add column if not exists n_scope bigint;
alter table enrich.key_drivers add column if not exists events bigint;
alter table enrich.key_drivers add column if not exists bootstrap_reps integer;
alter table enrich.key_drivers add column if not exists method varchar;

-- Segment lift: where a theme's (negative) comments concentrate versus the rest of the data.
-- Every tested comparison is kept; is_significant marks the ones to report.
create table if not exists enrich.segment_lift (
    run_id            varchar not null,
    theme_id          varchar not null,
    segment_type      varchar,    -- site | service | channel | weekday | hour_band | month
    segment_value     varchar,
    n                 bigint,     -- theme comments in the segment
    share_in_segment  double,
    share_elsewhere   double,
    lift              double,
    p_value           double,
    q_value           double
);
alter table enrich.segment_lift add column if not exists level varchar;        -- theme | category
alter table enrich.segment_lift add column if not exists category_id varchar;
alter table enrich.segment_lift add column if not exists total bigint;
alter table enrich.segment_lift add column if not exists count_elsewhere bigint;
alter table enrich.segment_lift add column if not exists total_elsewhere bigint;
alter table enrich.segment_lift add column if not exists is_significant boolean;
alter table enrich.segment_lift add column if not exists mention varchar;
alter table enrich.segment_lift add column if not exists method varchar;
