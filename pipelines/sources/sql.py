"""Pull a source from a SQL database through SQLAlchemy, incrementally by a watermark column.

The connection URL is read from the environment variable the YAML names (``url_env``), so no
credential ever sits in a config file, a log line or a batch record. Rows come either from a
``table`` (reflected; ``schema.table`` allowed) or from a named ``query`` file; with a
``watermark_column`` only rows with ``watermark_column >= <last watermark>`` are pulled (the
boundary rows are re-read and counted as duplicates, so a row committed late with the same
timestamp is never missed). A query file receives the watermark as ``:watermark`` (``NULL`` on
the first pull), e.g.::

    select * from complaints where :watermark is null or updated_at >= :watermark order by updated_at

The new watermark is the largest value pulled; ``pipelines.ingest.load`` stores it in
``raw.source_state`` in the same transaction as the rows, so a failed load pulls them again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.provenance import sha256_parts
from pipelines.sources.files import clean_frame
from pipelines.sources.types import SourceConfig, SourceError, SourceRows


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
) -> SqlPull:
    """Read the rows of a SQL source changed since ``watermark``.

    Raises:
        SourceError: when the URL variable is unset, the database cannot be reached, the
            table/column/query does not exist (the message never contains the URL).
    """
    keys, data = _fetch(config, watermark, watermark_type, os.environ if env is None else env)
    new_mark, kind = _new_watermark(config, keys, data, watermark, watermark_type)
    text_rows = [[_text(v) for v in r] for r in data]
    frame = (
        pd.DataFrame(text_rows, columns=keys, dtype="string")
        if text_rows
        else pd.DataFrame(columns=keys, dtype="string")
    )
    frame["_row_number"] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    what = config.table or Path(config.query or "").name
    where = f" where {config.watermark_column} >= {watermark}" if config.watermark_column and watermark else ""
    checksum = sha256_parts([json.dumps(keys)] + [json.dumps(r, ensure_ascii=False) for r in text_rows])
    removed = clean_frame(frame)
    notes = [f"{what}: {removed} control character(s) such as NUL removed from the text"] if removed else []
    return SqlPull(SourceRows(frame, notes=notes), new_mark, kind, f"sql:{what}{where}", checksum)


def _fetch(
    config: SourceConfig, watermark: str | None, watermark_type: str | None, env: Mapping[str, str]
) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of the source's table or query since ``watermark``; database errors become SourceErrors."""
    url = env.get(config.url_env or "")
    if not url:
        raise SourceError(f"source {config.name}: environment variable {config.url_env} (the database URL) is not set")
    import sqlalchemy as sa  # lazy: only SQL sources need it

    since = decode_watermark(watermark, watermark_type)
    try:
        engine = sa.create_engine(url)
    except Exception as exc:  # bad URL / missing driver: never echo the URL itself
        kind = type(exc).__name__
        raise SourceError(f"source {config.name}: cannot use the URL in {config.url_env}: {kind}") from exc
    try:
        with engine.connect() as conn:
            result = _select_table(config, conn, since) if config.table else _run_query_file(config, conn, since)
            return list(map(str, result.keys())), [tuple(r) for r in result.fetchall()]
    except sa.exc.NoSuchTableError as exc:
        raise SourceError(f"source {config.name}: no table {config.table!r} in the database") from exc
    except sa.exc.SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
        raise SourceError(f"source {config.name}: database error: {detail}") from exc
    finally:
        engine.dispose()


def _select_table(config: SourceConfig, conn: Any, since: Any) -> Any:
    """``select * from <table> [where <watermark_column> >= since] [order by <watermark_column>]``, reflected."""
    import sqlalchemy as sa

    schema, _, name = (config.table or "").rpartition(".")
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    stmt = sa.select(table)
    if config.watermark_column:
        if config.watermark_column not in table.c:
            raise SourceError(f"source {config.name}: table {config.table} has no column {config.watermark_column!r}")
        column = table.c[config.watermark_column]
        if since is not None:
            stmt = stmt.where(column >= since)
        stmt = stmt.order_by(column)
    return conn.execute(stmt)


def _run_query_file(config: SourceConfig, conn: Any, since: Any) -> Any:
    """The source's query file, given ``:watermark`` when it uses it."""
    import sqlalchemy as sa

    path = Path(config.query or "")
    if not path.is_file():
        raise SourceError(f"source {config.name}: query file {path} not found")
    text = path.read_text(encoding="utf-8")
    params = {"watermark": since} if ":watermark" in text else {}
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
