"""Insights over the theme stage's output: emerging themes, key drivers and segment lift.

What one call of :func:`run_insights` does (methods, assumptions and limits: ``docs/insights.md``;
parameters: ``models/themes/insights.yaml``, read by :mod:`pipelines.insights.config`):

1. **Emerging themes** (:mod:`pipelines.insights.emerging`). For every theme x segment (all,
   each site, service, channel) x month, the month's share of informative comments carrying the
   theme is compared with the same segment's trailing baseline (the previous ``baseline_months``
   calendar months) by a one-sided Fisher exact test; when the baseline months vary more than
   binomially, a dispersion-inflated z-test must pass too. Comparisons with enough comments
   enter one Benjamini-Hochberg family per run; an alert needs q <= alpha, a minimum count and
   a minimum rise (lift and absolute increase), and carries three redacted quotes.
2. **Key drivers** (:mod:`pipelines.insights.drivers`). Per outcome (FFT Poor/Very poor, NPS
   detractor) and scope (all, each service), a logistic regression of the poor outcome on the
   themes each survey response mentions negatively (weakly informative Gaussian prior, controls
   for service/site); the importance of a theme is the share of the outcome attributable to it,
   with non-parametric bootstrap confidence intervals.
3. **Segment lift** (:mod:`pipelines.insights.lift`). For every theme and segment (site,
   service, channel, weekday, hour band, month), the share of comments with a negative mention
   in the segment against the rest of the data, one-sided Fisher exact test, BH across the run.

Tables written: ``enrich.theme_alerts``, ``enrich.key_drivers``, ``enrich.segment_lift``,
``enrich.insight_runs`` (one transaction; re-running a run id replaces its rows). The inputs
are read from the intermediate views (fresh within the theme stage) and ``marts.fct_responses``,
which :func:`run_insights` brings up to date first (:data:`READS`; the stages before the report
rebuild no marts of their own).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.insights.config import config_path, load_config, params_hash
from pipelines.insights.drivers import key_drivers
from pipelines.insights.emerging import (
    EMERGING_METHOD,
    SOURCE_CHANGE_COLUMNS,
    emerging_tests,
    select_alerts,
    source_changes,
)
from pipelines.insights.lift import LIFT_COLUMNS, segment_lift

__all__ = ["run_insights"]

log = logging.getLogger(__name__)

_ALERT_COLUMNS = [
    "run_id",
    "level",
    "category_id",
    "theme_id",
    "segment_type",
    "segment_value",
    "period",
    "count",
    "share",
    "baseline_share",
    "p_value",
    "q_value",
    "lift",
    "quotes",
    "method",
    "total",
    "baseline_count",
    "baseline_total",
    "baseline_from",
    "baseline_to",
    "increase",
    "ci_low",
    "dispersion",
    "p_exact",
    "family_size",
    "negative_share",
]
_DRIVER_COLUMNS = [
    "run_id",
    "level",
    "category_id",
    "outcome",
    "scope",
    "theme_id",
    "importance",
    "coef",
    "ci_low",
    "ci_high",
    "prevalence",
    "n",
    "performance",
    "scope_type",
    "rank",
    "importance_ci_low",
    "importance_ci_high",
    "importance_share",
    "odds_ratio",
    "p_value",
    "q_value",
    "outcome_rate_with",
    "outcome_rate_without",
    "mentions",
    "positive_share",
    "n_scope",
    "events",
    "bootstrap_reps",
    "method",
]
_LIFT_COLUMNS = ["run_id", *LIFT_COLUMNS]
READS = ("marts.fct_responses",)  # the marts run_insights reads (refreshed first)


def run_insights(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    config: Mapping[str, Any] | None = None,
) -> dict:
    """Compute emerging-theme alerts, key drivers and segment lift for one pipeline run.

    Call it after the theme stage has written its assignments, on the same connection (not
    inside a transaction: the writes get their own). The marts it reads (:data:`READS`) are
    brought up to date first; the marts over its own tables are (re)built by the report stage.

    Args:
        settings: project settings (seed, models_dir, sql_dir).
        con: open read-write warehouse connection (schema applied, models built at least once).
        run_id: pipeline run id; re-running the same id replaces its rows.
        config: optional overrides of ``models/themes/insights.yaml`` (same nesting).

    Returns:
        Summary: ``alerts``, ``emerging_tests`` (BH family size), ``driver_scopes`` (models
        fitted), ``drivers`` (theme rows), ``drivers_skipped``, ``lift_tests``,
        ``lift_significant``, ``source_changes`` (strata that started or stopped contributing),
        ``insights_params_hash`` and ``seconds``.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    cfg = load_config(config_path(settings), config)
    timings: dict[str, float] = {}
    warehouse.refresh_models(con, settings, marts=READS)

    month_counts = warehouse.run_sql(con, settings, "queries/insights/month_counts").df()
    tests = emerging_tests(month_counts, cfg["emerging"])
    alerts = select_alerts(tests, cfg["emerging"])
    alerts = _attach_quotes(con, settings, alerts, cfg["emerging"])
    alerts["method"] = EMERGING_METHOD + ("+overdispersion" if cfg["emerging"]["overdispersion"] else "")
    changes = source_changes(month_counts, cfg["emerging"])
    timings["emerging"] = round(time.perf_counter() - clock, 3)

    responses = warehouse.run_sql(con, settings, "queries/insights/driver_responses").df()
    mentions = warehouse.run_sql(con, settings, "queries/insights/driver_mentions").df()
    drivers, skipped = key_drivers(responses, mentions, cfg["drivers"], seed=settings.seed)
    timings["drivers"] = round(time.perf_counter() - clock - timings["emerging"], 3)

    lift_counts = warehouse.run_sql(con, settings, "queries/insights/lift_counts").df()
    lift = segment_lift(lift_counts, cfg["lift"])
    timings["lift"] = round(time.perf_counter() - clock - timings["emerging"] - timings["drivers"], 3)

    summary = _summary(cfg, tests, alerts, drivers, skipped, lift)
    summary["source_changes"] = len(changes)
    with warehouse.transaction(con):
        _write(con, settings, "alerts", run_id, alerts, _ALERT_COLUMNS)
        _write(con, settings, "drivers", run_id, drivers, _DRIVER_COLUMNS)
        _write(con, settings, "lift", run_id, lift, _LIFT_COLUMNS)
        _write(con, settings, "source_changes", run_id, changes, ["run_id", *SOURCE_CHANGE_COLUMNS])
        summary["seconds"] = round(time.perf_counter() - clock, 2)
        run_row = _run_row(run_id, started, cfg, summary, month_counts, skipped, timings)
        warehouse.run_sql(con, settings, "queries/insights/upsert_run", run_row)
    log.info(
        "insights: %d alerts from %d comparisons, %d driver rows in %d scopes, %d/%d significant lifts",
        summary["alerts"],
        summary["emerging_tests"],
        summary["drivers"],
        summary["driver_scopes"],
        summary["lift_significant"],
        summary["lift_tests"],
    )
    return summary


