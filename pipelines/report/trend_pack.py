"""The trend pack for the quality committee.

The KPI table for the period (a month, a quarter or the last N months) against the period of
equal length before it and the same period last year (with significance), monthly control
charts over every month with data for KPIs and the top themes, emerging-theme alerts, the
key-driver chart,
segment lift, complaints by site and category, "You said, we did" actions with their measured
effect, and a short summary written only from those numbers (never from patient text).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipelines import stats
from pipelines.report import charts
from pipelines.report.data import ReportContext, records
from pipelines.report.html import clean, fmt_kpi, fmt_p, fmt_signed
from pipelines.report.theme_report import Page

CHART_KPIS = (
    "fft_positive_pct",
    "nps",
    "negative_sentiment_pct",
    "complaint_rate_per_1000",
    "ack_within_3wd_pct",
    "resolution_over_target_pct",
)
TOP_THEME_CHARTS = 4
MIN_CHART_MONTHS = 3
LIFT_ROWS = 25
OUTCOME_NAMES = {"fft_poor": "a poor FFT rating", "nps_detractor": "an NPS detractor score"}


def build(ctx: ReportContext) -> Page:
    """Collect everything the trend pack shows for ``ctx.period``."""
    tables, ranking = _load(ctx)
    kpi_charts = _kpi_charts(tables["kpi_series"], tables["kpi_definitions"])
    theme_charts = _theme_charts(ranking, tables["theme_series"])
    driver_chart = _driver_chart(tables["key_drivers"])
    alerts = tables["theme_alerts"]
    context = {
        "summary": summarise(
            ctx, tables["kpi_table"], tables["kpi_series"], alerts, tables["key_drivers"], tables["actions"]
        ),
        "kpis": records(tables["kpi_table"]),
        "definitions": records(tables["kpi_definitions"]),
        "sites": records(tables["kpi_by_site"]),
        "site_kpis": list(dict.fromkeys(tables["kpi_by_site"]["kpi_name"])) if len(tables["kpi_by_site"]) else [],
        "kpi_charts": kpi_charts,
        "theme_charts": theme_charts,
        "alerts": records(alerts),
        "alerts_in_period": int(_in_period(ctx, alerts["period"]).sum()) if len(alerts) else 0,
        "source_changes": _source_changes(tables["source_changes"]),
        "previous_label": ctx.period.previous().label,
        "last_year_label": ctx.period.shifted(-12).label,
        "driver_chart": driver_chart,
        "drivers": records(tables["key_drivers"]),
        "lift": records(tables["segment_lift"]),
        "actions": records(tables["actions"]),
        "complaints": records(tables["complaints_by_category_site"]),
    }
    chart_list = kpi_charts + theme_charts + ([driver_chart] if driver_chart else [])
    return Page("trend_pack.html.j2", context, chart_list, tables)


def _load(ctx: ReportContext) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The trend pack's exported tables, keyed by export name, and the theme ranking (not exported)."""
    kpi_table = ctx.query("kpi_table", **ctx.window)
    kpi_table["p_vs_prev"] = [stats.p_from_z(clean(z)) for z in kpi_table["z_vs_prev"]]
    kpi_table["p_vs_last_year"] = [stats.p_from_z(clean(z)) for z in kpi_table["z_vs_last_year"]]
    alerts = ctx.query("theme_alerts", month_to=ctx.period.end)
    alerts["quote_list"] = [_quotes(q) for q in alerts["quotes"]]
    actions = ctx.query("actions")
    actions["share_p"] = [stats.p_from_z(clean(z)) for z in actions["share_z"]]
    actions["sentiment_p"] = [stats.p_from_z(clean(z)) for z in actions["sentiment_z"]]
    tables = {
        "kpi_table": kpi_table,
        "kpi_by_site": ctx.query("kpi_sites", **ctx.window),
        "kpi_series": ctx.query("kpi_series", month_from=ctx.trend_from, month_to=ctx.period.last_month),
        "theme_series": ctx.query("theme_monthly", month_from=ctx.trend_from, month_to=ctx.period.last_month),
        "theme_alerts": alerts,
        "source_changes": ctx.query("source_changes", month_from=ctx.period.start, month_to=ctx.period.last_month),
        "key_drivers": ctx.query("key_drivers"),
        "segment_lift": ctx.query("segment_lift", max_rows=LIFT_ROWS),
        "actions": actions,
        "complaints_by_category_site": ctx.query("complaints_by_category_site", **ctx.window),
        "kpi_definitions": ctx.query("kpi_definitions"),
    }
    return tables, ctx.query("theme_ranking", **ctx.window)


