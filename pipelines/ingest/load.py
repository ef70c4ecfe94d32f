"""Incremental, validated, transactional ingestion of configured sources.

Each new file of a source (by sha256, per mapping version) or each new SQL extract (rows
since the stored watermark) is one *batch*: read -> map to canonical records -> Great
Expectations -> split into loaded, quarantined and duplicate rows -> ONE DuckDB transaction
that upserts ``raw.feedback`` (new or changed records also go to ``raw.feedback_history``),
replaces ``raw.survey_items`` of the loaded responses, appends ``raw.quarantine``, moves the
source's state/watermark (``raw.source_state``) and records the batch with its
reconciliation in ``raw.ingest_batches``::

    rows_read = rows_loaded + rows_quarantined + rows_duplicate + rows_skipped

(``rows_skipped`` counts FHIR responses skipped by status; it is 0 for other formats). A crash
before COMMIT leaves the warehouse exactly as it was, and the next run ingests the batch again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import schema, warehouse
from pipelines.config import Settings
from pipelines.ingest import quality
from pipelines.periods import DateWindow
from pipelines.provenance import sha256_file
from pipelines.sources.base import load_source_configs, source_files
from pipelines.sources.readers import SourceRead, map_source_rows, read_source_file
from pipelines.sources.types import SourceConfig, SourceError

log = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["batch_id", "source", "row_number", "source_record_id", "raw_row", "failed_check", "reason"]
ITEM_COLUMNS = [
    "source",
    "response_id",
    "item_key",
    "question",
    "scale",
    "answer_raw",
    "value",
    "batch_id",
    "ingested_at",
]


class IngestError(RuntimeError):
    """One or more sources failed; ``results`` holds the batches that did run, ``failures`` why each source failed."""

    def __init__(self, message: str, results: list[BatchResult], failures: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.results = results
        self.failures = failures or {}


class QuarantineThresholdExceeded(RuntimeError):
    """Too large a share of a source's rows failed validation: its task must fail loudly."""

    def __init__(self, message: str, results: list[BatchResult] | None = None) -> None:
        super().__init__(message)
        self.results = results or []


class ReconciliationError(RuntimeError):
    """Rows read do not add up to loaded + quarantined + duplicate + skipped (a bug: nothing is written)."""


