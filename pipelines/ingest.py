"""Incremental, validated, transactional ingestion of configured sources.

For each file of a source that has not been ingested before (by sha256), one batch:
read -> map to canonical records -> Great Expectations -> split into loaded rows and
quarantined rows -> one DuckDB transaction that upserts ``raw.feedback`` (changed records
also go to ``raw.feedback_history``), appends ``raw.quarantine`` and records the batch with
its reconciliation ``rows_read = rows_loaded + rows_quarantined + rows_duplicate``.
A crash before COMMIT leaves the warehouse as it was, and the file is retried next run.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipelines import quality, schema, warehouse
from pipelines.config import Settings
from pipelines.sources.base import SourceConfig, SourceError, file_checksum, load_source_configs
from pipelines.sources.readers import read_source_file

log = logging.getLogger(__name__)


class IngestError(RuntimeError):
    """One or more sources failed; ``results`` holds the batches that did run."""

    def __init__(self, message: str, results: list[BatchResult]) -> None:
        super().__init__(message)
        self.results = results


class QuarantineThresholdExceeded(RuntimeError):
    """Too large a share of a source's rows failed validation: its task must fail loudly."""


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

    def as_dict(self) -> dict:
        """Plain dict for logs and XCom."""
        return asdict(self)


def ingest_all(settings: Settings, names: list[str] | None = None) -> list[BatchResult]:
    """Ingest every configured source (or only ``names``) in turn."""
    results: list[BatchResult] = []
    errors: list[str] = []
    for config in load_source_configs(settings.sources_dir, names):
        try:
            results.extend(ingest_source(settings, config))
        except (SourceError, QuarantineThresholdExceeded) as exc:
            # One bad source must not stop the others; the run still fails at the end.
            log.error("source %s failed: %s", config.name, exc)
            errors.append(f"{config.name}: {exc}")
    if errors:
        raise IngestError("; ".join(errors), results)
    return results


def ingest_source(settings: Settings, config: SourceConfig) -> list[BatchResult]:
    """Ingest the new files of one source; raises if its quarantine share is too high.

    Raises:
        QuarantineThresholdExceeded: after recording the batch, when the share of rows
            quarantined exceeds ``settings.quarantine_max``.
    """
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        done = {
            row[0]
            for row in warehouse.run_sql(con, settings, "ops/ingested_checksums", {"source": config.name}).fetchall()
        }
    results = []
    for path in config.files(settings.data_dir):
        checksum = file_checksum(path)
        if checksum in done:
            results.append(BatchResult("", config.name, str(path), "skipped", message="file already ingested"))
            continue
        result = _ingest_file(settings, config, path, checksum)
        results.append(result)
        done.add(checksum)
        if result.rows_read and result.rows_quarantined / result.rows_read > settings.quarantine_max:
            raise QuarantineThresholdExceeded(
                f"source {config.name}: {result.rows_quarantined} of {result.rows_read} rows quarantined "
                f"(> {settings.quarantine_max:.0%}) in {path.name}; see raw.quarantine batch {result.batch_id}"
            )
    if not results:
        log.warning("source %s: no file matches %s", config.name, config.path)
    return results


