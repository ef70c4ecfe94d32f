"""The PHI-free reporting extract: the ``reporting`` views copied into their own DuckDB file.

BI tools (Metabase, Superset, Power BI over ODBC, a notebook) open this file, never the warehouse.
It holds the data of the ``reporting`` views only (redacted text, counts with small cells
suppressed, run metadata), so an analyst cannot read raw comments, and a BI tool holding it open
never blocks the pipeline, which writes the warehouse and never opens the extract for reading.

Every report run writes a new file (``Settings.reporting_extract``, default ``reporting.duckdb``
beside the warehouse; ``FEEDBACK_REPORTING_EXTRACT=off`` writes none) in three steps:

1. each reporting view is streamed to Parquet (DuckDB's relation API: exact types, no SQL
   built in Python) in a temporary folder beside the target, then loaded into a new DuckDB file
   under a temporary name, as tables of the same names in its ``main`` schema
   (``rpt_feedback_comments``, ...), with ``meta`` (run id, data window, model versions and
   runs, code version) and ``meta_tables`` (rows and columns per table);
   This step runs in a worker thread on its own cursor (:func:`start_extract`) while the report
   stage writes its pages; :meth:`PendingExtract.finish` waits for it and does the rest;
2. the final privacy scan reads every distinct text of the new file (listed by DuckDB), then the
   file is checkpointed, closed, fsynced and made read-only (mode 0444);
3. it is renamed over the old extract (``os.replace``, atomic on POSIX): a reader sees the old
   file or the new one, never half of one. A BI tool that has the old file open keeps reading
   the old file (its inode) until it reconnects, and does not stop the swap.

Raw, enrich, staging, intermediate and marts tables are never copied: the only input is
:data:`READ_QUERY` over the views listed by :data:`COLUMNS_QUERY`. A view exposing a column
named like raw text (:data:`UNREDACTED_COLUMNS`) stops the extract before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import __version__, provenance, warehouse
from pipelines.config import Settings
from pipelines.exports import ExportBlocked, ExportGuard, withhold
from pipelines.periods import Period, PeriodRequest, Rolling

log = logging.getLogger(__name__)

COLUMNS_QUERY = "queries/report/extract_columns"
READ_QUERY = "queries/report/extract_read"
# The privacy scan of a written extract: which columns hold text, and their distinct strings.
TEXT_COLUMNS_QUERY = "queries/report/extract_text_columns"
COLUMN_QUERY = "queries/report/extract_column"
_DISTINCT_QUERIES = {"text": "queries/report/extract_distinct_text", "list": "queries/report/extract_distinct_list"}
# Column names that hold unredacted text in the raw layer (raw.feedback.text, raw.quarantine.raw_row).
# Reporting views carry text_redacted and redacted quotes; a view exposing one of these is a bug.
UNREDACTED_COLUMNS = frozenset({"text", "raw_row"})
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class ExtractError(RuntimeError):
    """The reporting extract could not be written (the previous extract, if any, is left as it was)."""


def write_extract(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    period: PeriodRequest | None = None,
    guard: ExportGuard | None = None,
) -> list[Path]:
    """Write the reporting extract for this run; returns ``[path]``, or ``[]`` when switched off or blocked.

    Args:
        settings: ``reporting_extract`` is the target file (None: no extract).
        con: an open warehouse connection whose ``reporting`` views are up to date.
        run_id: the pipeline run, recorded in ``meta``.
        period: the report period asked for, recorded in ``meta`` (None: the default period).
        guard: the final privacy scan the report stage passes (``pipelines.privacy.scan.ExportScan``):
            it looks at every distinct text value of the new file before it is published; on a
            finding the new file is dropped and the old extract removed too (it may hold the same
            text), the guard records why, and ``[]`` is returned (the stage then fails).

    Raises:
        ExtractError: when a reporting view exposes raw text or the file cannot be written.
    """
    return start_extract(settings, con, run_id, period).finish(guard)


def start_extract(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    period: PeriodRequest | None = None,
) -> PendingExtract:
    """Start building the extract in a worker thread; :meth:`PendingExtract.finish` checks and publishes it.

    The report stage writes its pages meanwhile: the copy is DuckDB's work on its own cursor and
    the pages are mostly Python, so on two cores the two overlap (``write_extract`` is both in one).
    Nothing is raised here: a view exposing raw text, or a failed copy, is raised by ``finish``.
    """
    target = settings.reporting_extract
    if target is None:
        return PendingExtract(None, None, None)
    started = time.perf_counter()
    columns = reporting_columns(settings, con)
    leaking = sorted({f"reporting.{v}.{c}" for v, cols in columns.items() for c in cols if c in UNREDACTED_COLUMNS})
    if leaking:
        error = ExtractError(f"reporting views expose unredacted text columns {leaking}: no extract written")
        return PendingExtract(settings, target, None, error=error)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    cursor = warehouse.cursor(con)
    pool = ThreadPoolExecutor(1, thread_name_prefix="reporting-extract")
    try:
        future = pool.submit(_build, settings, cursor, temp, sorted(columns), run_id, period)
    finally:
        pool.shutdown(wait=False)
    return PendingExtract(settings, target, temp, future=future, cursor=cursor, started=started)


class PendingExtract:
    """An extract being copied in a worker thread (:func:`start_extract`): finish it, or cancel it."""

    def __init__(
        self,
        settings: Settings | None,
        target: Path | None,
        temp: Path | None,
        future: Future[dict[str, int]] | None = None,
        cursor: duckdb.DuckDBPyConnection | None = None,
        started: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.settings, self.target, self.temp = settings, target, temp
        self._future, self._cursor, self._started, self._error = future, cursor, started, error

    def finish(self, guard: ExportGuard | None = None) -> list[Path]:
        """Wait for the copy, let ``guard`` scan it, publish it; ``[path]``, or ``[]`` when off or blocked.

        Raises:
            ExtractError: when a reporting view exposes raw text or the file cannot be written.
        """
        if self._error is not None:
            raise self._error
        if self.target is None or self.temp is None or self._future is None or self.settings is None:
            return []
        target, temp = self.target, self.temp
        try:
            rows = self._future.result()
            _check(self.settings, temp, target, guard)
            _publish(temp, target)
        except ExportBlocked:
            _unlink(temp)
            log.error("reporting extract %s not written: the privacy scan found identifiers in it", target)
            return []
        except (duckdb.Error, OSError, warehouse.WarehouseError) as exc:
            full = _disk_full(exc, target.parent)  # before the unfinished file is removed
            _unlink(temp)
            if full:
                raise warehouse.explain_disk_full(target, exc) from exc
            raise ExtractError(f"cannot write the reporting extract {target}: {exc}") from exc
        except BaseException:
            _unlink(temp)
            raise
        finally:
            self._close()
        log.info(
            "reporting extract %s: %d tables, %d rows, %.1f MB in %.1f s",
            target,
            len(rows),
            sum(rows.values()),
            target.stat().st_size / 1e6,
            time.perf_counter() - self._started,
        )
        return [target]

    def cancel(self) -> None:
        """Stop the copy (the stage failed before finishing it), wait for the thread, drop the file."""
        if self._future is None:
            return
        if self._cursor is not None:
            with contextlib.suppress(duckdb.Error, RuntimeError):
                self._cursor.interrupt()
        with contextlib.suppress(Exception):  # the copy's own error (or its interruption): the stage's is raised
            self._future.result()
        if self.temp is not None:
            _unlink(self.temp)
        self._close()

    def _close(self) -> None:
        if self._cursor is not None:
            with contextlib.suppress(duckdb.Error):
                self._cursor.close()
            self._cursor = None


# Free bytes below which a failed write is put down to a full disk. DuckDB does not always say
# so itself: on a full tmpfs a table created from Parquet was simply missing afterwards.
_NEARLY_FULL = 4 * 1024 * 1024


def _disk_full(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` (or what caused it) came from a full disk under ``folder``."""
    if warehouse.explain(exc, folder) is not exc or (isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS):
        return True
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL
    except OSError:
        return False


