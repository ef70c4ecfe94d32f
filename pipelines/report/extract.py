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
2. the file is checkpointed, closed, fsynced and made read-only (mode 0444);
3. it is renamed over the old extract (``os.replace``, atomic on POSIX): a reader sees the old
   file or the new one, never half of one. A BI tool that has the old file open keeps reading
   the old file (its inode) until it reconnects, and does not stop the swap.

Raw, enrich, staging, intermediate and marts tables are never copied: the only input is
:data:`READ_QUERY` over the views listed by :data:`COLUMNS_QUERY`. A view exposing a column
named like raw text (:data:`UNREDACTED_COLUMNS`) stops the extract before anything is written.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines import __version__, provenance, warehouse
from pipelines.config import Settings
from pipelines.exports import ExportBlocked, ExportGuard, withhold
from pipelines.periods import Period, PeriodRequest, Rolling

log = logging.getLogger(__name__)

COLUMNS_QUERY = "queries/report/extract_columns"
READ_QUERY = "queries/report/extract_read"
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
    target = settings.reporting_extract
    if target is None:
        return []
    started = time.perf_counter()
    columns = reporting_columns(settings, con)
    leaking = sorted({f"reporting.{v}.{c}" for v, cols in columns.items() for c in cols if c in UNREDACTED_COLUMNS})
    if leaking:
        raise ExtractError(f"reporting views expose unredacted text columns {leaking}: no extract written")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        rows = _build(settings, con, temp, sorted(columns), run_id, period)
        _check(settings, temp, target, guard)
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
    log.info(
        "reporting extract %s: %d tables, %d rows, %.1f MB in %.1f s",
        target,
        len(rows),
        sum(rows.values()),
        target.stat().st_size / 1e6,
        time.perf_counter() - started,
    )
    return [target]


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

    Raises:
        ExportBlocked: on a finding; ``target`` (the previous extract) is removed as well.
    """
    if guard is None:
        return
    cells: dict[str, list[str]] = {}
    with warehouse.connect_file(temp) as ext:
        for (table,) in warehouse.run_sql(ext, settings, "queries/report/extract_list").fetchall():
            frame = warehouse.run_sql(ext, settings, READ_QUERY, {"relation": table}).df()
            for column in frame.columns:
                texts = _distinct_texts(frame[column])
                if texts:
                    cells[f"{table}.{column}"] = texts
    withhold(target, guard, cells)


def _distinct_texts(values: pd.Series) -> list[str]:
    """The distinct strings of a column, including those inside list values (theme labels, quotes).

    In order of first appearance. Numbers, booleans and times hold no text and are not looked
    at; a string column is deduplicated by pandas: a Python loop over every cell of the KPI and
    theme-window tables (100k+ rows) cost seconds of every report run.
    """
    dtype = values.dtype
    if (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    ):
        return []
    if isinstance(dtype, pd.StringDtype):
        return [str(v) for v in values.dropna().unique()]
    out: dict[str, None] = {}
    for value in values:
        items = value if isinstance(value, list | tuple | np.ndarray) else [value]
        out.update(dict.fromkeys(v for v in items if isinstance(v, str)))
    return list(out)


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
