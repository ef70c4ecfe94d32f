"""The one orchestration: ingest -> enrich -> themes -> report, called by the CLI and the DAG tasks.

Stages never import each other: each reads what the one before wrote to the warehouse. Each
stage here opens the warehouse, does its work, rebuilds every SQL model (all layers, staging to
reporting, in dependency order), and records
an ``ops.stage_runs`` row with row counts, seed, data window and the versions of every model
involved, so a committee report can always be traced back to what produced it.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, exports, provenance, warehouse
from pipelines.config import Settings
from pipelines.periods import DateWindow, PeriodRequest

log = logging.getLogger(__name__)

STAGES = ("ingest", "enrich", "themes", "report")


def new_run_id() -> str:
    """A sortable, unique run id."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _start(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, stage: str, started: datetime) -> None:
    """Mark stage runs whose process died as interrupted, then record this one as running.

    Called under :func:`warehouse.run_lock`, so no other stage can be running: a row still
    "running" belongs to a process that was killed (or a machine that restarted) mid-stage.
    """
    now = datetime.now(UTC)
    stale = warehouse.run_sql(
        con, settings, "queries/pipeline/interrupt_stale_stages", {"run_id": run_id, "stage": stage, "now": now}
    ).fetchall()
    for old_run, old_stage in stale:
        log.warning(
            "stage %s of run %s was interrupted (its process ended mid-stage): marked failed", old_stage, old_run
        )
    warehouse.run_sql(
        con,
        settings,
        "queries/pipeline/start_stage",
        {
            "run_id": run_id,
            "stage": stage,
            "started_at": started,
            "seed": settings.seed,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        },
    )


def _finish(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    stage: str,
    summary: dict[str, Any],
    error: BaseException | None,
) -> None:
    """Record how the stage ended: its counts, data window, versions, and the error if it failed."""
    data_from, data_to, _ = warehouse.run_sql(con, settings, "queries/pipeline/data_window").fetchone()
    versions = {
        "pipelines": __version__,
        "git_sha": provenance.git_sha(settings.home),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        **{k: v for k, v in summary.items() if "version" in k or k in {"redactor"}},
    }
    if error is None:
        status, message = "success", json.dumps({k: v for k, v in summary.items() if k != "redactor"}, default=str)
    else:
        status, message = "failed", f"{type(error).__name__}: {error}"
    warehouse.run_sql(
        con,
        settings,
        "queries/pipeline/finish_stage",
        {
            "run_id": run_id,
            "stage": stage,
            "finished_at": datetime.now(UTC),
            "status": status,
            "rows_in": summary.get("rows_in"),
            "rows_out": summary.get("rows_out"),
            "data_from": data_from,
            "data_to": data_to,
            "versions": json.dumps(versions, default=str),
            "message": message[:2000],
        },
    )