def _summary(
    cfg: Mapping[str, Any],
    tests: pd.DataFrame,
    alerts: pd.DataFrame,
    drivers: pd.DataFrame,
    skipped: list[dict[str, Any]],
    lift: pd.DataFrame,
) -> dict[str, Any]:
    return {
        "alerts": len(alerts),
        "emerging_tests": len(tests),
        "driver_scopes": int(drivers.groupby(["level", "outcome", "scope"]).ngroups) if not drivers.empty else 0,
        "drivers": len(drivers),
        "drivers_skipped": len(skipped),
        "lift_tests": len(lift),
        "lift_significant": int(lift["is_significant"].sum()) if not lift.empty else 0,
        "insights_params_hash": params_hash(cfg),
    }


def _run_row(
    run_id: str,
    started: datetime,
    cfg: Mapping[str, Any],
    summary: Mapping[str, Any],
    month_counts: pd.DataFrame,
    skipped: list[dict[str, Any]],
    timings: Mapping[str, float],
) -> dict[str, Any]:
    """Parameters of ``queries/insights/upsert_run``: the run's record in enrich.insight_runs."""
    periods = pd.to_datetime(month_counts["period"]) if not month_counts.empty else pd.Series(dtype="datetime64[ns]")
    return {
        "run_id": run_id,
        "started_at": started,
        "finished_at": datetime.now(UTC),
        "params_hash": summary["insights_params_hash"],
        "params": json.dumps(cfg, sort_keys=True, default=str),
        "data_from": periods.min().date() if len(periods) else None,
        "data_to": periods.max().date() if len(periods) else None,
        "emerging_tests": summary["emerging_tests"],
        "alerts": summary["alerts"],
        "driver_scopes": summary["driver_scopes"],
        "drivers": summary["drivers"],
        "lift_tests": summary["lift_tests"],
        "lift_significant": summary["lift_significant"],
        "details": json.dumps({"skipped_driver_scopes": skipped, "seconds": timings}, default=str),
    }


# --------------------------------------------------------------------------------------
# Warehouse I/O
# --------------------------------------------------------------------------------------
def _attach_quotes(
    con: duckdb.DuckDBPyConnection, settings: Settings, alerts: pd.DataFrame, cfg: Mapping[str, Any]
) -> pd.DataFrame:
    """Add ``quotes`` (a JSON list of redacted comments) to every alert."""
    alerts = alerts.copy()
    if alerts.empty:
        alerts["quotes"] = pd.Series(dtype=str)
        return alerts
    alerts["alert_key"] = np.arange(len(alerts))
    keys = alerts[["alert_key", "level", "theme_id", "segment_type", "segment_value", "period"]].copy()
    keys["period"] = pd.to_datetime(keys["period"]).dt.date
    params = {"quotes": int(cfg["quotes"]), "max_chars": int(cfg["quote_max_chars"])}
    with warehouse.registered(con, insights_alert_keys=keys):
        # Fetched inside the block: DuckDB evaluates lazily, and the view is gone after it.
        quotes = warehouse.run_sql(con, settings, "queries/insights/alert_quotes", params).df()
    by_key = {int(k): list(v) for k, v in zip(quotes["alert_key"], quotes["quotes"], strict=True)}
    alerts["quotes"] = [json.dumps(by_key.get(int(k), []), ensure_ascii=False) for k in alerts["alert_key"]]
    return alerts.drop(columns=["alert_key"])


def _finite(frame: pd.DataFrame) -> pd.DataFrame:
    """Infinite values become nulls (DuckDB stores inf, but reports and JSON do not want it)."""
    numeric = frame.select_dtypes(include=[np.number]).columns
    if len(numeric):
        frame[numeric] = frame[numeric].replace([np.inf, -np.inf], np.nan)
    return frame


def _write(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    kind: str,
    run_id: str,
    frame: pd.DataFrame,
    columns: list[str],
) -> None:
    """Replace one insights table (``kind``: alerts, drivers, lift or source_changes) with this run's rows.

    The marts read only the latest run, and ``enrich.insight_runs`` keeps the run log, so earlier
    runs' rows are deleted too: the table does not grow when the same data is run again.
    """
    warehouse.run_sql(con, settings, f"queries/insights/delete_{kind}")
    if frame.empty:
        return
    out = frame.assign(run_id=run_id).reindex(columns=columns)
    with warehouse.registered(con, insights_incoming=_finite(out)):
        warehouse.run_sql(con, settings, f"queries/insights/insert_{kind}")
