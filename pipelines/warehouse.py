"""The DuckDB warehouse: connection, layered SQL models and named queries.

All SQL lives in ``sql/``: ``schema/`` creates the tables the library writes (idempotent),
``staging/ -> intermediate/ -> marts/ -> reporting/`` are models (one statement per file,
``create or replace``) rebuilt in dependency order, and ``queries/<stage>/`` holds the named
statements each stage executes (``run_sql(con, settings, "queries/ingest/upsert_feedback")``),
so a query's owner shows in its path. No SQL is built in Python.

One process writes the file at a time (DuckDB takes a file lock); the Airflow DAGs serialise
writing tasks, and readers open with ``read_only=True``. A whole run or stage also holds
:func:`run_lock`, an advisory lock on ``<warehouse>.lock``, for its whole length: DuckDB's own
lock is taken and released per connection, so without it two runs interleave their stages and
one of them fails at the first connection the other holds.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings

log = logging.getLogger(__name__)

LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts", "reporting")
# How long a run waits for another run to release the warehouse before it gives up (seconds).
LOCK_TIMEOUT_SECONDS = 1800.0
_REF = re.compile(r"\b(staging|intermediate|marts|reporting)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
_ALIAS = "wh"


class WarehouseError(RuntimeError):
    """A warehouse cannot be opened or a model cannot be built."""


class WarehouseBusy(WarehouseError):
    """Another run held the warehouse for longer than this run would wait."""


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


def lock_path(settings: Settings) -> Path:
    """The advisory lock file beside the warehouse (``<warehouse>.lock``)."""
    return settings.warehouse.with_name(settings.warehouse.name + ".lock")


# Locks this process holds: lock path -> [file descriptor, depth]. A run holds the lock and its
# stages take it again; flock on a second descriptor of the same file would wait for ourselves.
_HELD: dict[str, list[int]] = {}


@contextmanager
def run_lock(
    settings: Settings, timeout: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse for one run or stage; wait while another process holds it.

    The lock is ``fcntl.flock`` on :func:`lock_path`, so the kernel releases it when its holder
    dies (even by ``kill -9``): a stale lock cannot outlive its run. Re-entrant within a process.

    Args:
        settings: whose warehouse to lock.
        timeout: seconds to wait for another run (default :data:`LOCK_TIMEOUT_SECONDS`; 0 = do not wait).
        on_wait: told once, in words, whom we wait for (default: a log warning).

    Raises:
        WarehouseBusy: when the other run still holds the warehouse after ``timeout`` seconds.
    """
    path = lock_path(settings)
    key = str(path)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, settings, LOCK_TIMEOUT_SECONDS if timeout is None else timeout, on_wait)
    except BaseException:
        os.close(fd)
        raise
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        del _HELD[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _acquire(fd: int, settings: Settings, timeout: float, on_wait: Callable[[str], None] | None) -> None:
    """Take the lock on ``fd`` within ``timeout`` seconds, then write who holds it into the file."""
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"another run ({holder}) holds the warehouse {settings.warehouse}; gave up after waiting "
                    f"{timeout:.0f} s. Try again when it has finished, or wait longer (feedback run --wait SECONDS)."
                ) from None
            if not told:
                message = f"waiting for the warehouse held by another run ({holder}); giving up after {timeout:.0f} s"
                (on_wait or log.warning)(message)
                told = True
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%H:%M:%S')}".encode(), 0)


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it ("pid 123 on host, since 10:02:03")."""
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"


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


@contextmanager
def connect_file(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (creating) a plain DuckDB file that is not the warehouse: the PHI-free reporting extract.

    Never encrypted, since it is built to hold nothing that needs it (docs/bi.md); closed on the way out.

    Raises:
        WarehouseError: when the file cannot be opened.
    """
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {path}: {exc}") from exc
    try:
        yield con
    finally:
        con.close()