def _ingest_file(settings: Settings, config: SourceConfig, path: Path, checksum: str) -> BatchResult:
    batch_id = f"{config.name}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    started = datetime.now(UTC)
    result = BatchResult(batch_id, config.name, str(path), "running")
    try:
        mapped, rejects, rows_read = read_source_file(config, path)
    except SourceError as exc:
        # The whole file is unreadable: record a failed batch, keep the file for a retry.
        result.status, result.message = "failed", str(exc)
        _record_failed(settings, config, result, checksum, started)
        raise
    mapped = mapped.reset_index(drop=True)
    outcome = quality.validate(mapped, config.stream, settings.gx_dir)
    quarantine = _quarantine_frame(batch_id, config.name, mapped, outcome, rejects)
    # A source row that fails any check is quarantined whole (all its answers), verbatim.
    bad_rows = set(mapped.loc[sorted(outcome.failures), "_row_number"].astype(int)) if outcome.failures else set()
    good = mapped[~mapped["_row_number"].astype(int).isin(bad_rows)]
    records = schema.conform(good.drop(columns=[c for c in good.columns if c.startswith("_")]))
    records["batch_id"] = batch_id
    records["ingested_at"] = pd.Timestamp(started)
    records["file_checksum"] = checksum
    result.rows_read = rows_read
    result.rows_quarantined = len(bad_rows) + len(rejects)
    result.gx_success = outcome.success
    with warehouse.connect(settings) as con:
        con.execute("begin transaction")
        try:
            con.register("incoming", records)
            con.register("incoming_quarantine", quarantine)
            changes = warehouse.run_sql(con, settings, "ops/feedback_changes").fetchone()
            result.rows_inserted, result.rows_updated, _ = (int(v or 0) for v in changes)
            unchanged_rows = _unchanged_rows(con, settings, good)
            warehouse.run_sql(con, settings, "ops/append_history", {"valid_from": started})
            warehouse.run_sql(con, settings, "ops/upsert_feedback")
            warehouse.run_sql(con, settings, "ops/append_quarantine", {"at": started})
            good_rows = set(good["_row_number"].astype(int))
            result.rows_duplicate = len(unchanged_rows)
            result.rows_loaded = len(good_rows - unchanged_rows)
            result.rows_skipped = rows_read - result.rows_loaded - result.rows_quarantined - result.rows_duplicate
            result.status = "success"
            result.message = f"gx data docs: {outcome.docs_url}" if outcome.docs_url else ""
            _record_batch(con, settings, config, result, checksum, started)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        finally:
            con.unregister("incoming")
            con.unregister("incoming_quarantine")
    log.info("ingested %s: %s", path.name, json.dumps(result.as_dict()))
    return result


def _unchanged_rows(con, settings: Settings, good: pd.DataFrame) -> set[int]:  # noqa: ANN001
    """Source rows all of whose records were already loaded with the same content."""
    unchanged_ids = {r[0] for r in warehouse.run_sql(con, settings, "ops/unchanged_ids").fetchall()}
    if not unchanged_ids:
        return set()
    ids = [schema.feedback_id(s, r) for s, r in zip(good["source"], good["source_record_id"], strict=True)]
    frame = pd.DataFrame({"row": good["_row_number"].astype(int).to_numpy(), "same": [i in unchanged_ids for i in ids]})
    per_row = frame.groupby("row")["same"].all()
    return set(per_row[per_row].index)


def _quarantine_frame(
    batch_id: str, source: str, mapped: pd.DataFrame, outcome: quality.Outcome, rejects: pd.DataFrame
) -> pd.DataFrame:
    rows = [
        {
            "batch_id": batch_id,
            "source": source,
            "row_number": int(mapped.at[index, "_row_number"]),
            "source_record_id": None if pd.isna(mapped.at[index, "source_record_id"]) else str(mapped.at[index, "source_record_id"]),
            "raw_row": str(mapped.at[index, "_raw"]),
            "failed_check": "; ".join(sorted({check for check, _ in failures})),
            "reason": "; ".join(dict.fromkeys(reason for _, reason in failures)),
        }
        for index, failures in outcome.failures.items()
    ]
    frame = pd.DataFrame(rows, columns=["batch_id", "source", "row_number", "source_record_id", "raw_row", "failed_check", "reason"])
    if len(rejects):
        extra = rejects.assign(batch_id=batch_id, source=source)[frame.columns]
        frame = pd.concat([frame, extra], ignore_index=True) if len(frame) else extra
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame.drop_duplicates(subset=["row_number", "failed_check"]).reset_index(drop=True)


def _record_batch(con, settings: Settings, config: SourceConfig, result: BatchResult, checksum: str, started: datetime) -> None:  # noqa: ANN001
    warehouse.run_sql(
        con,
        settings,
        "ops/insert_batch",
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
            "watermark": checksum,
            "gx_success": result.gx_success,
            "message": result.message,
        },
    )


def _record_failed(settings: Settings, config: SourceConfig, result: BatchResult, checksum: str, started: datetime) -> None:
    with warehouse.connect(settings) as con:
        # A failed batch has no checksum recorded as done: the file is retried next run.
        result.location = f"{result.location} (failed)"
        _record_batch(con, settings, config, result, None, started)  # type: ignore[arg-type]