def reporting_columns(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Column names of every ``reporting`` view of the warehouse, by view name."""
    out: dict[str, list[str]] = {}
    for view, column in warehouse.run_sql(con, settings, COLUMNS_QUERY).fetchall():
        out.setdefault(view, []).append(column)
    return out


def _build(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    views: list[str],
    run_id: str,
    period: PeriodRequest | None,
) -> dict[str, int]:
    """Write the views and the meta tables into a new DuckDB file at ``path``; rows per table."""
    rows: dict[str, int] = {}
    with (
        tempfile.TemporaryDirectory(prefix=".reporting-extract-", dir=path.parent) as folder,
        warehouse.connect_file(path) as ext,
    ):
        for view in views:
            parquet = Path(folder) / f"{view}.parquet"
            con.sql(warehouse.sql_text(settings, READ_QUERY), params={"relation": f"reporting.{view}"}).to_parquet(
                str(parquet)
            )
            ext.read_parquet(str(parquet)).create(view)
            parquet.unlink()
            rows[view] = _count(ext, settings, view)
        tables = pd.DataFrame({"table_name": list(rows), "rows": list(rows.values())})
        with warehouse.registered(ext, extract_tables=tables):
            warehouse.run_sql(ext, settings, "queries/report/extract_tables")
            warehouse.run_sql(
                ext,
                settings,
                "queries/report/extract_meta",
                {
                    "run_id": run_id,
                    "created_at": datetime.now(UTC),
                    "report_period": _period_key(period),
                    "source_warehouse": settings.warehouse.name,
                    "pipelines_version": __version__,
                    "git_sha": provenance.git_sha(settings.home),
                    "duckdb_version": duckdb.__version__,
                },
            )
        warehouse.run_sql(ext, settings, "queries/report/extract_checkpoint")
    return rows


def _check(settings: Settings, temp: Path, target: Path, guard: ExportGuard | None) -> None:
    """Let ``guard`` look at every distinct text value of the new extract, table by table (as ``target``).

    DuckDB lists each text column's distinct strings (and those inside lists of strings); only a
    column of another type with text inside (a struct, a map) is read into Python. Reading every
    table into pandas and walking its cells cost ~5 s of each report run at 100k records.

    Raises:
        ExportBlocked: on a finding; ``target`` (the previous extract) is removed as well.
    """
    if guard is None:
        return
    cells: dict[str, list[str]] = {}
    with warehouse.connect_file(temp) as ext:
        for table, column, kind in warehouse.run_sql(ext, settings, TEXT_COLUMNS_QUERY).fetchall():
            params = {"relation": table, "column": column}
            if kind in _DISTINCT_QUERIES:
                texts = [r[0] for r in warehouse.run_sql(ext, settings, _DISTINCT_QUERIES[kind], params).fetchall()]
            else:
                values = warehouse.run_sql(ext, settings, COLUMN_QUERY, params).fetchall()
                texts = list(dict.fromkeys(t for (value,) in values for t in _strings(value) if t))
            if texts:
                cells[f"{table}.{column}"] = texts
    withhold(target, guard, cells)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside ``value``: itself, or the items of lists and the keys and values of structs and maps.

    Not ``exports.text_cells``: that walker names a text by the keys above it (a page's template
    context), while in a table cell a map's keys are data and are scanned like its values.
    """
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _count(ext: duckdb.DuckDBPyConnection, settings: Settings, relation: str) -> int:
    return int(warehouse.run_sql(ext, settings, "queries/pipeline/count_rows", {"relation": relation}).fetchone()[0])


def _period_key(period: PeriodRequest | None) -> str | None:
    if isinstance(period, Period):
        return period.key
    if isinstance(period, Rolling):
        return f"last-{period.months}-months"
    return None


def _publish(temp: Path, target: Path) -> None:
    """Make ``temp`` durable and read-only, then rename it over ``target`` in one step."""
    wal = temp.with_name(temp.name + ".wal")
    if wal.exists():  # checkpointed and closed: DuckDB leaves no WAL unless something went wrong
        raise ExtractError(f"{wal} is left after closing the extract: not publishing a file that needs it")
    with temp.open("rb") as handle:
        os.fsync(handle.fileno())
    temp.chmod(0o444)
    os.replace(temp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_stale(target: Path) -> None:
    """Temporary files of an earlier run that died mid-write (one writer at a time holds the run lock)."""
    for stale in target.parent.glob(f".{target.name}.*.tmp*"):
        log.warning("removing %s, left by an interrupted reporting extract", stale)
        _unlink(stale)


def _unlink(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
