"""Pull a source from a SQL database through SQLAlchemy, incrementally by a watermark column.

The connection URL comes from an Airflow connection the YAML names (``connection``; the DAG
resolves it when the task runs and passes the URL in ``Settings.source_urls``; this module never
imports Airflow) or from the environment variable the YAML names (``url_env``), so no
credential ever sits in a config file, a log line or a batch record. Rows come either from a
``table`` (reflected; ``schema.table`` allowed) or from a named ``query`` file; with a
``watermark_column`` only rows with ``watermark_column >= <last watermark>`` are pulled (the
boundary rows are re-read and counted as duplicates, so a row committed late with the same
timestamp is never missed). A query file receives the watermark as ``:watermark`` (``NULL`` on
the first pull), e.g.::

    select * from complaints where :watermark is null or updated_at >= :watermark order by updated_at

The new watermark is the largest value pulled; ``pipelines.ingest.load`` stores it in
``raw.source_state`` in the same transaction as the rows, so a failed load pulls them again.

A backfill *window* (:class:`~pipelines.periods.DateWindow`) pulls the rows dated in it instead,
whatever the watermark, and leaves the watermark where it was: a table is filtered on
``date_column`` (default: the column mapped to ``received_at``; a ``timestamptz`` column is cut at
midnight in the source's time zone), a query file receives ``:window_start`` and ``:window_end``
(dates, end included; NULL when open) and must use both, e.g.::

    select * from complaints
    where (:window_start is null or received_date >= :window_start)
      and (:window_end is null or received_date < :window_end + 1)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pandas as pd

from pipelines.periods import DateWindow
from pipelines.provenance import sha256_parts
from pipelines.sources.files import clean_frame
from pipelines.sources.presets import resolve
from pipelines.sources.types import SourceConfig, SourceError, SourceRows

# Airflow connection types -> SQLAlchemy drivers (installed: psycopg2; others need their driver).
# A connection's extra may name another: {"sqlalchemy_scheme": "postgresql+psycopg"}.
DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mssql": "mssql+pymssql",
    "oracle": "oracle+oracledb",
    "sqlite": "sqlite",
}
WINDOW_PARAMS = ("window_start", "window_end")


@dataclass
class SqlPull:
    """One incremental extract."""

    rows: SourceRows
    watermark: str | None
    watermark_type: str | None
    location: str
    checksum: str


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, datetime):
        return "timestamptz" if value.tzinfo is not None else "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, bool):
        return "text"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    return "text"


def decode_watermark(value: str | None, kind: str | None) -> Any:
    """The stored watermark as the Python value the database compares against."""
    if value is None:
        return None
    if kind in {"timestamp", "timestamptz"}:
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "integer":
        return int(value)
    if kind == "number":
        return Decimal(value)
    return value


def pull(
    config: SourceConfig,
    watermark: str | None,
    watermark_type: str | None,
    env: Mapping[str, str] | None = None,
    urls: Mapping[str, str] | None = None,
    window: DateWindow | None = None,
) -> SqlPull:
    """Read the rows of a SQL source changed since ``watermark`` (or dated in ``window``).

    Args:
        config: the source.
        watermark: the stored watermark (None on the first pull) and its kind.
        watermark_type: the watermark's kind (see :func:`decode_watermark`).
        env: where ``url_env`` is looked up (default ``os.environ``).
        urls: Airflow connection id -> URL, resolved by the DAG (``Settings.source_urls``).
        window: a backfill window: pull the rows dated in it, leave the watermark as it was.

    Raises:
        SourceError: when no URL is available, the database cannot be reached, the
            table/column/query does not exist, or the source cannot be restricted to the window
            (the message never contains the URL).
    """
    window = window if window is not None and window.bounded else None
    url, origin = _url(config, os.environ if env is None else env, urls or {})
    keys, data = _fetch(config, url, origin, None if window else decode_watermark(watermark, watermark_type), window)
    new_mark, kind = (
        (watermark, watermark_type) if window else _new_watermark(config, keys, data, watermark, watermark_type)
    )
    text_rows = [[_text(v) for v in r] for r in data]
    frame = (
        pd.DataFrame(text_rows, columns=keys, dtype="string")
        if text_rows
        else pd.DataFrame(columns=keys, dtype="string")
    )
    frame["_row_number"] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    what = config.table or Path(config.query or "").name
    if window:
        where = f" dated {window}"
    else:
        where = f" where {config.watermark_column} >= {watermark}" if config.watermark_column and watermark else ""
    checksum = sha256_parts([json.dumps(keys)] + [json.dumps(r, ensure_ascii=False) for r in text_rows])
    removed = clean_frame(frame)
    notes = [f"{what}: {removed} control character(s) such as NUL removed from the text"] if removed else []
    return SqlPull(SourceRows(frame, notes=notes), new_mark, kind, f"sql:{what}{where}", checksum)


def connection_url(
    conn_type: str,
    host: str | None = None,
    login: str | None = None,
    password: str | None = None,
    port: int | None = None,
    schema: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The SQLAlchemy URL of an Airflow connection's fields (``schema`` is the database).

    ``extra`` may hold ``sqlalchemy_scheme`` (the driver) and ``query``, a mapping of URL query
    options (``{"sslmode": "require"}``).

    Raises:
        SourceError: for a connection type with no known SQLAlchemy driver.
    """
    extra = dict(extra or {})
    scheme = extra.get("sqlalchemy_scheme") or DRIVERS.get((conn_type or "").lower())
    if not scheme:
        raise SourceError(
            f"connection type {conn_type!r} has no SQLAlchemy driver here: set 'sqlalchemy_scheme' in its extra "
            f"(known types: {sorted(DRIVERS)})"
        )
    user = quote(login or "", safe="")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    netloc = f"{auth}{host or ''}" + (f":{int(port)}" if port else "")
    options = "&".join(
        f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in (extra.get("query") or {}).items()
    )
    return f"{scheme}://{netloc}/{quote(schema or '', safe='')}" + (f"?{options}" if options else "")


