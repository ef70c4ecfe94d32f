-- Taxonomy categories ranked over windows of whole months (the windows of
-- rpt_theme_window_ranking: 1-12 months ending at each month with themed comments). A comment
-- counts once in every category it touches, however many of its clauses or themes fall there
-- (issue 14, item 4); themes outside the taxonomy form the category 'New (not in taxonomy)'.
--   comments       distinct comments with at least one clause on a theme of the category
--   share_pct      of the window's informative comments (rpt_theme_window_ranking's denominator)
--   negative_pct   share of the category's clauses with negative aspect sentiment
--   themes         themes of the category with a clause in the window
-- Cells with fewer than k comments (k = min_cell) are suppressed and not ranked.
-- A comment lies in one month, so its distinct count per window is the sum of the per-month
-- distinct counts: the months are counted first and the windows add them up (joining every
-- clause to each of the up to 78 windows that hold its month took seconds at 100k comments).
-- Themes can recur across months, so they are counted distinct over each window's months.
create or replace view reporting.rpt_category_window_ranking as
with k as (
    select coalesce(max(try_cast(value as integer)) filter (where key = 'min_cell'), 5) as min_cell
    from ops.report_settings
),
clauses as (
    select coalesce(category_name, 'New (not in taxonomy)') as category_name, cast(month as date) as month,
           feedback_id, theme_id, aspect_sentiment3
    from published.fct_feedback_theme
    where month is not null
),
months as (
    select month, max(total_comments) as total_comments
    from published.fct_kpi_theme_monthly
    where scope_type = 'overall'
    group by month
),
windows as (
    select l.window_months, cast(m.month as date) as window_end,
           cast(m.month - to_months(l.window_months - 1) as date) as window_start,
           (select sum(t.total_comments) from months as t
             where t.month between cast(m.month - to_months(l.window_months - 1) as date) and m.month) as total_comments
    from months as m
    cross join range(1, 13) as l(window_months)
),
per_month as (
    select
        category_name, month,
        count(distinct feedback_id)                               as comments,
        count(*)                                                  as clauses,
        count(*) filter (where aspect_sentiment3 = 'negative')    as negative_clauses
    from clauses
    group by all
),
theme_months as (
    select distinct category_name, month, theme_id
    from clauses
),
window_themes as (
    select t.category_name, w.window_end, w.window_months, count(distinct t.theme_id) as themes
    from theme_months as t
    join windows as w on t.month between w.window_start and w.window_end
    group by all
),
cells as (
    select
        p.category_name, w.window_end, w.window_months, w.window_start, w.total_comments,
        cast(sum(p.comments) as bigint)           as comments,
        cast(sum(p.clauses) as bigint)            as clauses,
        cast(sum(p.negative_clauses) as bigint)   as negative_clauses,
        t.themes
    from per_month as p
    join windows as w on p.month between w.window_start and w.window_end
    join window_themes as t
      on t.category_name = p.category_name and t.window_end = w.window_end and t.window_months = w.window_months
    group by all
),
scored as (
    select c.*, c.comments < k.min_cell as suppressed
    from cells as c
    cross join k
)
select
    category_name,
    window_end,
    window_months,
    window_start,
    case when not suppressed then comments end                                      as comments,
    case when not suppressed then 100.0 * comments / nullif(total_comments, 0) end  as share_pct,
    case when not suppressed then 100.0 * negative_clauses / clauses end            as negative_pct,
    themes,
    case when not suppressed then rank() over (partition by window_end, window_months, suppressed
        order by comments desc) end                                                 as rank_volume,
    suppressed
from scored
order by window_months, window_end, suppressed, comments desc, category_name;