@dataclass
class BatchResult:
    """Reconciliation of one ingest batch (what ``feedback status`` shows)."""

    batch_id: str
    source: str
    location: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_skipped: int = 0
    gx_success: bool | None = None
    message: str = ""
    data_docs: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict for logs and XCom."""
        return asdict(self)

    @property
    def reconciles(self) -> bool:
        """rows_read = loaded + quarantined + duplicate + skipped."""
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_duplicate + self.rows_skipped


@dataclass
class _Unit:
    """One file or SQL extract waiting to be ingested."""

    location: str
    checksum: str
    read: Callable[[], SourceRead]
    watermark: str | None = None
    watermark_type: str | None = None


class _Clock:
    """Wall and CPU seconds per step (CPU includes DuckDB's threads; wall includes waiting)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self, timings: dict[str, float], step: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        timings[step], timings[f"{step}_cpu"] = wall - self.wall, cpu - self.cpu
        self.wall, self.cpu = wall, cpu


def ingest_all(
    settings: Settings, names: list[str] | None = None, force: bool = False, window: DateWindow | None = None
) -> list[BatchResult]:
    """Ingest every configured source (or only ``names``) in turn.

    A failing source (unreadable file, database down, too many rows quarantined) does not stop
    the others; the run raises :class:`IngestError` at the end, carrying every batch result.

    Args:
        settings: where the warehouse, sources and GX context live.
        names: only these sources (YAML stems).
        force: re-read files already ingested (records upsert; unchanged ones count as duplicates).
        window: a backfill: SQL sources pull the rows dated in it (their watermark stays);
            file sources, ingested file by file, are skipped with a note.
    """
    try:
        configs = load_source_configs(settings.sources_dir, names)
    except SourceError as exc:
        raise IngestError(f"source configuration: {exc}", []) from exc
    results: list[BatchResult] = []
    failures: dict[str, str] = {}
    validations: list = []
    for config in configs:
        try:
            results.extend(ingest_source(settings, config, force=force, validations=validations, window=window))
        except (QuarantineThresholdExceeded, IngestError) as exc:
            log.error("source %s failed: %s", config.name, exc)
            results.extend(exc.results)
            failures[config.name] = str(exc).removeprefix(f"source {config.name}: ")
        except Exception as exc:  # one bad source must not stop the others; the run still fails
            log.exception("source %s failed", config.name)
            failures[config.name] = f"{type(exc).__name__}: {exc}"
    _build_docs(settings, validations, results)
    if failures:
        raise IngestError("; ".join(f"source {k}: {v}" for k, v in failures.items()), results, failures)
    return results


def _build_docs(settings: Settings, validations: list, results: list[BatchResult]) -> None:
    """Render this run's validation results into the GX Data Docs and say where they are."""
    if not validations:
        return
    try:
        url = quality.build_data_docs(settings.gx_dir, validations)
    except Exception:  # the docs are a report on the data, never a reason to lose the load
        log.exception("building Great Expectations Data Docs failed")
        return
    for result in results:
        if result.gx_success is not None:
            result.data_docs = url
    log.info("Great Expectations Data Docs: %s", url)


def ingest_source(
    settings: Settings,
    config: SourceConfig,
    force: bool = False,
    validations: list | None = None,
    window: DateWindow | None = None,
) -> list[BatchResult]:
    """Ingest the new files (or new SQL rows, or a SQL source's rows dated in ``window``) of one source.

    ``validations`` collects the GX validation results for Data Docs; when not given, the
    docs are built before returning. A bounded ``window`` skips a file source (its files are
    ingested whole, by a run without a window): its result has status "no window" and says why.

    Raises:
        QuarantineThresholdExceeded: after recording its batches, when the share of rows
            quarantined in a batch exceeds the source's ``quarantine_max`` (default
            ``settings.quarantine_max``).
        IngestError: when a file or extract could not be read at all (recorded as a failed
            batch; it is retried next run). Other files of the source are still ingested.
    """
    if window is not None and window.bounded and config.format != "sql":
        note = f"file source: a backfill window ({window}) applies to SQL sources only; files are ingested whole"
        log.warning("source %s skipped: %s", config.name, note)
        return [BatchResult("", config.name, config.path, "no window", message=note)]  # shown in the run summary
    done, state = _ingested(settings, config, force)
    own_docs = validations is None
    validations = [] if validations is None else validations
    limit = settings.quarantine_max if config.quarantine_max is None else config.quarantine_max
    units = _units_or_fail(settings, config, state, window)
    results: list[BatchResult] = []
    unreadable: list[str] = []
    over: list[str] = []
    for unit in units:
        if unit.checksum in done:
            results.append(BatchResult("", config.name, unit.location, "skipped", message="already ingested"))
            continue
        result = _ingest_unit(settings, config, unit, validations)
        results.append(result)
        if result.status == "failed":
            unreadable.append(result.message.removeprefix(f"source {config.name}: "))
            continue
        done.add(unit.checksum)
        if result.rows_read and result.rows_quarantined / result.rows_read > limit:
            over.append(
                f"{result.rows_quarantined} of {result.rows_read} rows quarantined (> {limit:.0%}) in "
                f"{Path(unit.location).name}; see raw.quarantine batch {result.batch_id}"
            )
    if not units:
        log.info("source %s: nothing new (%s)", config.name, config.path or _sql_location(config))
    if own_docs:
        _build_docs(settings, validations, results)
    if unreadable:
        raise IngestError(f"source {config.name}: " + "; ".join(unreadable + over), results)
    if over:
        raise QuarantineThresholdExceeded(f"source {config.name}: " + "; ".join(over), results)
    return results


def _ingested(settings: Settings, config: SourceConfig, force: bool) -> tuple[set[str], tuple | None]:
    """Checksums already ingested under this mapping (none when ``force``) and the source's stored state."""
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        params = {"source": config.name, "config_hash": config.config_hash}
        done = (
            set()
            if force
            else {
                r[0] for r in warehouse.run_sql(con, settings, "queries/ingest/ingested_checksums", params).fetchall()
            }
        )
        state = warehouse.run_sql(con, settings, "queries/ingest/source_state", {"source": config.name}).fetchone()
    return done, state


def _units_or_fail(
    settings: Settings, config: SourceConfig, state: tuple | None, window: DateWindow | None = None
) -> list[_Unit]:
    """The source's files or SQL extract; a source that cannot even be listed is recorded as a failed batch."""
    try:
        return _units(settings, config, state, window)
    except SourceError as exc:
        failed = BatchResult(_batch_id(config), config.name, _sql_location(config), "failed", message=str(exc))
        _record_failed(settings, config, failed, datetime.now(UTC))
        raise IngestError(str(exc), [failed]) from exc


def _sql_location(config: SourceConfig) -> str:
    return f"sql:{config.table or Path(config.query or '').name}" if config.format == "sql" else config.path


def _batch_id(config: SourceConfig) -> str:
    return f"{config.name}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _units(
    settings: Settings, config: SourceConfig, state: tuple | None, window: DateWindow | None = None
) -> list[_Unit]:
    if config.format != "sql":
        units = []
        for path in source_files(config, settings.data_dir):
            units.append(_Unit(str(path), sha256_file(path), lambda p=path: read_source_file(config, p)))
        return units
    from pipelines.sources.sql import pull

    mark, kind = (state[0], state[1]) if state else (None, None)
    extract = pull(config, mark, kind, urls=settings.source_urls, window=window)
    if not len(extract.rows.frame):
        log.info("source %s: no rows %s", config.name, f"dated {window}" if window else f"since watermark {mark}")
        return []
    return [
        _Unit(
            extract.location,
            extract.checksum,
            lambda: map_source_rows(config, extract.rows),
            extract.watermark,
            extract.watermark_type,
        )
    ]