def _source_changes(changes: pd.DataFrame) -> list[dict[str, Any]]:
    """The period's changes in the mix of sources over all comments (per-segment rows: the export)."""
    if not len(changes):
        return []
    return records(changes[changes["segment_type"] == "all"])


def _kpi_charts(series: pd.DataFrame, definitions: pd.DataFrame) -> list[charts.Chart]:
    """A control chart for each of ``CHART_KPIS`` with at least ``MIN_CHART_MONTHS`` months."""
    names = dict(zip(definitions["kpi_id"], definitions["kpi_name"], strict=True))
    units = dict(zip(definitions["kpi_id"], definitions["unit"], strict=True))
    out = []
    for kpi_id in CHART_KPIS:
        s = series[series["kpi_id"] == kpi_id]
        if s["month"].nunique() >= MIN_CHART_MONTHS:
            out.append(charts.control_chart(f"chart-kpi-{kpi_id}", names[kpi_id], s, units[kpi_id]))
    return out


def _theme_charts(ranking: pd.DataFrame, theme_monthly: pd.DataFrame) -> list[charts.Chart]:
    """Control charts of the share of comments of the period's top unsuppressed themes.

    When the period has none (a thin month), the themes with the most comments over every month.
    """
    top = ranking[~ranking["suppressed"].astype(bool)].head(TOP_THEME_CHARTS)
    if len(top):
        themes = list(zip(top["theme_id"], top["theme_label"], strict=True))
    else:
        totals = theme_monthly.dropna(subset=["comments"]).groupby(["theme_id", "theme_label"])["comments"].sum()
        themes = list(totals.sort_values(ascending=False).head(TOP_THEME_CHARTS).index)
    out = []
    for theme_id, label in themes:
        s = theme_monthly[(theme_monthly["theme_id"] == theme_id) & ~theme_monthly["suppressed"].astype(bool)]
        if s["month"].nunique() >= MIN_CHART_MONTHS:
            chart = charts.control_chart(
                f"chart-theme-{theme_id}",
                f"{label}: % of comments",
                s,
                "%",
                value="share_pct",
                centre="share_centre_pct",
                upper="share_upper_pct",
                lower="share_lower_pct",
                signal="outside_limits",
            )
            out.append(chart)
    return out


def _driver_chart(drivers: pd.DataFrame) -> charts.Chart | None:
    """The key-driver scatter of the most common outcome, for all sites when that scope exists."""
    shown = drivers[~drivers["suppressed"].astype(bool)] if len(drivers) else drivers
    if not len(shown):
        return None
    outcome = shown["outcome"].value_counts().index[0]
    scoped = shown[shown["outcome"] == outcome]
    scopes = list(scoped["scope"].value_counts().index)
    scope = "All" if "All" in scopes else scopes[0]
    scoped = scoped[scoped["scope"] == scope]
    name = OUTCOME_NAMES.get(outcome, outcome)
    return charts.key_driver_scatter(
        "chart-key-drivers", f"What drives {name} ({scope}): importance vs performance", scoped
    )


def _quotes(value: object, limit: int = 2) -> list[str]:
    """Redacted example quotes of an alert (a JSON list), at most ``limit``."""
    value = clean(value)
    if not value:
        return []
    try:
        parsed = json.loads(str(value))
    except json.JSONDecodeError:
        return []
    return [str(q) for q in parsed[:limit]] if isinstance(parsed, list) else []


def summarise(
    ctx: ReportContext,
    kpi_table: pd.DataFrame,
    series: pd.DataFrame,
    alerts: pd.DataFrame,
    drivers: pd.DataFrame,
    actions: pd.DataFrame,
) -> list[str]:
    """A few sentences on what changed, built only from the numbers of the tables."""
    previous = ctx.period.previous().label
    last_year = ctx.period.shifted(-12).label
    rows = records(kpi_table)
    lines = _volume_lines(rows, ctx.period.label, previous)
    lines += _kpi_change_lines(rows, previous, last_year)
    if not any("significantly" in line for line in lines):
        lines.append(f"No headline KPI changed significantly against {previous} or {last_year}.")
    lines += _special_cause_lines(ctx, series)
    lines.append(_alert_line(ctx, alerts))
    lines += _driver_lines(drivers)
    if len(actions):
        verdicts = actions["verdict"].value_counts()
        parts = [f"{n} {v}" for v, n in verdicts.items()]
        lines.append(f"You said, we did: {len(actions)} action(s) recorded: " + ", ".join(parts) + ".")
    return lines


