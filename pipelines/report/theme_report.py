"""The theme report for the feedback response team.

Themes of the period ranked by volume, negativity and momentum, each with a sparkline of every
month with data, aspect sentiment, the segments where it is concentrated and diverse redacted
quotes; the comments that need a response; and the redacted comments of the last 12 months with
filters (month, site, service, channel, theme) and full-text search, all in one offline HTML
file. Its charts are server-side SVG, so the page carries no chart library and stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines import stats
from pipelines.report import charts
from pipelines.report.data import MAX_COMMENTS, ReportContext, records
from pipelines.report.html import clean, json_for_script

NEEDS_MAX = 500
# The month view ranks at most this many taxonomy categories; each opens into its themes.
MAX_CATEGORIES = 20
# Themes whose category is not in the taxonomy (rpt_category_window_ranking uses the same name).
NEW_CATEGORY = "New (not in taxonomy)"
PAGE_SIZE = 200
# The comment explorer's share of the page's 1.5 MB (html.PAGE_BYTES_MAX): the rest of the
# page stays well under 400 kB. Newest comments first; the export holds every comment.
COMMENTS_JSON_BYTES = 1_000_000


@dataclass
class Page:
    """A rendered report: its template context, charts and exportable tables."""

    template: str
    context: dict[str, Any]
    charts: list[charts.Chart]
    tables: dict[str, pd.DataFrame]


def build(ctx: ReportContext) -> Page:
    """Collect everything the theme report shows for ``ctx.period``."""
    period = ctx.period
    ranking = ctx.query("theme_ranking", **ctx.window)
    category_counts = ctx.query("category_ranking", **ctx.window)
    monthly = ctx.query("theme_monthly", month_from=ctx.trend_from, month_to=period.last_month)
    segments = ctx.query("theme_segments", **ctx.window)
    quotes = ctx.query("theme_quotes", month_from=period.start, month_to=period.last_month)
    needs = ctx.query("needing_response", month_from=period.start, month_to=period.last_month, max_rows=NEEDS_MAX + 1)
    comments = ctx.query("comments", month_from=ctx.explorer_from, month_to=period.end, max_rows=MAX_COMMENTS + 1)

    shown = ranking[~ranking["suppressed"].astype(bool)]
    months = sorted({pd.Timestamp(m).date() for m in monthly["month"]})
    themes = [_theme_row(t, monthly, segments, quotes, months) for t in records(shown)]
    categories, more_categories = category_groups(themes, records(category_counts))
    sentiment_chart, trend_chart = _charts(ctx, shown, monthly)

    needs_truncated = len(needs) > NEEDS_MAX
    needs = needs.head(NEEDS_MAX)
    capped = len(comments) > MAX_COMMENTS
    comments = comments.head(MAX_COMMENTS)
    payload = _comments_payload(ctx, monthly, comments, needs, capped)
    in_period = {f"{m:%Y-%m}" for m in period.month_starts()}
    period_comments = int(comments["month"].map(lambda m: str(m)[:7] in in_period).sum()) if len(comments) else 0
    counts = {
        "comments": period_comments if period_comments >= ctx.min_cell or period_comments == 0 else None,
        "needs": len(needs),
        "rising": sum(1 for t in themes if t["momentum_significant"] and (t["momentum_pct_points"] or 0) > 0),
    }
    context = {
        "themes": themes,
        "categories": categories,
        "more_categories": more_categories,
        "suppressed_themes": int(ranking["suppressed"].astype(bool).sum()),
        "sentiment_chart": sentiment_chart,
        "trend_chart": trend_chart,
        "trend_months": len(months),
        "needs": records(needs),
        "needs_truncated": needs_truncated,
        "stats": counts,
        "comments_payload": payload,
    }
    tables = {
        "theme_ranking": ranking,
        "category_ranking": category_counts,
        "theme_monthly": monthly,
        "theme_segments": segments,
        "theme_quotes": quotes,
        "comments_needing_response": needs,
        "comments": comments,
    }
    chart_list = [c for c in (sentiment_chart, trend_chart) if c is not None]
    return Page("theme_report.html.j2", context, chart_list, tables)


def category_groups(
    themes: list[dict[str, Any]], counts: list[dict[str, Any]], limit: int = MAX_CATEGORIES
) -> tuple[list[dict[str, Any]], int]:
    """The period's themes grouped under their taxonomy categories, at most ``limit`` categories.

    ``counts`` are the categories' rows of ``rpt_category_window_ranking``: a comment counts once
    in each category it touches, so a category's comments are at most the sum of its themes'.
    Categories rank by those comments; each carries its themes, largest first. A category is
    shown when at least one of its themes is (its themes under k stay in the theme ranking's
    suppressed count). Returns the categories shown and how many more had shown themes.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for t in themes:
        groups.setdefault(t["category"] or NEW_CATEGORY, []).append(t)
    by_name = {c["category_name"]: c for c in counts}
    rows = []
    for name, members in groups.items():
        members = sorted(members, key=lambda t: (-(t["comments"] or 0), t["label"]))
        count = by_name.get(name, {})
        rows.append(
            {
                "name": name,
                "comments": count.get("comments"),
                "share_pct": count.get("share_pct"),
                "negative_pct": count.get("negative_pct"),
                "themes": members,
            }
        )
    rows.sort(key=lambda r: (-(r["comments"] or 0), r["name"]))
    return rows[:limit], max(0, len(rows) - limit)


