-- Taxonomy categories ranked over windows of whole months (the windows of
-- rpt_theme_window_ranking: 1-12 months ending at each month with themed comments). A comment
-- counts once in every category it touches, however many of its clauses or themes fall there
-- (issue 14, item 4); themes outside the taxonomy form the category 'New (not in taxonomy)'.
--   comments       distinct comments with at least one clause on a theme of the category
--   share_pct      of the window's informative comments (rpt_theme_window_ranking's denominator)
--   negative_pct   share of the category's clauses with negative aspect sentiment
--   themes         themes of the category with a clause in the window
-- Cells with fewer than k comments (k = min_cell) are suppressed and not ranked.
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
cells as (
    select
        c.category_name, w.window_end, w.window_months, w.window_start, w.total_comments,
        count(distinct c.feedback_id)                                 as comments,
        count(*)                                                      as clauses,
        count(*) filter (where c.aspect_sentiment3 = 'negative')      as negative_clauses,
        count(distinct c.theme_id)                                    as themes
    from clauses as c
    join windows as w on c.month between w.window_start and w.window_end
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
