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
import platform
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, provenance, warehouse
from pipelines.config import Settings

log = logging.getLogger(__name__)

STAGES = ("ingest", "enrich", "themes", "report")


def new_run_id() -> str:
    """A sortable, unique run id."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _record(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    stage: str,
    body: Callable[[], dict[str, Any]],
    started: datetime | None = None,
) -> dict[str, Any]:
    started = started or datetime.now(UTC)
    warehouse.run_sql(
        con,
        settings,
        "queries/pipeline/start_stage",
        {"run_id": run_id, "stage": stage, "started_at": started, "seed": settings.seed},
    )
    status, message, summary = "success", "", {}
    try:
        summary = body()
        return summary
    except Exception as exc:
        status, message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        raise
    finally:
        data_from, data_to, _ = warehouse.run_sql(con, settings, "queries/pipeline/data_window").fetchone()
        versions = {
            "pipelines": __version__,
            "git_sha": provenance.git_sha(settings.home),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            **{k: v for k, v in summary.items() if "version" in k or k in {"redactor"}},
        }
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
                "message": message
                or json.dumps({k: v for k, v in summary.items() if k != "redactor"}, default=str)[:2000],
            },
        )


def ingest_stage(
    settings: Settings, run_id: str, sources: list[str] | None = None, force: bool = False
) -> dict[str, Any]:
    """Ingest configured sources (all, or ``sources``), then rebuild the models.

    ``force`` re-reads files already ingested (unchanged rows still count as duplicates).
    """
    from pipelines.ingest import load as ingest

    results: list[ingest.BatchResult] = []

    def body() -> dict[str, Any]:
        nonlocal results
        results = ingest.ingest_all(settings, sources, force=force)
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
    settings: Settings, run_id: str, month: date | None = None, out_dir: Path | None = None
) -> dict[str, Any]:
    """Prepare the KPI inputs (calendars, settings), then write the reports from the reporting views."""
    from pipelines import report
    from pipelines.insights import kpis

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        kpis.prepare_reporting(settings, con, source_calendars=source_calendars(settings))
        written = report.write_reports(
            settings, con, month=month, out_dir=out_dir or settings.reports_dir, run_id=run_id
        )
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
    if not needs_con:
        # Ingest opens its own short transaction per file; the run record is written around it.
        outcome: dict[str, Any] = {}
        error: Exception | None = None
        started = datetime.now(UTC)
        try:
            outcome = body()
        except Exception as exc:  # recorded below, then re-raised
            error = exc
        with warehouse.connect(settings) as con:
            warehouse.apply_schema(con, settings)

            def replay() -> dict[str, Any]:
                if error is not None:
                    raise error
                return outcome

            try:
                _record(settings, con, run_id, stage, replay, started=started)
            finally:
                warehouse.build_models(con, settings)
        return outcome
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        summary = _record(settings, con, run_id, stage, lambda: body(con))
        warehouse.build_models(con, settings)
    return summary


def run_all(
    settings: Settings, progress: bool = False, refit: bool | None = None, month: date | None = None
) -> dict[str, Any]:
    """Run every stage in order: ingest -> enrich -> themes -> report."""
    run_id = new_run_id()
    out: dict[str, Any] = {"run_id": run_id}
    out["ingest"] = ingest_stage(settings, run_id)
    out["enrich"] = enrich_stage(settings, run_id, progress=progress)
    out["themes"] = themes_stage(settings, run_id, refit=refit, progress=progress)
    out["report"] = report_stage(settings, run_id, month=month)
    return out