def _url(config: SourceConfig, env: Mapping[str, str], urls: Mapping[str, str]) -> tuple[str, str]:
    """(URL, where it came from, for messages) of a source: its Airflow connection, else its variable."""
    if config.connection and urls.get(config.connection):
        return urls[config.connection], f"the Airflow connection {config.connection!r}"
    if config.url_env and env.get(config.url_env):
        return env[config.url_env], config.url_env
    if config.connection and config.url_env:
        raise SourceError(
            f"source {config.name}: the Airflow connection {config.connection!r} was not resolved (this is not an "
            f"Airflow task) and environment variable {config.url_env} (the database URL) is not set"
        )
    if config.connection:
        raise SourceError(
            f"source {config.name}: its URL is the Airflow connection {config.connection!r}, which only an Airflow "
            "task resolves; to run it elsewhere, add url_env (an environment variable holding the URL) to its YAML"
        )
    raise SourceError(f"source {config.name}: environment variable {config.url_env} (the database URL) is not set")


def _fetch(
    config: SourceConfig, url: str, origin: str, since: Any, window: DateWindow | None
) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of the source's table or query; database errors become SourceErrors."""
    import sqlalchemy as sa  # lazy: only SQL sources need it

    try:
        engine = sa.create_engine(url)
    except Exception as exc:  # bad URL / missing driver: never echo the URL itself
        kind = type(exc).__name__
        raise SourceError(f"source {config.name}: cannot use the URL of {origin}: {kind}") from exc
    try:
        with engine.connect() as conn:
            if config.table:
                result = _select_table(config, conn, since, window)
            else:
                result = _run_query_file(config, conn, since, window)
            return list(map(str, result.keys())), [tuple(r) for r in result.fetchall()]
    except sa.exc.NoSuchTableError as exc:
        raise SourceError(f"source {config.name}: no table {config.table!r} in the database") from exc
    except sa.exc.SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
        raise SourceError(f"source {config.name}: database error: {detail}") from exc
    finally:
        engine.dispose()


def _select_table(config: SourceConfig, conn: Any, since: Any, window: DateWindow | None) -> Any:
    """``select * from <table> [where <watermark_column> >= since | date in window] [order by <watermark_column>]``."""
    import sqlalchemy as sa

    schema, _, name = (config.table or "").rpartition(".")
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    stmt = sa.select(table)
    if window is not None:
        stmt = stmt.where(*_window_clauses(config, table, window))
    if config.watermark_column:
        if config.watermark_column not in table.c:
            raise SourceError(f"source {config.name}: table {config.table} has no column {config.watermark_column!r}")
        column = table.c[config.watermark_column]
        if since is not None:
            stmt = stmt.where(column >= since)
        stmt = stmt.order_by(column)
    return conn.execute(stmt)


def _window_clauses(config: SourceConfig, table: Any, window: DateWindow) -> list[Any]:
    """``date_column >= start`` and ``date_column < end + 1 day``, on the reflected column."""
    import sqlalchemy as sa

    column_name = config.date_column
    if not column_name:
        mapped = resolve(config).columns.get("received_at")
        if not isinstance(mapped, str):
            raise SourceError(
                f"source {config.name}: a window needs 'date_column' (the column a record is dated by) in its YAML"
            )
        column_name = mapped
    if column_name not in table.c:
        raise SourceError(f"source {config.name}: table {config.table} has no column {column_name!r} to window on")
    column = table.c[column_name]
    zoned = isinstance(column.type, sa.DateTime) and column.type.timezone
    zone = ZoneInfo(config.timezone)

    def bound(day: date) -> date | datetime:
        # A timestamptz column holds instants: cut at the source's local midnight, not the server's.
        return datetime.combine(day, time(0), tzinfo=zone) if zoned else day

    clauses = []
    if window.start is not None:
        clauses.append(column >= bound(window.start))
    if window.end_exclusive is not None:
        clauses.append(column < bound(window.end_exclusive))
    return clauses


def _run_query_file(config: SourceConfig, conn: Any, since: Any, window: DateWindow | None) -> Any:
    """The source's query file, given ``:watermark``, ``:window_start`` and ``:window_end`` when it uses them."""
    import sqlalchemy as sa

    path = Path(config.query or "")
    if not path.is_file():
        raise SourceError(f"source {config.name}: query file {path} not found")
    text = path.read_text(encoding="utf-8")
    params: dict[str, Any] = {"watermark": since} if ":watermark" in text else {}
    uses = [p for p in WINDOW_PARAMS if f":{p}" in text]
    if window is not None and len(uses) < len(WINDOW_PARAMS):
        raise SourceError(
            f"source {config.name}: query file {path.name} cannot be restricted to a window: it must use "
            ":window_start and :window_end (see docs/sources.md)"
        )
    if uses:
        params.update(window_start=window and window.start, window_end=window and window.end)
    return conn.execute(sa.text(text), params)


def _new_watermark(
    config: SourceConfig, keys: list[str], data: list[tuple], watermark: str | None, watermark_type: str | None
) -> tuple[str | None, str | None]:
    """The largest watermark value pulled and its kind (the old ones when nothing was pulled)."""
    if not config.watermark_column:
        return watermark, watermark_type
    if config.watermark_column not in keys:
        raise SourceError(f"source {config.name}: the query returns no column {config.watermark_column!r}")
    index = keys.index(config.watermark_column)
    values = [r[index] for r in data if r[index] is not None]
    if not values:
        return watermark, watermark_type
    top = max(values)
    return _text(top), _kind(top)
