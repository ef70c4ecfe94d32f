"""The one orchestration: ingest -> enrich -> themes -> report, called by the CLI and the DAG tasks.

Stages never import each other: each reads what the one before wrote to the warehouse. Each
stage here opens the warehouse, does its work, brings the SQL models up to date (only those whose
SQL or input data changed: :func:`pipelines.warehouse.refresh_models`), and records an
``ops.stage_runs`` row with row counts, seed, data window and the versions of every model
involved, so a committee report can always be traced back to what produced it.

Incremental by construction: before enrich, themes and report do anything, the fingerprint of
what they read (:mod:`pipelines.changes`) is compared with the one they left when they last
succeeded; when it is the same the stage is recorded as ``skipped (no change)`` (status
success, the versions and files of the run that did the work carried over) without importing a
model library. Ingest skips files it has already loaded by their sha256. ``force`` runs a stage
whatever the fingerprint says.
"""

from __future__ import annotations

import contextlib
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

from pipelines import __version__, changes, exports, provenance, warehouse
from pipelines.config import Settings
from pipelines.periods import DateWindow, PeriodRequest

log = logging.getLogger(__name__)

STAGES = ("ingest", "enrich", "themes", "report")
# How a stage that found nothing new is recorded (in its summary, hence its stage_runs message).
SKIPPED = "skipped (no change)"


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
    """Record how the stage ended: its counts, data window, versions, and the error if it failed.

    The data window (first and last ``received_at`` the warehouse holds) also goes into
    ``summary`` as ISO text, for the callers (asset events, the CLI).
    """
    data_from, data_to, _ = warehouse.run_sql(con, settings, "queries/pipeline/data_window").fetchone()
    summary["data_from"] = data_from.isoformat() if data_from is not None else None
    summary["data_to"] = data_to.isoformat() if data_to is not None else None
    versions = {
        "pipelines": __version__,
        "git_sha": provenance.git_sha(settings.home),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        **{k: v for k, v in summary.items() if "version" in k or k in {"redactor"}},
    }
    if error is None:
        status, message = "success", stage_message({k: v for k, v in summary.items() if k != "redactor"})
    else:
        status, message = "failed", clip_message(f"{type(error).__name__}: {error}")
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
            "message": message,
        },
    )


#: the longest ``ops.stage_runs.message`` (characters)
MESSAGE_MAX = 2000
_LIST_HEAD = 3
_CLIPPED = " ... (cut)"


def stage_message(summary: dict[str, Any]) -> str:
    """A finished stage's ``ops.stage_runs.message``: its summary as JSON, at most :data:`MESSAGE_MAX` characters.

    Lists longer than three items keep their first three and a count (the report stage lists
    every file it wrote; ingest, every batch: both are in their own tables too), and a message
    still too long is cut by :func:`clip_message`.
    """
    text = json.dumps(summary, default=str)
    if len(text) <= MESSAGE_MAX:
        return text
    short = {
        k: [*v[:_LIST_HEAD], f"... {len(v) - _LIST_HEAD} more"] if isinstance(v, list) and len(v) > _LIST_HEAD else v
        for k, v in summary.items()
    }
    return clip_message(json.dumps(short, default=str))


def clip_message(text: str) -> str:
    """``text`` cut to :data:`MESSAGE_MAX` characters between words, marked as cut.

    A cut inside a word leaves a fragment that the final privacy scan may read as a name: a report
    stage's message cut at 2,000 characters ended in ``"/tmp/ben`` (of ``/tmp/bench-...``), read as
    a sign-off "ben", and the run-status page, its exports and the reporting extract were held
    back on every incremental run of ``python -m benchmarks.incremental``.
    """
    if len(text) <= MESSAGE_MAX:
        return text
    limit = MESSAGE_MAX - len(_CLIPPED)
    cut = max(text.rfind(" ", 0, limit), text.rfind(",", 0, limit))
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,") + _CLIPPED