def _charts(
    ctx: ReportContext, shown: pd.DataFrame, monthly: pd.DataFrame
) -> tuple[charts.Chart | None, charts.Chart | None]:
    """Aspect sentiment of the top 12 themes and the monthly share of the top 5 (None when no data)."""
    top = shown.head(12)
    sentiment_chart = (
        charts.aspect_sentiment_bars(
            "chart-aspect-sentiment", f"Aspect sentiment of the top themes, {ctx.period.label}", top
        )
        if len(top)
        else None
    )
    top_labels = trend_themes(shown, monthly)
    series = monthly[monthly["theme_label"].isin(top_labels)]
    if series["month"].nunique() < 2:
        return sentiment_chart, None
    period = (f"{ctx.period.start:%Y-%m}", f"{ctx.period.last_month:%Y-%m}")
    title = "Share of comments, top 5 themes"
    trend_chart = charts.theme_lines("chart-theme-trends", title, series, top_labels, period)
    return sentiment_chart, trend_chart


def trend_themes(shown: pd.DataFrame, monthly: pd.DataFrame, n: int = 5) -> list[str]:
    """The themes to draw trends for: the period's top ``n``, else the top ``n`` of every month.

    A thin period may have no theme with k or more comments; its trend chart then shows the
    themes with the most comments over all the months with data, so the page is never empty.
    """
    if len(shown):
        return list(shown.head(n)["theme_label"])
    totals = monthly.dropna(subset=["comments"]).groupby("theme_label")["comments"].sum()
    return list(totals.sort_values(ascending=False).head(n).index)


def _comments_payload(
    ctx: ReportContext, monthly: pd.DataFrame, comments: pd.DataFrame, needs: pd.DataFrame, capped: bool
) -> dict[str, Any]:
    """The JSON the comment explorer (static/report.js) filters and searches, with short keys.

    Comments come newest first and stop at ``COMMENTS_JSON_BYTES``; ``truncated`` says when the
    page holds fewer comments than the period has (that cut, or the query's ``MAX_COMMENTS``).
    """
    needs_reason = dict(zip(needs["feedback_id"], needs["reason"], strict=True))
    shown, size = [], 0
    for c in records(comments):
        item = {
            "id": c["feedback_id"],
            "d": str(c["received_local"])[:10],
            "m": str(c["month"])[:7],
            "site": c["site"],
            "service": c["service"],
            "ch": c["channel"],
            "text": c["text_redacted"],
            "sent": c["sentiment_label"],
            "themes": list(c["theme_ids"] or []),
            "needs": needs_reason.get(c["feedback_id"]),
        }
        size += len(str(json_for_script(item)).encode("utf-8")) + 2  # as written: escaped, ", " between
        if size > COMMENTS_JSON_BYTES:
            break
        shown.append(item)
    period = ctx.period
    return {
        "period": ctx.key,
        "period_label": period.label,
        "period_months": [f"{m:%Y-%m}" for m in period.month_starts()],
        "page_size": PAGE_SIZE,
        "truncated": capped or len(shown) < len(comments),
        "themes": {
            r["theme_id"]: r["theme_label"]
            for r in records(monthly[["theme_id", "theme_label"]].drop_duplicates())
            if r["theme_label"]
        },
        "comments": shown,
    }


def _theme_row(
    t: dict[str, Any],
    monthly: pd.DataFrame,
    segments: pd.DataFrame,
    quotes: pd.DataFrame,
    months: list,
) -> dict[str, Any]:
    series = monthly[monthly["theme_id"] == t["theme_id"]]
    by_month = {pd.Timestamp(m).date(): clean(v) for m, v in zip(series["month"], series["share_pct"], strict=True)}
    values = [by_month.get(m) for m in months]
    shown_values = [v for v in values if v is not None]
    spark_label = f"{t['theme_label']}: share of comments over {len(months)} months, " + (
        f"from {shown_values[0]:.1f}% to {shown_values[-1]:.1f}%" if shown_values else "no unsuppressed month"
    )
    seg = segments[segments["theme_id"] == t["theme_id"]].head(3)
    q = quotes[quotes["theme_id"] == t["theme_id"]].sort_values("quote_rank")
    return {
        "theme_id": t["theme_id"],
        "label": t["theme_label"] or t["theme_id"],
        "category": t["category_name"],
        "comments": t["comments"],
        "share_pct": t["share_pct"],
        "negative_pct": t["negative_pct"],
        "momentum_pct_points": t["momentum_pct_points"],
        "momentum_significant": bool(t["momentum_significant"]),
        "momentum_p": stats.p_from_z(t["momentum_z"]),
        "rank_volume": t["rank_volume"],
        "rank_negativity": t["rank_negativity"],
        "rank_momentum": t["rank_momentum"],
        "is_complaint_theme": bool(t["is_complaint_theme"]),
        "spark": charts.sparkline_svg(values, spark_label),
        "sentiment_bar": charts.sentiment_bar_svg(t["positive_pct"], t["neutral_pct"], t["negative_pct"]),
        "segments": records(seg),
        "quotes": records(q),
    }