@dataclass
class _Batch:
    """One unit's records split for loading, and the frames its SQL statements read."""

    good: pd.DataFrame  # mapped records that passed validation (helper columns kept)
    incoming: pd.DataFrame  # ``good`` conformed to raw.feedback, with batch columns
    quarantine: pd.DataFrame
    items: pd.DataFrame
    retracted: pd.DataFrame
    exact_dups: set[int]
    outcome: quality.Outcome
    notes: list[str]

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by the view names the named SQL statements read."""
        return {
            "incoming_frame": self.incoming,
            "incoming_quarantine": self.quarantine,
            "incoming_items": self.items,
            "incoming_items_responses": self.items[["response_id"]].drop_duplicates(),
            "incoming_retracted": self.retracted,
        }


def _ingest_unit(settings: Settings, config: SourceConfig, unit: _Unit, validations: list) -> BatchResult:
    """Read, validate, conform and load one file or extract: one batch, one transaction."""
    started = datetime.now(UTC)
    result = BatchResult(_batch_id(config), config.name, unit.location, "running")
    clock = _Clock()
    try:
        read = unit.read()
    except Exception as exc:  # a reader bug or a file no reader expected must still leave a trace
        # The whole file is unreadable: record a failed batch, keep the file for a retry.
        message = str(exc) if isinstance(exc, SourceError) else f"cannot read the file: {type(exc).__name__}: {exc}"
        result.status, result.message = "failed", message
        _record_failed(settings, config, result, started)
        log.error("source %s: %s", config.name, message)
        return result
    clock.lap(result.timings, "read_map")
    try:
        records = read.mapped.records.reset_index(drop=True)
        exact_dups = _exact_duplicate_rows(records)
        candidates = records[~records["_pos"].isin(exact_dups)]
        outcome = quality.validate(candidates, config.stream, settings.gx_dir)
        clock.lap(result.timings, "validate")
        validations.extend(outcome.result_ids)
        batch = _conform(config, unit, read, candidates, exact_dups, outcome, result.batch_id, started)
    except Exception as exc:  # a value no check foresaw: fail this file with a trace, not the whole run
        result.status = "failed"
        result.message = f"cannot validate the rows: {type(exc).__name__}: {exc}"
        _record_failed(settings, config, result, started)
        log.exception("source %s: %s", config.name, result.message)
        return result
    clock.lap(result.timings, "conform")
    result.rows_read = read.rows_read
    result.rows_skipped = read.rows_skipped
    result.rows_quarantined = len(batch.quarantine)
    result.gx_success = outcome.success
    result.data_docs = outcome.docs_url
    _load(settings, config, unit, batch, result, started)
    clock.lap(result.timings, "load")
    _log_batch(result)
    return result


def _conform(
    config: SourceConfig,
    unit: _Unit,
    read: SourceRead,
    candidates: pd.DataFrame,
    exact_dups: set[int],
    outcome: quality.Outcome,
    batch_id: str,
    started: datetime,
) -> _Batch:
    """Split validated records into quarantined and good rows and conform the good ones to raw.feedback."""
    bad_pos = set(candidates.loc[list(outcome.failures), "_pos"].astype(int)) if outcome.failures else set()
    quarantine = _quarantine_frame(batch_id, config.name, candidates, outcome, read)
    good = candidates[~candidates["_pos"].isin(bad_pos)]
    incoming = schema.conform(good[[c for c in good.columns if not c.startswith("_")]])
    incoming = incoming.astype({"feedback_id": "string", "record_hash": "string"})  # typed even when empty
    incoming["batch_id"] = batch_id
    incoming["ingested_at"] = pd.Timestamp(started)
    incoming["file_checksum"] = unit.checksum
    items = _items_frame(config, read, good, batch_id, started)
    retracted = pd.DataFrame(
        {"response_id": sorted(set(read.retracted) - set(good["response_id"].dropna()))}, dtype="string"
    )
    return _Batch(good, incoming, quarantine, items, retracted, exact_dups, outcome, list(read.rows.notes))


def _load(
    settings: Settings, config: SourceConfig, unit: _Unit, batch: _Batch, result: BatchResult, started: datetime
) -> None:
    """Write the batch in ONE transaction; on any error it is rolled back, recorded as failed, and re-raised."""
    with warehouse.connect(settings) as con:
        try:
            with warehouse.registered(con, **batch.frames()), warehouse.transaction(con):
                _write_records(con, settings, config, batch, result, started)
                _finish_batch(con, settings, config, unit, batch, result, started)
        except Exception as exc:
            failed = BatchResult(
                result.batch_id,
                config.name,
                unit.location,
                "failed",
                rows_read=result.rows_read,
                message=f"load rolled back: {type(exc).__name__}: {exc}",
            )
            _record_failed(settings, config, failed, started, con)
            raise


def _write_records(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    config: SourceConfig,
    batch: _Batch,
    result: BatchResult,
    started: datetime,
) -> None:
    """Upsert raw.feedback (history of new and changed records), survey items, retractions and quarantine."""
    # Materialised once: every statement below scans it (a pandas scan costs a conversion each time).
    warehouse.run_sql(con, settings, "queries/ingest/stage_incoming")
    changes = warehouse.run_sql(con, settings, "queries/ingest/feedback_changes").fetchone()
    inserted, updated, _ = (int(v or 0) for v in changes)
    result.rows_inserted, result.rows_updated = inserted, updated
    params = {"source": config.name}
    stale = warehouse.run_sql(con, settings, "queries/ingest/stale_records", params).fetchall()
    unchanged = _unchanged_rows(con, settings, batch.good, batch.incoming, {r[1] for r in stale})
    warehouse.run_sql(con, settings, "queries/ingest/append_history", {"valid_from": started})
    if stale:
        warehouse.run_sql(con, settings, "queries/ingest/delete_stale", params)
        batch.notes.append(f"{len(stale)} record(s) no longer in their response removed")
    warehouse.run_sql(con, settings, "queries/ingest/upsert_feedback")
    if len(batch.items):
        warehouse.run_sql(con, settings, "queries/ingest/replace_items", params)
        warehouse.run_sql(con, settings, "queries/ingest/insert_items")
    if len(batch.retracted):
        gone = warehouse.run_sql(con, settings, "queries/ingest/retracted_records", params).fetchone()[0]
        warehouse.run_sql(con, settings, "queries/ingest/retract", params)
        warehouse.run_sql(con, settings, "queries/ingest/retract_items", params)
        if gone:
            batch.notes.append(f"{gone} record(s) of entered-in-error responses retracted")
    warehouse.run_sql(con, settings, "queries/ingest/append_quarantine", {"at": started})
    result.rows_duplicate = len(unchanged) + len(batch.exact_dups)
    result.rows_loaded = batch.good["_pos"].nunique() - len(unchanged)


def _finish_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    config: SourceConfig,
    unit: _Unit,
    batch: _Batch,
    result: BatchResult,
    started: datetime,
) -> None:
    """Check the reconciliation, then move the source's state and record the batch (same transaction).

    Raises:
        ReconciliationError: when the counts do not add up (the transaction is rolled back).
    """
    if not result.reconciles:
        raise ReconciliationError(
            f"{unit.location}: read {result.rows_read} != loaded {result.rows_loaded} + quarantined "
            f"{result.rows_quarantined} + duplicate {result.rows_duplicate} + skipped {result.rows_skipped}"
        )
    result.status = "success"
    if batch.outcome.result_ids:
        batch.notes.append(f"gx data docs: {batch.outcome.docs_url}")
    result.message = "; ".join(batch.notes)
    _record_state(con, settings, config, result, unit)
    _record_batch(con, settings, config, result, unit.checksum, started, unit.watermark)


def _log_batch(result: BatchResult) -> None:
    log.info(
        "ingested %s: read %d = loaded %d + quarantined %d + duplicate %d + skipped %d (%.1fs)%s",
        result.location,
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
        result.rows_duplicate,
        result.rows_skipped,
        sum(v for k, v in result.timings.items() if not k.endswith("_cpu")),
        f"; {result.message}" if result.message else "",
    )


def _exact_duplicate_rows(records: pd.DataFrame) -> set[int]:
    """Source rows repeating an earlier row of the same file exactly (same id, same content)."""
    first = records.drop_duplicates("_pos")
    ids = first.set_index("_pos")["response_id"]
    repeated = ids[ids.notna() & ids.duplicated(keep=False)]
    if repeated.empty:
        return set()
    subset = records[records["_pos"].isin(repeated.index)]
    content = subset[[c for c in subset.columns if c not in {"_pos", "_row_number"}]].astype("string")
    hashes = pd.util.hash_pandas_object(content, index=False)
    signature = hashes.groupby(subset["_pos"].to_numpy()).agg(lambda h: hash(tuple(h)))
    frame = pd.DataFrame({"id": repeated, "sig": signature.reindex(repeated.index)})
    dups = frame.duplicated(["id", "sig"], keep="first")
    return set(frame.index[dups].astype(int))


def _unchanged_rows(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    good: pd.DataFrame,
    incoming: pd.DataFrame,
    stale_responses: set[str],
) -> set[int]:
    """Source rows all of whose records were already loaded with the same content."""
    unchanged_ids = {r[0] for r in warehouse.run_sql(con, settings, "queries/ingest/unchanged_ids").fetchall()}
    if not unchanged_ids:
        return set()
    frame = pd.DataFrame(
        {"row": good["_pos"].astype(int).to_numpy(), "same": incoming["feedback_id"].isin(unchanged_ids).to_numpy()}
    )
    frame["same"] &= ~good["response_id"].isin(stale_responses).to_numpy()
    per_row = frame.groupby("row")["same"].all()
    return set(per_row[per_row].index)


def _items_frame(
    config: SourceConfig, read: SourceRead, good: pd.DataFrame, batch_id: str, started: datetime
) -> pd.DataFrame:
    items = read.mapped.items
    if not len(items):
        return pd.DataFrame({c: pd.Series(dtype="string") for c in ITEM_COLUMNS})
    ids = good.drop_duplicates("_pos").set_index("_pos")["response_id"]
    out = items[items["_pos"].isin(ids.index)].copy()
    out["response_id"] = ids.reindex(out["_pos"]).to_numpy()
    out["source"] = config.name
    out["batch_id"] = batch_id
    out["ingested_at"] = pd.Timestamp(started)
    out["value"] = out["value"].astype("Float64")
    return out[ITEM_COLUMNS].reset_index(drop=True)


def _quarantine_frame(
    batch_id: str, source: str, records: pd.DataFrame, outcome: quality.Outcome, read: SourceRead
) -> pd.DataFrame:
    """One row per quarantined source row: its raw text, every check it failed and why."""
    per_row: dict[int, dict] = {}
    for index, failures in outcome.failures.items():
        pos = int(records.at[index, "_pos"])
        entry = per_row.setdefault(
            pos,
            {
                "row_number": int(records.at[index, "_row_number"]),
                "source_record_id": records.at[index, "response_id"],
                "checks": {},
            },
        )
        for check, reason in failures:
            entry["checks"].setdefault(check, reason)
    positions = sorted(per_row)
    raws = read.rows.raw_rows(positions) if positions else []
    rows = [
        {
            "batch_id": batch_id,
            "source": source,
            "row_number": per_row[pos]["row_number"],
            "source_record_id": _text_or_none(per_row[pos]["source_record_id"]),
            "raw_row": raw,
            "failed_check": "; ".join(per_row[pos]["checks"]),
            "reason": "; ".join(dict.fromkeys(per_row[pos]["checks"].values())),
        }
        for pos, raw in zip(positions, raws, strict=True)
    ]
    rows += [
        {
            "batch_id": batch_id,
            "source": source,
            "row_number": r.row_number,
            "source_record_id": r.source_record_id,
            "raw_row": r.raw_row,
            "failed_check": r.failed_check,
            "reason": r.reason,
        }
        for r in read.rows.rejects
    ]
    frame = pd.DataFrame(rows, columns=QUARANTINE_COLUMNS)
    frame["row_number"] = frame["row_number"].astype("Int64")
    for col in QUARANTINE_COLUMNS:
        if col != "row_number":
            frame[col] = frame[col].astype("string")
    return frame


def _text_or_none(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _record_state(
    con: duckdb.DuckDBPyConnection, settings: Settings, config: SourceConfig, result: BatchResult, unit: _Unit
) -> None:
    warehouse.run_sql(
        con,
        settings,
        "queries/ingest/upsert_source_state",
        {
            "source": config.name,
            "stream": config.stream,
            "preset": config.preset,
            "format": config.format,
            "timezone": config.timezone,
            "country": config.country,
            "config_hash": config.config_hash,
            "watermark": unit.watermark,
            "watermark_type": unit.watermark_type,
            "batch_id": result.batch_id,
            "location": unit.location,
            "updated_at": datetime.now(UTC),
        },
    )


def _record_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    config: SourceConfig,
    result: BatchResult,
    checksum: str | None,
    started: datetime,
    watermark: str | None = None,
) -> None:
    warehouse.run_sql(
        con,
        settings,
        "queries/ingest/insert_batch",
        {
            "batch_id": result.batch_id,
            "source": config.name,
            "stream": config.stream,
            "location": result.location,
            "file_checksum": checksum,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "status": result.status,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_inserted": result.rows_inserted,
            "rows_updated": result.rows_updated,
            "rows_quarantined": result.rows_quarantined,
            "rows_duplicate": result.rows_duplicate,
            "rows_skipped": result.rows_skipped,
            "watermark": watermark or checksum,
            "gx_success": result.gx_success,
            "message": result.message[:4000],
            "config_hash": config.config_hash,
        },
    )


def _record_failed(
    settings: Settings,
    config: SourceConfig,
    result: BatchResult,
    started: datetime,
    con: duckdb.DuckDBPyConnection | None = None,
) -> None:
    """Record a failed batch (no checksum: the file is retried next run); never raises."""
    try:
        if con is not None:
            _record_batch(con, settings, config, result, None, started)
            return
        with warehouse.connect(settings) as own:
            warehouse.apply_schema(own, settings)
            _record_batch(own, settings, config, result, None, started)
    except Exception:  # recording the failure must not hide the failure itself
        log.exception("could not record failed batch %s", result.batch_id)