def _recorded(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    stage: str,
    body: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """``body()`` between its start and finish records; a failure is recorded, then re-raised."""
    _start(con, settings, run_id, stage, datetime.now(UTC))
    try:
        summary = body()
    except BaseException as exc:  # Ctrl-C too: never leave the row "running"
        _finish(con, settings, run_id, stage, {}, exc)
        raise
    _finish(con, settings, run_id, stage, summary, None)
    return summary


def ingest_stage(
    settings: Settings,
    run_id: str,
    sources: list[str] | None = None,
    force: bool = False,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Ingest configured sources (all, or ``sources``), then rebuild the models.

    ``force`` re-reads files already ingested (unchanged rows still count as duplicates).
    ``start``/``end`` (a backfill, days included) pull only the SQL sources' rows dated in that window.
    """
    from pipelines.ingest import load as ingest

    results: list[ingest.BatchResult] = []

    def body() -> dict[str, Any]:
        nonlocal results
        results = ingest.ingest_all(settings, sources, force=force, window=DateWindow(start, end))
        return {
            "rows_in": sum(r.rows_read for r in results),
            "rows_out": sum(r.rows_loaded for r in results),
            "batches": [r.as_dict() for r in results if r.status != "skipped"],
        }

    summary = _run_stage(settings, run_id, "ingest", body)
    return summary


def enrich_stage(settings: Settings, run_id: str, progress: bool = False) -> dict[str, Any]:
    """Redact PHI, then score sentiment for comments and clauses."""
    from pipelines.privacy import stage as privacy
    from pipelines.sentiment import stage as sentiment

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        redaction = privacy.redact_pending(settings, con, progress=progress)
        scoring = sentiment.score_pending(settings, con, progress=progress)
        return {
            "rows_in": redaction["redacted"],
            "rows_out": scoring["scored"],
            "redactor_version": redaction["redactor_version"],
            "redactor": redaction.get("redactor"),
            "sentiment_model_version": scoring["model_version"],
            "clauses": scoring.get("clauses", 0),
        }

    return _run_stage(settings, run_id, "enrich", body, needs_con=True)


def themes_stage(settings: Settings, run_id: str, refit: bool | None = None, progress: bool = False) -> dict[str, Any]:
    """Assign themes to informative clauses (refitting BERTopic when due), then insights."""
    from pipelines.insights import stage as insights
    from pipelines.themes import stage as themes

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        summary = themes.run_themes(settings, con, run_id, refit=refit, progress=progress)
        summary["insights"] = insights.run_insights(settings, con, run_id)
        summary.setdefault("rows_in", summary.get("clauses"))
        summary.setdefault("rows_out", summary.get("themed"))
        if "model_version" in summary:
            summary["theme_model_version"] = summary.pop("model_version")
        return summary

    return _run_stage(settings, run_id, "themes", body, needs_con=True)


def report_stage(
    settings: Settings,
    run_id: str,
    period: PeriodRequest | None = None,
    out_dir: Path | None = None,
    min_responses: int | None = None,
) -> dict[str, Any]:
    """Prepare the KPI inputs (calendars, settings), then write the reports from the reporting views.

    ``period`` is parsed at the edge (``pipelines.periods.parse_period``); None = the latest
    complete month with at least ``min_responses`` responses (default ``report.MIN_RESPONSES``).
    Every page and export passes the final privacy scan (``pipelines.privacy.scan``) first.

    Raises:
        exports.ExportBlocked: after every other file is written, when the scan held files back
            (each is recorded in ``ops.export_blocks``: file, column, kind, count).
    """
    from pipelines import report
    from pipelines.insights import kpis
    from pipelines.privacy import scan

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        kpis.prepare_reporting(settings, con, source_calendars=source_calendars(settings))
        target = out_dir or settings.reports_dir
        guard = scan.ExportScan(settings, con, run_id, root=target)
        written = report.write_reports(
            settings,
            con,
            period,
            target,
            run_id,
            min_responses=report.MIN_RESPONSES if min_responses is None else min_responses,
            guard=guard,
        )
        written += report.write_extract(settings, con, run_id, period, guard=guard)  # for BI tools (docs/bi.md)
        if guard.blocked:
            raise exports.ExportBlocked(guard.blocked, written=len(written))
        return {"rows_out": len(written), "files": [str(p) for p in written]}

    return _run_stage(settings, run_id, "report", body, needs_con=True)


def source_calendars(settings: Settings) -> dict[str, str]:
    """Holiday calendar id of every configured source (working-day KPIs); {} if unreadable."""
    from pipelines.sources.base import SourceError, load_source_configs

    try:
        return {c.name: (c.country or "GB").upper() for c in load_source_configs(settings.sources_dir)}
    except (SourceError, OSError) as exc:
        log.warning("source configs unreadable (%s); every source uses the default calendar", exc)
        return {}


def _run_stage(
    settings: Settings,
    run_id: str,
    stage: str,
    body: Callable[..., dict[str, Any]],
    needs_con: bool = False,
) -> dict[str, Any]:
    """Run one stage under the warehouse run lock, recorded in ops.stage_runs, then rebuild the models."""
    with warehouse.run_lock(settings):
        if needs_con:
            with warehouse.connect(settings) as con:
                warehouse.apply_schema(con, settings)
                summary = _recorded(con, settings, run_id, stage, lambda: body(con))
                warehouse.build_models(con, settings)
            return summary
        # Ingest opens its own short transaction per file: the run record is written around it.
        with warehouse.connect(settings) as con:
            warehouse.apply_schema(con, settings)
            _start(con, settings, run_id, stage, datetime.now(UTC))
        outcome: dict[str, Any] = {}
        error: BaseException | None = None
        try:
            outcome = body()
        except BaseException as exc:  # recorded below, then re-raised
            error = exc
        with warehouse.connect(settings) as con:
            try:
                _finish(con, settings, run_id, stage, outcome, error)
            finally:
                warehouse.build_models(con, settings)
        if error is not None:
            raise error
        return outcome


class RunIncomplete(RuntimeError):
    """Some sources failed (``failures``: source -> why); the run still enriched and reported the others."""

    def __init__(self, message: str, summary: dict[str, Any], failures: dict[str, str]) -> None:
        super().__init__(message)
        self.summary = summary
        self.failures = failures


def run_all(
    settings: Settings,
    progress: bool = False,
    refit: bool | None = None,
    period: PeriodRequest | None = None,
    lock_timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every stage in order: ingest -> enrich -> themes -> report, holding the warehouse throughout.

    A source that fails to ingest does not stop the run: the others are enriched, themed and
    reported, and the run then raises :class:`RunIncomplete` naming the failed sources.

    Args:
        settings: the warehouse, sources and models.
        progress: show progress bars.
        refit: force (True) or forbid (False) a theme refit; None = when due.
        period: the report period, parsed at the edge (default: the latest complete month with enough responses).
        lock_timeout: seconds to wait for another run holding the warehouse (see :func:`warehouse.run_lock`).
        on_wait: told, in words, when this run has to wait for another one.

    Raises:
        RunIncomplete: after the reports, when one or more sources failed to ingest.
        warehouse.WarehouseBusy: when another run held the warehouse for longer than ``lock_timeout``.
    """
    from pipelines.ingest.load import IngestError

    run_id = new_run_id()
    out: dict[str, Any] = {"run_id": run_id}
    with warehouse.run_lock(settings, timeout=lock_timeout, on_wait=on_wait):
        failures: dict[str, str] = {}
        try:
            out["ingest"] = ingest_stage(settings, run_id)
        except IngestError as exc:
            failures = exc.failures or {"ingest": str(exc)}
            log.error("ingest failed for %s; enriching and reporting the other sources", ", ".join(failures))
            out["ingest"] = {"batches": [r.as_dict() for r in exc.results if r.status != "skipped"], "error": str(exc)}
        out["enrich"] = enrich_stage(settings, run_id, progress=progress)
        out["themes"] = themes_stage(settings, run_id, refit=refit, progress=progress)
        out["report"] = report_stage(settings, run_id, period=period)
    if failures:
        raise RunIncomplete(f"{len(failures)} source(s) failed to ingest: {', '.join(failures)}", out, failures)
    return out
