"""The theme report for the feedback response team.

Themes of the month ranked by volume, negativity and momentum, each with a 12-month sparkline,
aspect sentiment, the segments where it is concentrated and diverse redacted quotes; the
comments that need a response; and every redacted comment of the last 12 months with filters
(month, site, service, channel, theme) and full-text search, all in one offline HTML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines import periods, stats
from pipelines.report import charts
from pipelines.report.data import MAX_COMMENTS, ReportContext, records
from pipelines.report.html import clean

SPARK_MONTHS = 12
NEEDS_MAX = 500
PAGE_SIZE = 200


@dataclass
class Page:
    """A rendered report: its template context, charts and exportable tables."""

    template: str
    context: dict[str, Any]
    charts: list[charts.Chart]
    tables: dict[str, pd.DataFrame]


def build(ctx: ReportContext) -> Page:
    """Collect everything the theme report shows for ``ctx.month``."""
    spark_from = periods.add_months(ctx.month, -(SPARK_MONTHS - 1))
    ranking = ctx.query("theme_ranking", month=ctx.month)
    monthly = ctx.query("theme_monthly", month_from=spark_from, month_to=ctx.month)
    segments = ctx.query("theme_segments", month=ctx.month)
    quotes = ctx.query("theme_quotes", month=ctx.month)
    needs = ctx.query("needing_response", month=ctx.month, max_rows=NEEDS_MAX + 1)
    comments = ctx.query("comments", month_from=spark_from, month_to=ctx.month_to, max_rows=MAX_COMMENTS + 1)

    shown = ranking[~ranking["suppressed"].astype(bool)]
    this_month = monthly[pd.to_datetime(monthly["month"]).dt.date == ctx.month].set_index("theme_id")
    months = [periods.add_months(spark_from, i) for i in range(SPARK_MONTHS)]
    themes = [_theme_row(t, monthly, this_month, segments, quotes, months) for t in records(shown)]
    sentiment_chart, trend_chart = _charts(ctx, shown, monthly, this_month)

    needs_truncated = len(needs) > NEEDS_MAX
    needs = needs.head(NEEDS_MAX)
    truncated = len(comments) > MAX_COMMENTS
    comments = comments.head(MAX_COMMENTS)
    payload = _comments_payload(ctx, monthly, comments, needs, truncated)
    month_comments = sum(1 for c in payload["comments"] if c["m"] == ctx.period)
    counts = {
        "comments": month_comments if month_comments >= ctx.min_cell or month_comments == 0 else None,
        "needs": len(needs),
        "rising": sum(1 for t in themes if t["momentum_significant"] and (t["momentum_pct_points"] or 0) > 0),
    }
    context = {
        "themes": themes,
        "suppressed_themes": int(ranking["suppressed"].astype(bool).sum()),
        "sentiment_chart": sentiment_chart,
        "trend_chart": trend_chart,
        "needs": records(needs),
        "needs_truncated": needs_truncated,
        "stats": counts,
        "comments_payload": payload,
    }
    tables = {
        "theme_ranking": ranking,
        "theme_monthly": monthly,
        "theme_segments": segments,
        "theme_quotes": quotes,
        "comments_needing_response": needs,
        "comments": comments,
    }
    chart_list = [c for c in (sentiment_chart, trend_chart) if c is not None]
    return Page("theme_report.html.j2", context, chart_list, tables)


def _charts(
    ctx: ReportContext, shown: pd.DataFrame, monthly: pd.DataFrame, this_month: pd.DataFrame
) -> tuple[charts.Chart | None, charts.Chart | None]:
    """Aspect sentiment of the top 12 themes and the monthly share of the top 5 (None when no data)."""
    top = shown.head(12)
    if not len(top):
        return None, None
    bars = top[["theme_id", "theme_label"]].join(
        this_month[["positive_pct", "neutral_pct", "negative_pct"]], on="theme_id"
    )
    sentiment_chart = charts.aspect_sentiment_bars(
        "chart-aspect-sentiment", f"Aspect sentiment of the top themes, {ctx.month:%B %Y}", bars
    )
    top_labels = list(shown.head(5)["theme_label"])
    series = monthly[monthly["theme_label"].isin(top_labels)]
    if series["month"].nunique() < 2:
        return sentiment_chart, None
    trend_chart = charts.theme_lines("chart-theme-trends", "Share of comments, top 5 themes", series, top_labels)
    return sentiment_chart, trend_chart


def _comments_payload(
    ctx: ReportContext, monthly: pd.DataFrame, comments: pd.DataFrame, needs: pd.DataFrame, truncated: bool
) -> dict[str, Any]:
    """The JSON the comment explorer (static/report.js) filters and searches, with short keys."""
    needs_reason = dict(zip(needs["feedback_id"], needs["reason"], strict=True))
    return {
        "period": ctx.period,
        "page_size": PAGE_SIZE,
        "truncated": truncated,
        "themes": {
            r["theme_id"]: r["theme_label"]
            for r in records(monthly[["theme_id", "theme_label"]].drop_duplicates())
            if r["theme_label"]
        },
        "comments": [
            {
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
            for c in records(comments)
        ],
    }


def _theme_row(
    t: dict[str, Any],
    monthly: pd.DataFrame,
    this_month: pd.DataFrame,
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
    sentiment = this_month.loc[t["theme_id"]] if t["theme_id"] in this_month.index else None
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
        "sentiment_bar": charts.sentiment_bar_svg(
            *(sentiment[c] if sentiment is not None else None for c in ("positive_pct", "neutral_pct", "negative_pct"))
        ),
        "segments": records(seg),
        "quotes": records(q),
    }
