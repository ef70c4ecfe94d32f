-- Tables the report stage and the `feedback action` commands write (safe to re-run).

-- "You said, we did": improvement actions the response team records against a theme and a
-- segment (site and/or service; null = every site / service) from a start date. The trend pack
-- measures each action's effect on that theme (marts.fct_kpi_action_effect).
create table if not exists ops.actions (
    action_id    varchar primary key,   -- 'A' + sha1(theme|site|service|start|description)[:8]
    theme_id     varchar not null,
    site         varchar,
    service      varchar,
    start_date   date not null,
    end_date     date,
    description  varchar not null,
    owner        varchar,
    status       varchar not null,      -- planned | in progress | done
    recorded_by  varchar not null,      -- cli | import:<file name>
    recorded_at  timestamptz not null
);

-- Working-day calendars written from the `holidays` package (pipelines/kpis.py):
-- calendar_id is a source's `country` (GB = England and Wales bank holidays, GB-SCT, US-CA ...).
-- working_day_index counts working days from the calendar's first day up to and including
-- `day`, so working days between two dates are a subtraction.
create table if not exists ops.calendar (
    calendar_id        varchar not null,
    day                date not null,
    is_working_day     boolean not null,
    holiday_name       varchar,
    working_day_index  integer not null,
    primary key (calendar_id, day)
);

-- Which calendar each configured source follows (from `country:` in config/sources/*.yaml).
create table if not exists ops.source_calendar (
    source       varchar primary key,
    calendar_id  varchar not null
);

-- Outputs of the insights stage (pipelines/insights.py), declared here too so that the
-- reporting layer builds on a warehouse where that stage has never run. The insights schema
-- declares the same columns; whichever file runs first creates the table.
create table if not exists enrich.theme_alerts (
    run_id          varchar not null,
    theme_id        varchar not null,
    segment_type    varchar,
    segment_value   varchar,
    period          date,
    count           bigint,
    share           double,
    baseline_share  double,
    p_value         double,
    q_value         double,
    lift            double,
    quotes          varchar,      -- json list of redacted quotes
    method          varchar
);

create table if not exists enrich.key_drivers (
    run_id       varchar not null,
    outcome      varchar,
    scope        varchar,
    theme_id     varchar not null,
    importance   double,
    coef         double,
    ci_low       double,
    ci_high      double,
    prevalence   double,
    n            bigint,
    performance  double
);

create table if not exists enrich.segment_lift (
    run_id            varchar not null,
    theme_id          varchar not null,
    segment_type      varchar,
    segment_value     varchar,
    n                 bigint,
    share_in_segment  double,
    share_elsewhere   double,
    lift              double,
    p_value           double,
    q_value           double
);
