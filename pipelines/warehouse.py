"""The DuckDB warehouse: connection, layered SQL models and named queries.

All SQL lives in ``sql/``: ``schema/`` creates the tables the library writes (idempotent),
``staging/ -> intermediate/ -> marts/ -> reporting/`` are models (one statement per file,
``create or replace``) rebuilt in dependency order, and ``queries/<stage>/`` holds the named
statements each stage executes (``run_sql(con, settings, "queries/ingest/upsert_feedback")``),
so a query's owner shows in its path. No SQL is built in Python.

One process writes the file at a time (DuckDB takes a file lock); the Airflow DAGs serialise
writing tasks, and readers open with ``read_only=True``.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings

LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts", "reporting")
_REF = re.compile(r"\b(staging|intermediate|marts|reporting)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
_ALIAS = "wh"


class WarehouseError(RuntimeError):
    """A warehouse cannot be opened or a model cannot be built."""


def _extension_path(name: str) -> Path:
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or spec.origin is None:
        raise WarehouseError(
            f"DuckDB extension '{name}' is needed offline: pip install duckdb-extension-{name}=="
            f"{duckdb.__version__} (see pyproject.toml)"
        )
    found = sorted(Path(spec.origin).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    if not found:
        raise WarehouseError(f"package duckdb-extension-{name} ships no extension binary")
    return found[-1]


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Install and load a DuckDB extension from its PyPI package (no network)."""
    con.execute(f"INSTALL '{_extension_path(name)}'")
    con.execute(f"LOAD {name}")


@contextmanager
def connect(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its folder), encrypted when a key is configured.

    With ``settings.encryption_key`` the file is attached with AES-GCM encryption through
    OpenSSL from the ``httpfs`` extension package (not DuckDB's insecure fallback).

    Raises:
        WarehouseError: if the file is encrypted and no key (or a wrong key) is configured,
            or another process holds the write lock.
    """
    path = settings.warehouse
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if settings.encryption_key:
            con = duckdb.connect()
            load_extension(con, "httpfs")
            _attach_encrypted(con, path, settings.encryption_key, read_only)
            con.execute(f"USE {_ALIAS}")
        else:
            con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        message = str(exc)
        if "encrypted" in message.lower() and not settings.encryption_key:
            raise WarehouseError(
                f"{path} is an encrypted warehouse: set FEEDBACK_ENCRYPTION_KEY or "
                "FEEDBACK_ENCRYPTION_KEY_FILE to open it"
            ) from exc
        if "lock" in message.lower():
            raise WarehouseError(
                f"{path} is open for writing by another process (DuckDB allows one writer). "
                "Wait for the running pipeline task to finish."
            ) from exc
        raise WarehouseError(f"cannot open warehouse {path}: {message}") from exc
    try:
        yield con
    finally:
        con.close()


def _attach_encrypted(con: duckdb.DuckDBPyConnection, path: Path, key: str, read_only: bool) -> None:
    # ATTACH takes no prepared parameters; the key is quoted as a SQL literal.
    quoted = key.replace("'", "''")
    options = f"ENCRYPTION_KEY '{quoted}'" + (", READ_ONLY" if read_only else "")
    try:
        con.execute(f"ATTACH '{path}' AS {_ALIAS} ({options})")
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open encrypted warehouse {path}: wrong key? ({exc})") from exc


@cache
def _read_sql(sql_dir: str, name: str) -> str:
    path = Path(sql_dir) / f"{name}.sql"
    if not path.is_file():
        raise WarehouseError(f"no SQL file named {name!r} in {sql_dir}")
    return path.read_text(encoding="utf-8")


def sql_text(settings: Settings, name: str) -> str:
    """Text of the named SQL file, e.g. ``"queries/ingest/upsert_feedback"``."""
    return _read_sql(str(settings.sql_dir), name)


def run_sql(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    name: str,
    params: Mapping[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Execute the named SQL file with named ``$params``; returns the cursor for fetching."""
    text = sql_text(settings, name)
    if params:
        return con.execute(text, dict(params))
    return con.execute(text)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """Expose DataFrames to SQL under the given view names for the duration of the block.

    The named SQL files read them (``select * from incoming_sentiment``); the views are dropped
    on the way out, also when the block raises::

        with warehouse.registered(con, incoming_sentiment=comments, incoming_aspects=aspects):
            warehouse.run_sql(con, settings, "queries/sentiment/upsert_sentiment")
    """
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: committed when it ends, rolled back when it raises."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def run_script(con: duckdb.DuckDBPyConnection, settings: Settings, name: str) -> None:
    """Execute a named SQL file holding several statements (no parameters).

    DuckDB's own parser splits the statements, so semicolons in literals and comments are safe.
    """
    con.execute(sql_text(settings, name))


def model_files(settings: Settings) -> list[Path]:
    """Model files of all layers in dependency order (layer order, then references)."""
    files = {
        f"{p.parent.name}.{p.stem}": p for layer in LAYERS for p in sorted((settings.sql_dir / layer).glob("*.sql"))
    }
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise WarehouseError(f"circular reference between models: {' -> '.join((*chain, name))}")
        state[name] = "visiting"
        text = files[name].read_text(encoding="utf-8")
        for layer, model in _REF.findall(text):
            dep = f"{layer.lower()}.{model.lower()}"
            if dep != name and dep in files:
                visit(dep, (*chain, name))
        state[name] = "done"
        order.append(name)

    for name in sorted(files, key=lambda n: (LAYERS.index(n.split(".")[0]), n)):
        visit(name, ())
    return [files[n] for n in order]


def apply_schema(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Create schemas and library-written tables (safe to re-run)."""
    for path in sorted((settings.sql_dir / "schema").glob("*.sql")):
        run_script(con, settings, f"schema/{path.stem}")


def build_models(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """(Re)build every staging/intermediate/marts/reporting model; returns their names."""
    apply_schema(con, settings)
    run_sql(
        con, settings, "queries/pipeline/set_settings", {"min_cell": settings.min_cell, "timezone": settings.timezone}
    )
    built = []
    for path in model_files(settings):
        name = f"{path.parent.name}/{path.stem}"
        try:
            run_script(con, settings, name)
        except duckdb.Error as exc:
            raise WarehouseError(f"model {name} failed: {exc}") from exc
        built.append(f"{path.parent.name}.{path.stem}")
    return built


def init(settings: Settings) -> list[str]:
    """Create or upgrade the warehouse file: schema plus all models."""
    with connect(settings) as con:
        return build_models(con, settings)


def table_counts(settings: Settings, relations: list[str]) -> dict[str, int]:
    """Row counts of the given relations (read-only); missing relations count as -1."""
    out: dict[str, int] = {}
    with connect(settings, read_only=True) as con:
        for rel in relations:
            try:
                out[rel] = run_sql(con, settings, "queries/pipeline/count_rows", {"relation": rel}).fetchone()[0]
            except duckdb.CatalogException:
                out[rel] = -1
    return out