def _volume_lines(rows: list[dict], month: str, previous: str) -> list[str]:
    """The month's number of responses and whether it changed significantly."""
    volume = next((r for r in rows if r["kpi_id"] == "responses"), None)
    if not volume or volume["value"] is None:
        return []
    text = f"{month}: {fmt_kpi(volume['value'], 'count')} responses"
    if volume["prev_value"] is not None:
        text += f" ({fmt_signed(volume['change_vs_prev'], 'count')} on {previous}"
        text += ", a significant change)" if volume["significant_vs_prev"] else ", within normal variation)"
    return [text + "."]


def _kpi_change_lines(rows: list[dict], previous: str, last_year: str) -> list[str]:
    """One sentence per KPI that changed significantly against last month or last year."""
    lines = []
    for r in rows:
        if r["kpi_id"] == "responses":
            continue
        scope = f" ({r['scope_value']})" if r["scope_type"] == "survey_type" else ""
        for key, label, base in (("prev", previous, "prev_value"), ("last_year", last_year, "last_year_value")):
            assessment = r[f"assessment_vs_{key}"]
            if assessment in {"significantly better", "significantly worse"}:
                verb = "rose" if r["value"] > r[base] else "fell"
                lines.append(
                    f"{r['kpi_name']}{scope} {verb} from {fmt_kpi(r[base], r['unit'])} in {label} to "
                    f"{fmt_kpi(r['value'], r['unit'])} ({fmt_signed(r['value'] - r[base], r['unit'])}, "
                    f"{fmt_p(r[f'p_vs_{key}'])}): {assessment}."
                )
    return lines


def _in_period(ctx: ReportContext, months: pd.Series) -> pd.Series:
    """Whether each month (a first-of-month date) falls in the report period."""
    days = pd.to_datetime(months).dt.date
    return (days >= ctx.period.start) & (days <= ctx.period.end)


def _this_period(ctx: ReportContext) -> str:
    return "this month" if ctx.period.kind == "month" else f"in {ctx.period.label}"


def _special_cause_lines(ctx: ReportContext, series: pd.DataFrame) -> list[str]:
    """One sentence per KPI and month of the period outside its control limits."""
    flagged = series[_in_period(ctx, series["month"]) & series["special_cause"].fillna(False).astype(bool)]
    lines = []
    for r in records(flagged):
        when = "this month" if ctx.period.kind == "month" else f"in {pd.Timestamp(r['month']):%B %Y}"
        side = "above" if r["value"] > r["upper_limit"] else "below"
        lines.append(
            f"{r['kpi_name']} ({fmt_kpi(r['value'], r['unit'])}) is {side} its control limits {when}: "
            "a special cause worth investigating."
        )
    return lines


def _alert_line(ctx: ReportContext, alerts: pd.DataFrame) -> str:
    """The unsuppressed emerging-theme alerts of the month, the first three named."""
    current = alerts[_in_period(ctx, alerts["period"]) & ~alerts["suppressed"].astype(bool)] if len(alerts) else alerts
    if not len(current):
        return f"No emerging-theme alert {_this_period(ctx)}."
    parts = [
        f"{a['theme_label'] or a['theme_id']}"
        + (
            f" at {a['segment_value']}"
            if a["segment_value"] and a["segment_type"] not in (None, "overall", "all")
            else ""
        )
        + (
            f" ({100 * a['share']:.0f}% of comments vs {100 * a['baseline_share']:.0f}% baseline)"
            if a["share"] is not None and a["baseline_share"] is not None
            else ""
        )
        for a in records(current.head(3))
    ]
    return f"{len(current)} emerging-theme alert(s) {_this_period(ctx)}: " + "; ".join(parts) + "."


def _driver_lines(drivers: pd.DataFrame) -> list[str]:
    """The strongest unsuppressed key driver, if any."""
    shown = drivers[~drivers["suppressed"].astype(bool)] if len(drivers) else drivers
    if not len(shown):
        return []
    top = records(shown.sort_values("importance", ascending=False).head(1))[0]
    perf = (
        f"; responses mentioning it rate {100 * top['performance']:.0f}/100 on average"
        if top["performance"] is not None
        else ""
    )
    return [
        f"Strongest driver of {OUTCOME_NAMES.get(top['outcome'], top['outcome'])}: "
        f"{top['theme_label'] or top['theme_id']} "
        f"({100 * top['importance']:.0f} points of the rate attributable to it{perf})."
    ]
