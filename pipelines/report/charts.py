"""Charts for the reports: Plotly figures for the trend pack, server-side SVG for the rest.

Every chart is a :class:`Chart`: either a Plotly figure as JSON (drawn by the partial plotly.js
bundle inlined in the trend pack: scatter traces only) or an inline SVG (pipelines/report/svg.py:
the theme report and run status carry no chart library at all), a title, an ``aria-label`` that
says what the chart shows in words, and the data as a table the page offers under the chart
(screen readers and people who cannot tell the lines apart read that instead). Colours are
Okabe-Ito; lines also differ by dash and marker so no chart relies on colour alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from pipelines.report import svg
from pipelines.report.html import OKABE_ITO, SENTIMENT_COLOURS, clean, fmt_kpi, fmt_number

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


# Plotly trace types the charts use: each must be in the vendored partial bundle (static/README.md).
TRACE_TYPES = frozenset({"scatter"})


@dataclass
class Chart:
    """One chart of a page: a Plotly ``figure`` (drawn by plotly.js) or an inline ``svg``."""

    chart_id: str
    title: str
    aria_label: str
    figure: dict[str, Any] | None = None
    table_columns: list[str] = field(default_factory=list)
    table_rows: list[list[Any]] = field(default_factory=list)
    svg: Markup | None = None


def plotly_payload(charts: list[Chart]) -> dict[str, Any] | None:
    """The page's chart data for report.js: the Plotly charts, with their one shared template.

    Each figure's layout names the same template (``simple_white``, 8 kB as JSON); the page
    carries it once and report.js puts it back on every figure. None when no chart needs Plotly.
    """
    figures = [c for c in charts if c.figure is not None]
    if not figures:
        return None
    template = None
    out = []
    for chart in figures:
        layout = dict(chart.figure["layout"])
        template = layout.pop("template", template)
        out.append({"id": chart.chart_id, "figure": {"data": chart.figure["data"], "layout": layout}})
    return {"template": template, "charts": out}


def _figure_json(fig: Any) -> dict[str, Any]:
    figure = json.loads(fig.to_json())
    unsupported = {t.get("type", "scatter") for t in figure["data"]} - TRACE_TYPES
    if unsupported:
        raise ValueError(f"trace types {sorted(unsupported)} are not in the page's plotly.js bundle")
    return figure


def _layout(title: str, y_title: str = "", height: int = 380, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "template": "simple_white",
        "colorway": list(OKABE_ITO),
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 95},
        # Fixed margins: the template's automargin loops with a legend below ("Too many auto-margin redraws").
        "xaxis": {"automargin": False},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#e5e5e5", "showgrid": True, "automargin": False},
        "legend": {"orientation": "h", "y": -0.14, "yanchor": "top", "x": 0},
        "hovermode": "x unified",
    }
    layout.update(extra)
    return layout


def _month_labels(months: pd.Series) -> list[str]:
    return [str(m)[:7] for m in months]


def _line(go: Any, x: list[str], y: pd.Series, name: str, colour: str, dash: str) -> Any:
    """A thin reference line (control limit or centre line) of a control chart."""
    return go.Scatter(x=x, y=y, name=name, mode="lines", line={"color": colour, "dash": dash, "width": 1})


def _outside_limits_trace(go: Any, flagged: pd.DataFrame, value: str) -> Any:
    """Open diamonds on the months outside the control limits."""
    return go.Scatter(
        x=_month_labels(flagged["month"]),
        y=flagged[value],
        name="outside control limits",
        mode="markers",
        marker={
            "color": SENTIMENT_COLOURS["negative"],
            "symbol": "diamond-open",
            "size": 14,
            "line": {"width": 2},
        },
    )


def control_chart(
    chart_id: str,
    title: str,
    series: pd.DataFrame,
    unit: str,
    value: str = "value",
    centre: str = "centre",
    upper: str = "upper_limit",
    lower: str = "lower_limit",
    signal: str = "special_cause",
) -> Chart:
    """Monthly values with centre line and 3-sigma limits; months outside the limits marked."""
    import plotly.graph_objects as go

    s = series.sort_values("month")
    months = _month_labels(s["month"])
    flagged = s[s[signal].fillna(False).astype(bool)]
    fig = go.Figure()
    fig.add_trace(_line(go, months, s[upper], "upper control limit", "#777777", "dot"))
    fig.add_trace(_line(go, months, s[lower], "lower control limit", "#777777", "dot"))
    fig.add_trace(_line(go, months, s[centre], "centre line", "#000000", "dash"))
    fig.add_trace(
        go.Scatter(
            x=months,
            y=s[value],
            name=title,
            mode="lines+markers",
            line={"color": OKABE_ITO[0], "width": 2},
            marker={"size": 6},
        )
    )
    if len(flagged):
        fig.add_trace(_outside_limits_trace(go, flagged, value))
    fig.update_layout(**_layout(title, unit))
    outside = ", ".join(_month_labels(flagged["month"])) or "none"
    last = clean(s[value].iloc[-1]) if len(s) else None
    aria = (
        f"Control chart of {title} by month, {len(s)} months. Latest {months[-1] if months else ''}: "
        f"{fmt_kpi(last, unit)}. Months outside the control limits: {outside}."
    )
    columns = (s[value], s[centre], s[lower], s[upper], s[signal])
    rows = [
        [m, *(fmt_kpi(clean(x), unit) for x in (v, c, lo, hi)), "yes" if bool(clean(sig)) else ""]
        for m, v, c, lo, hi, sig in zip(months, *columns, strict=True)
    ]
    return Chart(
        chart_id,
        title,
        aria,
        _figure_json(fig),
        ["month", "value", "centre", "lower limit", "upper limit", "outside limits"],
        rows,
    )


def theme_lines(
    chart_id: str, title: str, monthly: pd.DataFrame, themes: list[str], period: tuple[str, str] | None = None
) -> Chart:
    """Share of comments per month for a few themes (inline SVG: one line each, dashes differ).

    ``period`` (first and last month as ``YYYY-MM``) is shaded: the report period.
    """
    months = sorted({str(m)[:7] for m in monthly["month"]})
    series, rows = [], []
    for i, theme in enumerate(themes):
        t = monthly[monthly["theme_label"] == theme].sort_values("month")
        by_month = {str(m)[:7]: clean(v) for m, v in zip(t["month"], t["share_pct"], strict=True)}
        series.append(
            svg.Series(
                theme,
                [by_month.get(m) for m in months],
                OKABE_ITO[i % len(OKABE_ITO)],
                DASHES[i % len(DASHES)],
                SYMBOLS[i % len(SYMBOLS)],
            )
        )
        rows += [[theme, m, fmt_kpi(v, "%")] for m, v in by_month.items()]
    aria = (
        # "; " between labels: joined by commas, "Which was hard for my grandad" and "Cleaners
        # were in constantly" read "my grandad, Cleaners": a relative and a name to the final scan.
        f"Line chart: monthly share of comments for {len(themes)} themes: {'; '.join(themes)}; "
        f"{months[0] if months else ''} to {months[-1] if months else ''}. Gaps are suppressed months."
    )
    shaded = [i for i, m in enumerate(months) if period and period[0] <= m <= period[1]]
    highlight = (shaded[0], shaded[-1]) if shaded else None
    drawn = svg.lines(chart_id, aria, months, series, "% of comments", lambda v: fmt_kpi(v, "%"), highlight)
    return Chart(chart_id, title, aria, None, ["theme", "month", "share of comments"], rows, drawn)


def aspect_sentiment_bars(chart_id: str, title: str, ranking: pd.DataFrame) -> Chart:
    """Horizontal 100 % bars of positive / neutral / negative clauses per theme (inline SVG)."""
    labels = [str(v) for v in ranking["theme_label"]]
    parts = [
        svg.Part(key, SENTIMENT_COLOURS[key], [clean(v) for v in ranking[f"{key}_pct"]])
        for key in ("positive", "neutral", "negative")
    ]
    worst = ranking.sort_values("negative_pct", ascending=False).head(1)
    worst_text = (
        f" Most negative: {worst['theme_label'].iloc[0]} "
        f"({fmt_kpi(clean(worst['negative_pct'].iloc[0]), '%')} negative)."
        if len(worst)
        else ""
    )
    aria = f"Stacked bar chart of aspect sentiment for {len(labels)} themes.{worst_text}"
    rows = [
        [t, fmt_kpi(clean(p), "%"), fmt_kpi(clean(n), "%"), fmt_kpi(clean(g), "%")]
        for t, p, n, g in zip(
            ranking["theme_label"],
            ranking["positive_pct"],
            ranking["neutral_pct"],
            ranking["negative_pct"],
            strict=True,
        )
    ]
    drawn = svg.stacked_bars(chart_id, aria, labels, parts, lambda v: fmt_kpi(v, "%"))
    return Chart(chart_id, title, aria, None, ["theme", "positive", "neutral", "negative"], rows, drawn)


def _driver_trace(go: Any, d: pd.DataFrame) -> Any:
    """One marker per theme, sized by prevalence and labelled with the theme."""
    return go.Scatter(
        x=d["importance"],
        y=100 * d["performance"],
        mode="markers+text",
        text=d["theme_label"],
        textposition="top center",
        name="theme",
        marker={
            "size": [8 + 60 * float(p or 0) for p in d["prevalence"].fillna(0)],
            "color": OKABE_ITO[0],
            "opacity": 0.75,
            "line": {"color": "#000000", "width": 1},
        },
        hovertemplate="%{text}<br>importance %{x:.2f}<br>performance %{y:.0f}/100<extra></extra>",
    )


def _quadrant_guides(d: pd.DataFrame) -> dict[str, Any]:
    """Median lines splitting the scatter into quadrants, and the label of the act-first one."""
    mx, my = float(d["importance"].median()), float(100 * d["performance"].median())
    guide = {"dash": "dot", "color": "#777"}
    return {
        "shapes": [
            {"type": "line", "x0": mx, "x1": mx, "yref": "paper", "y0": 0, "y1": 1, "line": guide},
            {"type": "line", "y0": my, "y1": my, "xref": "paper", "x0": 0, "x1": 1, "line": guide},
        ],
        "annotations": [
            {
                "text": "act first: important, performing poorly",
                "xref": "paper",
                "yref": "paper",
                "x": 1,
                "y": 0,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": SENTIMENT_COLOURS["negative"]},
            }
        ],
    }


def key_driver_scatter(chart_id: str, title: str, drivers: pd.DataFrame) -> Chart:
    """Importance (x) against performance (y): bottom-right (important, rated low) is where to act first."""
    import plotly.graph_objects as go

    d = drivers.dropna(subset=["importance", "performance"])
    fig = go.Figure()
    fig.add_trace(_driver_trace(go, d))
    layout = _layout(
        title, "performance: mean rating when mentioned", height=420, hovermode="closest", showlegend=False
    )
    layout["xaxis"] = {
        "title": {"text": "importance: share of the outcome rate attributable to the theme"},
        "gridcolor": "#e5e5e5",
        "showgrid": True,
        "automargin": False,
    }
    if len(d):
        layout.update(_quadrant_guides(d))
    fig.update_layout(**layout)
    top = d.sort_values("importance", ascending=False).head(1)
    # Not "Top driver: <label>": the scan's PERSON rules read a capitalised word after the role
    # word "driver" as a name (a transport driver), and would hold the whole trend pack back.
    top_text = f" Most important theme: {top['theme_label'].iloc[0]}." if len(top) else ""
    aria = f"Scatter chart of {len(d)} themes, importance against performance.{top_text}"
    rows = [
        [
            t,
            f"{clean(i):.2f}",
            f"{100 * clean(p):.0f}/100",
            fmt_kpi(100 * clean(v), "%") if clean(v) is not None else "\u2014",
        ]
        for t, i, p, v in zip(d["theme_label"], d["importance"], d["performance"], d["prevalence"], strict=True)
    ]
    columns = ["theme", "importance", "performance (mean rating)", "prevalence"]
    return Chart(chart_id, title, aria, _figure_json(fig), columns, rows)


def stage_rows_bars(chart_id: str, title: str, runs: pd.DataFrame) -> Chart:
    """Rows in and out of each stage of the latest run (inline SVG grouped bars)."""
    stages = [str(s) for s in runs["stage"]]
    parts = [
        svg.Part(column.replace("_", " "), OKABE_ITO[i], [clean(v) for v in runs[column]], hatched=i == 1)
        for i, column in enumerate(("rows_in", "rows_out"))
    ]
    pairs = list(zip(stages, runs["rows_in"], runs["rows_out"], strict=True))
    aria = "Bar chart of rows per stage. " + "; ".join(
        f"{s}: {fmt_number(a)} in, {fmt_number(b)} out" for s, a, b in pairs
    )
    rows = [[s, clean(a), clean(b)] for s, a, b in pairs]
    drawn = svg.grouped_bars(chart_id, aria, stages, parts, "rows")
    return Chart(chart_id, title, aria, None, ["stage", "rows in", "rows out"], rows, drawn)


def sparkline_svg(values: list[float | None], label: str, width: int = 120, height: int = 28) -> Markup:
    """A small inline SVG line of a series (gaps for suppressed months), with a text title."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    summary = escape(label)
    if len(points) < 2:
        return Markup(
            '<svg class="spark" role="img" aria-label="{0}" width="{1}" height="{2}"><title>{0}</title></svg>'
        ).format(summary, width, height)
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span = (hi - lo) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)

    def xy(i: int, v: float) -> str:
        return f"{2 + i * step:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"

    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            segments.append([])
        else:
            segments[-1].append(xy(i, v))
    lines = "".join(
        f'<polyline fill="none" stroke="{OKABE_ITO[0]}" stroke-width="1.5" points="{" ".join(s)}"/>'
        for s in segments
        if len(s) > 1
    )
    last_i, last_v = points[-1]
    dot_x, dot_y = xy(last_i, last_v).split(",")
    dot = f'<circle cx="{dot_x}" cy="{dot_y}" r="2.5" fill="{SENTIMENT_COLOURS["negative"]}"/>'
    return Markup(
        '<svg class="spark" role="img" aria-label="{0}" width="{1}" height="{2}" viewBox="0 0 {1} {2}">'
        "<title>{0}</title>"
    ).format(summary, width, height) + Markup(lines + dot + "</svg>")


def sentiment_bar_svg(
    positive: float | None, neutral: float | None, negative: float | None, width: int = 110
) -> Markup:
    """A one-line 100 % bar of aspect sentiment with a text title for screen readers."""
    parts = [
        ("positive", clean(positive) or 0.0),
        ("neutral", clean(neutral) or 0.0),
        ("negative", clean(negative) or 0.0),
    ]
    total = sum(v for _, v in parts) or 1.0
    x, rects = 0.0, []
    for key, v in parts:
        w = width * v / total
        rects.append(f'<rect x="{x:.1f}" y="2" width="{w:.1f}" height="12" fill="{SENTIMENT_COLOURS[key]}"/>')
        x += w
    label = escape(", ".join(f"{fmt_kpi(v, '%')} {k}" for k, v in parts))
    return Markup('<svg class="sentbar" role="img" aria-label="{0}" width="{1}" height="16"><title>{0}</title>').format(
        label, width
    ) + Markup("".join(rects) + "</svg>")