def ingest_stage(
    settings: Settings,
    run_id: str,
    sources: list[str] | None = None,
    force: bool = False,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Ingest configured sources (all, or ``sources``), then bring the models up to date.

    ``force`` re-reads files already ingested (unchanged rows still count as duplicates). When
    every file was already loaded the summary says ``skipped (no change)``.
    ``start``/``end`` (a backfill, days included) pull only the SQL sources' rows dated in that window.
    """

    def body() -> dict[str, Any]:
        from pipelines.ingest import load as ingest

        results = ingest.ingest_all(settings, sources, force=force, window=DateWindow(start, end))
        summary: dict[str, Any] = {
            "rows_in": sum(r.rows_read for r in results),
            "rows_out": sum(r.rows_loaded for r in results),
            "batches": [r.as_dict() for r in results if r.status != "skipped"],
        }
        if not summary["batches"]:
            summary = {"outcome": SKIPPED, **summary}
        return summary

    return _run_stage(settings, run_id, "ingest", body)


def enrich_stage(
    settings: Settings, run_id: str, progress: bool = False, force: bool = False, workers: int | None = None
) -> dict[str, Any]:
    """Redact PHI, then score sentiment for comments and clauses (skipped when nothing changed).

    Both steps are partitioned (:mod:`pipelines.partitions`): ``workers`` processes (default
    ``settings.workers``; 1 computes in this process) redact, then score, the partitions.
    """
    n = settings.workers if workers is None else max(1, workers)

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from pipelines.privacy import stage as privacy
        from pipelines.sentiment import stage as sentiment

        redaction = privacy.redact_pending(settings, con, progress=progress, run_id=run_id, workers=n)
        scoring = sentiment.score_pending(settings, con, progress=progress, run_id=run_id, workers=n)
        return _enrich_summary(redaction, scoring)

    return _run_stage(
        settings, run_id, "enrich", body, needs_con=True, watch=lambda: changes.enrich_watch(settings), force=force
    )


def _enrich_summary(redaction: dict[str, Any], scoring: dict[str, Any]) -> dict[str, Any]:
    summary = {
        "rows_in": redaction["redacted"],
        "rows_out": scoring["scored"],
        "redactor_version": redaction["redactor_version"],
        "redactor": redaction.get("redactor"),
        "sentiment_model_version": scoring["model_version"],
        "clauses": scoring.get("clauses", 0),
    }
    work = {k: v["partitions"] for k, v in (("redact", redaction), ("score", scoring)) if v.get("partitions")}
    if work:
        summary["partitions"] = work
    return summary


# --------------------------------------------------------------------------------------
# Partitioned enrich for the Airflow DAG: plan -> mapped partitions -> load (docs/scaling.md)
# --------------------------------------------------------------------------------------
def _plan_file(settings: Settings, run_id: str) -> Path:
    """Where a partitioned enrich keeps its state between tasks (beside its partitions)."""
    from pipelines import partitions

    return partitions.run_folder(settings, run_id) / "enrich.json"


def _save_plan(settings: Settings, run_id: str, plan: dict[str, Any]) -> None:
    from pipelines import partitions

    partitions.write_text_atomic(_plan_file(settings, run_id), json.dumps(plan, default=str))


def _load_plan(settings: Settings, run_id: str) -> dict[str, Any]:
    path = _plan_file(settings, run_id)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"enrich of run {run_id} has no readable plan at {path}: run its plan task first") from exc


def enrich_plan(settings: Settings, run_id: str, force: bool = False) -> list[dict[str, Any]]:
    """First task of a partitioned enrich: skip when nothing changed, else plan the redaction partitions.

    Returns the partitions for Airflow to map (``Partition.as_dict``; none when skipped: the
    stage is then recorded as skipped). The plan's state goes beside them for the next tasks.
    """
    from pipelines.privacy import stage as privacy

    started = datetime.now(UTC)
    with warehouse.run_lock(settings), warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        summary = None if force else _unchanged(con, settings, "enrich", changes.enrich_watch(settings))
        if summary is not None:
            _start(con, settings, run_id, "enrich", started)
            _finish(con, settings, run_id, "enrich", summary, None)
            _save_plan(settings, run_id, {"skipped": summary})
            return []
        try:
            parts, versions = privacy.plan_redaction(settings, con, run_id, settings.partitions)
        except BaseException as exc:  # e.g. the names model is not built: recorded, as the stage would be
            _record_failed(con, settings, run_id, "enrich", {"started_at": started.isoformat()}, exc)
            raise
    plan = {"started_at": started.isoformat(), "redact": [p.as_dict() for p in parts], "redaction": versions}
    _save_plan(settings, run_id, plan)
    return plan["redact"]


def enrich_middle(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """Load the redaction partitions, then plan the scoring partitions (returned for Airflow to map)."""
    from pipelines import partitions
    from pipelines.privacy import stage as privacy
    from pipelines.sentiment import stage as sentiment

    plan = _load_plan(settings, run_id)
    if "skipped" in plan:
        return []
    parts = [partitions.Partition.from_dict(p) for p in plan["redact"]]
    with warehouse.run_lock(settings), warehouse.connect(settings) as con:
        try:
            redacted = privacy.load_redactions(settings, con, parts)
            plan["redaction"] = {**plan["redaction"], "redacted": redacted}
            if parts:
                plan["redaction"]["partitions"] = partitions.stats(parts)
            scoring, plan["model_version"] = sentiment.plan_scoring(settings, con, run_id, settings.partitions)
        except BaseException as exc:
            _record_failed(con, settings, run_id, "enrich", plan, exc)
            raise
    plan["score"] = [p.as_dict() for p in scoring]
    _save_plan(settings, run_id, plan)
    partitions.clear(settings, run_id, privacy.STEP)
    return plan["score"]


def enrich_finish(settings: Settings, run_id: str) -> dict[str, Any]:
    """Load the scoring partitions and record the enrich stage (its start is the plan's); its summary."""
    from pipelines import partitions
    from pipelines.sentiment import stage as sentiment

    plan = _load_plan(settings, run_id)
    if "skipped" in plan:
        partitions.clear(settings, run_id)
        return plan["skipped"]
    parts = [partitions.Partition.from_dict(p) for p in plan.get("score", [])]
    with warehouse.run_lock(settings), warehouse.connect(settings) as con:
        try:
            if "model_version" not in plan:
                raise RuntimeError(f"enrich of run {run_id}: the scoring plan task did not run")
            scoring = {**sentiment.load_scores(settings, con, parts), "model_version": plan["model_version"]}
            if parts:
                scoring["partitions"] = partitions.stats(parts)
            summary = _enrich_summary(plan["redaction"], scoring)
            summary["models_rebuilt"] = len(warehouse.refresh_models(con, settings, marts=()).built)
            fingerprint = changes.fingerprint(con, settings, changes.enrich_watch(settings))
            changes.record(con, settings, "enrich", fingerprint, run_id, summary)
        except BaseException as exc:
            _record_failed(con, settings, run_id, "enrich", plan, exc)
            raise
        _start(con, settings, run_id, "enrich", datetime.fromisoformat(plan["started_at"]))
        _finish(con, settings, run_id, "enrich", summary, None)
    partitions.clear(settings, run_id)
    return summary


def _record_failed(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    stage: str,
    plan: dict[str, Any],
    exc: BaseException,
) -> None:
    """A partitioned stage's load failed: record the stage as failed and forget its fingerprint."""
    with contextlib.suppress(duckdb.Error):
        _start(con, settings, run_id, stage, datetime.fromisoformat(plan["started_at"]))
        _finish(con, settings, run_id, stage, {}, exc)
        changes.forget(con, settings, stage)


def embed_plan(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """Plan the clause embeddings the theme stage is missing (partitions for Airflow to map)."""
    from pipelines.themes import embedding

    started = datetime.now(UTC).isoformat()
    with warehouse.run_lock(settings), warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        try:
            return [p.as_dict() for p in embedding.plan_embedding(settings, con, run_id, settings.partitions)]
        except BaseException as exc:  # recorded as the theme stage's failure: it cannot run without them
            _record_failed(con, settings, run_id, "themes", {"started_at": started}, exc)
            raise


def embed_load(settings: Settings, run_id: str, parts: list[dict[str, Any]]) -> int:
    """Load the embedding partitions into the cache the theme stage reads; returns the vectors loaded."""
    from pipelines import partitions
    from pipelines.themes import embedding

    found = [partitions.Partition.from_dict(p) for p in parts]
    started = datetime.now(UTC).isoformat()
    with warehouse.run_lock(settings), warehouse.connect(settings) as con:
        try:
            loaded = embedding.load_embeddings(settings, con, found)
        except BaseException as exc:
            _record_failed(con, settings, run_id, "themes", {"started_at": started}, exc)
            raise
    for step in sorted({p.step for p in found}):
        partitions.clear(settings, run_id, step)
    return loaded


def themes_stage(
    settings: Settings,
    run_id: str,
    refit: bool | None = None,
    progress: bool = False,
    force: bool = False,
    workers: int | None = None,
) -> dict[str, Any]:
    """Embed missing clauses (partitioned), assign themes (refitting BERTopic when due), then insights.

    Skipped when nothing it reads changed and no refit is asked for or due. ``workers``
    processes (default ``settings.workers``) embed the partitions.
    """
    n = settings.workers if workers is None else max(1, workers)

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from pipelines.insights import stage as insights
        from pipelines.themes import embedding
        from pipelines.themes import stage as themes

        embedded = embedding.embed_pending(settings, con, run_id=run_id, workers=n, progress=progress)
        summary = themes.run_themes(settings, con, run_id, refit=refit, progress=progress)
        summary["embedded"] = int(summary.get("embedded") or 0) + embedded["embedded"]
        if embedded.get("partitions"):
            summary["partitions"] = {"embed": embedded["partitions"]}
        summary["insights"] = insights.run_insights(settings, con, run_id)
        summary.setdefault("rows_in", summary.get("clauses"))
        summary.setdefault("rows_out", summary.get("themed"))
        if "model_version" in summary:
            summary["theme_model_version"] = summary.pop("model_version")
        return summary

    return _run_stage(
        settings,
        run_id,
        "themes",
        body,
        needs_con=True,
        watch=lambda: changes.themes_watch(settings, refit),
        force=force,
    )


def theme_review_stage(settings: Settings, run_id: str, path: Path, reviewer: str | None = None) -> dict[str, Any]:
    """Import a reviewed theme workbook (``feedback themes import``): validate all of it, then apply it.

    Recorded in ``ops.stage_runs`` as stage ``theme_review`` (a rejected file as a failed run with
    the reason) with the new corrections version, the file's name and sha256 among its versions,
    then the SQL models are brought up to date so the reporting views show the corrections.

    Raises:
        pipelines.themes.review.ReviewImportError: listing every bad row; nothing is applied.
    """

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from pipelines.themes import review

        result = review.import_review(settings, con, path, review.taxonomy(settings), run_id, reviewer=reviewer)
        return {
            "rows_in": sum(result.counts[k] for k in ("renames", "moves", "merges", "recodes")),
            "rows_out": sum(result.counts[k] for k in ("renames", "moves", "merges", "recodes")),
            "theme_corrections_version": result.set_version,
            "corrections_file_version": f"{path.name} sha256:{result.file_sha256}",
            "reviewer": reviewer,
            "counts": result.counts,
            "new_themes": result.new_themes,
            "ignored": result.ignored,
        }

    return _run_stage(settings, run_id, "theme_review", body, needs_con=True, publish=True, marts=None)


def report_stage(
    settings: Settings,
    run_id: str,
    period: PeriodRequest | None = None,
    out_dir: Path | None = None,
    min_responses: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Prepare the KPI inputs (calendars, settings), then write the reports from the reporting views.

    ``period`` is parsed at the edge (``pipelines.periods.parse_period``); None = the latest
    complete month with at least ``min_responses`` responses (default ``report.MIN_RESPONSES``).
    Every page and export passes the final privacy scan (``pipelines.privacy.scan``) first.
    Skipped when nothing feeding the reports changed since the last successful report for the
    same period, folder and settings, and every file it wrote is still there (``force``: write).

    Raises:
        exports.ExportBlocked: after every other file is written, when the scan held files back
            (each is recorded in ``ops.export_blocks``: file, column, kind, count).
    """
    target = out_dir or settings.reports_dir

    def body(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from pipelines import report
        from pipelines.insights import kpis
        from pipelines.privacy import scan

        kpis.prepare_reporting(settings, con, source_calendars=source_calendars(settings))
        # The stages before leave the marts to this one: each is rebuilt once per run, here.
        rebuilt = warehouse.refresh_models(con, settings).built
        warehouse.publish(con, settings)  # the run is complete: the reporting views move to it at once
        guard = scan.ExportScan(settings, con, run_id, root=target)
        # The BI extract (docs/bi.md) is copied in a thread while the pages are written.
        extract = report.start_extract(settings, con, run_id, period)
        try:
            written = report.write_reports(
                settings,
                con,
                period,
                target,
                run_id,
                min_responses=report.MIN_RESPONSES if min_responses is None else min_responses,
                guard=guard,
            )
        except BaseException:
            extract.cancel()
            raise
        written += extract.finish(guard)
        guard.remember_clean()  # the next run scans only texts it has not seen
        if guard.blocked:
            raise exports.ExportBlocked(guard.blocked, written=len(written))
        return {"rows_out": len(written), "files": [str(p) for p in written], "models_rebuilt": len(rebuilt)}

    return _run_stage(
        settings,
        run_id,
        "report",
        body,
        needs_con=True,
        watch=lambda: changes.report_watch(settings, period, target, min_responses),
        force=force,
    )


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
    watch: Callable[[], changes.Watch | None] | None = None,
    force: bool = False,
    publish: bool = False,
    marts: tuple[str, ...] | None = (),
) -> dict[str, Any]:
    """Run one stage under the warehouse run lock, recorded in ops.stage_runs, then refresh the models.

    With a ``watch`` (what the stage reads, :mod:`pipelines.changes`) the stage is skipped when
    its fingerprint equals the one it left when it last succeeded (unless ``force``). With
    ``publish`` the refreshed marts are then published (a stage that completes a change on its own).
    ``marts`` are the tables rebuilt for new data after the stage (``warehouse.refresh_models``;
    None: all). Stages before the report leave them to the report, which rebuilds them once.
    """
    with warehouse.run_lock(settings):
        if not needs_con:
            return _run_own_connections(settings, run_id, stage, body, marts)
        with warehouse.connect(settings) as con:
            warehouse.apply_schema(con, settings)
            _start(con, settings, run_id, stage, datetime.now(UTC))
            try:
                summary = _skip_or_run(con, settings, run_id, stage, lambda: body(con), watch, force, marts)
                if publish:
                    summary["published"] = len(warehouse.publish(con, settings))
            except BaseException as exc:  # Ctrl-C too: never leave the row "running"
                _finish(con, settings, run_id, stage, {}, exc)
                with contextlib.suppress(duckdb.Error):  # its next run does the work
                    changes.forget(con, settings, stage)
                raise
            _finish(con, settings, run_id, stage, summary, None)
            return summary


def _skip_or_run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    stage: str,
    body: Callable[[], dict[str, Any]],
    watch: Callable[[], changes.Watch | None] | None,
    force: bool,
    marts: tuple[str, ...] | None = (),
) -> dict[str, Any]:
    """The stage's summary: carried over when nothing it reads changed, else from running ``body``."""
    watching = watch() if watch is not None else None
    if watching is not None and not force:
        # Nothing it reads changed, so no model input did: ingest, which always runs first, has
        # already brought the models up to date (edited SQL files included).
        carried = _unchanged(con, settings, stage, watching)
        if carried is not None:
            return carried
    summary = body()
    rebuilt = warehouse.refresh_models(con, settings, marts=marts).built
    summary["models_rebuilt"] = int(summary.get("models_rebuilt") or 0) + len(rebuilt)
    after = watch() if watch is not None else None  # e.g. a refit was due before the body, not now
    if after is not None:
        changes.record(con, settings, stage, changes.fingerprint(con, settings, after), run_id, summary)
    else:
        changes.forget(con, settings, stage)
    return summary


def _unchanged(
    con: duckdb.DuckDBPyConnection, settings: Settings, stage: str, watching: changes.Watch
) -> dict[str, Any] | None:
    """The carried-over summary when nothing ``stage`` reads changed since it last succeeded, else None."""
    state = changes.last_state(con, settings, stage)
    if state is None or state.fingerprint != changes.fingerprint(con, settings, watching):
        return None
    summary = _carried(state)
    if summary is not None:
        log.info("stage %s: %s since run %s", stage, SKIPPED, state.run_id)
    return summary


def _carried(state: changes.StageState) -> dict[str, Any] | None:
    """Summary of a skipped stage: the versions and files of the run that did the work.

    None when a file that run wrote is gone (the stage must write it again).
    """
    previous = state.summary
    files = previous.get("files") or []
    if any(not Path(f).is_file() for f in files):
        return None
    kept = {k: v for k, v in previous.items() if "version" in k or k in {"redactor", "files"}}
    return {"outcome": SKIPPED, "same_as_run": state.run_id, "rows_in": 0, "rows_out": 0, "models_rebuilt": 0, **kept}


def _run_own_connections(
    settings: Settings,
    run_id: str,
    stage: str,
    body: Callable[[], dict[str, Any]],
    marts: tuple[str, ...] | None = (),
) -> dict[str, Any]:
    """Ingest opens its own short transaction per file: the run record is written around it."""
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
            # What did load (other sources, earlier files) reaches the views even after a failure;
            # the marts follow at the report (``marts``).
            outcome["models_rebuilt"] = len(warehouse.refresh_models(con, settings, marts=marts).built)
        except BaseException as exc:
            error = error or warehouse.explain(exc, settings.warehouse)
        _finish(con, settings, run_id, stage, outcome if error is None else {}, error)
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
    force: bool = False,
    workers: int | None = None,
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
        force: run enrich, themes and report even when nothing they read changed.
        workers: processes computing the heavy steps' partitions (default ``settings.workers``).

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
        out["enrich"] = enrich_stage(settings, run_id, progress=progress, force=force, workers=workers)
        out["themes"] = themes_stage(settings, run_id, refit=refit, progress=progress, force=force, workers=workers)
        out["report"] = report_stage(settings, run_id, period=period, force=force)
    if failures:
        raise RunIncomplete(f"{len(failures)} source(s) failed to ingest: {', '.join(failures)}", out, failures)
    return out
