"""The DuckDB warehouse: connection, layered SQL models and named queries.

All SQL lives in ``sql/``: ``schema/`` creates the tables the library writes (idempotent),
``staging/ -> intermediate/ -> marts/ -> reporting/`` are models (one statement per file,
``create or replace``) rebuilt in dependency order, and ``queries/<stage>/`` holds the named
statements each stage executes (``run_sql(con, settings, "queries/ingest/upsert_feedback")``),
so a query's owner shows in its path. No SQL is built in Python (one exception: the name of a
marts model, checked against its file name, fills the identifier of the publish templates).

**Published marts.** Stages refresh the models as they go (insights read ``marts`` mid-run), but
the ``reporting`` views read ``published.<mart>``: a copy of each mart table made by
:func:`publish` in one transaction when a run is complete (the report stage, a theme review
import, :func:`build_models`). A reader, or a run killed half way, sees every reporting view as
of the last complete run, never a half-finished pipeline (comments loaded but not yet scored).

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Settings
from pipelines.provenance import sha256_parts

log = logging.getLogger(__name__)

LAYERS: tuple[str, ...] = ("staging", "intermediate", "marts", "reporting")
# How long a run waits for another run to release the warehouse before it gives up (seconds).
LOCK_TIMEOUT_SECONDS = 1800.0
_REF = re.compile(r"\b(staging|intermediate|marts|reporting|published)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
# The published copy of a mart (``published.x``) is, for the model graph, that mart (``marts.x``).
PUBLISHED = "published"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_ALIAS = "wh"
# Base tables (written by the library, not models) a model reads: its data inputs.
_BASE_REF = re.compile(r"\b(raw|enrich|ops)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
_CREATES = re.compile(r"create\s+table\s+if\s+not\s+exists\s+([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)", re.IGNORECASE)
_KIND = re.compile(r"create\s+or\s+replace\s+(table|view)\s", re.IGNORECASE)
# What DuckDB's IO errors say when a write fails for want of space (ENOSPC, EFBIG, EDQUOT).
_DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded")


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
            or another process holds the write lock; or if the disk fills while it is open.
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
    except duckdb.Error as exc:  # an IO error, or a commit that failed on one
        explained = explain(exc, path)
        if explained is exc:
            raise
        raise explained from exc
    finally:
        con.close()


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to ``con``'s database, for another thread; the caller closes it.

    A DuckDB connection must not be shared between threads; its cursors may run at the same time.
    An encrypted warehouse is an attached catalog, which a new cursor must be pointed at as well.
    """
    cur = con.cursor()
    if con.execute("select current_database()").fetchone()[0] == _ALIAS:
        cur.execute(f"USE {_ALIAS}")
    return cur


def explain(exc: BaseException, path: Path) -> BaseException:
    """A full disk under the warehouse at ``path`` as a clear WarehouseError; any other error as it is."""
    if not isinstance(exc, duckdb.Error) or not any(s in str(exc) for s in _DISK_FULL):
        return exc
    return explain_disk_full(path, exc)


def explain_disk_full(path: Path, exc: BaseException) -> WarehouseError:
    """The clear error for a write to ``path`` that failed on a full disk (``exc``: what was raised)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return WarehouseError(
        f"the disk holding {path} is full ({first}). What was committed is kept and the unfinished "
        "transaction was rolled back: free some space and run again."
    )


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


@dataclass(frozen=True)
class Model:
    """One SQL model: ``name`` is ``layer.stem``; it reads other models and base tables."""

    name: str
    path: Path
    kind: str  # "table" (materialised: rebuilt when its data changes) or "view" (live)
    text: str
    deps: tuple[str, ...]  # models it reads
    tables: tuple[str, ...]  # base tables (raw, enrich, ops) it reads directly


@dataclass(frozen=True)
class ModelBuild:
    """What :func:`refresh_models` did: every model in dependency order, and those it (re)built."""

    models: list[str]
    built: list[str]
    seconds: float


def models(settings: Settings) -> list[Model]:
    """Models of all layers in dependency order (layer order, then references)."""
    files = {
        f"{p.parent.name}.{p.stem}": p for layer in LAYERS for p in sorted((settings.sql_dir / layer).glob("*.sql"))
    }
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files.values())
    return list(_parsed_models(stamp))


@cache
def _parsed_models(stamp: tuple[tuple[str, int, int], ...]) -> tuple[Model, ...]:
    """The models of these files (path, mtime, size): parsed once per process while unchanged."""
    files = {f"{Path(p).parent.name}.{Path(p).stem}": Path(p) for p, _, _ in stamp}
    texts = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise WarehouseError(f"circular reference between models: {' -> '.join((*chain, name))}")
        state[name] = "visiting"
        for dep in _model_refs(texts[name], name, files):
            visit(dep, (*chain, name))
        state[name] = "done"
        order.append(name)

    for name in sorted(files, key=lambda n: (LAYERS.index(n.split(".")[0]), n)):
        visit(name, ())
    out = []
    for name in order:
        text = texts[name]
        kind = _KIND.search(text)
        tables = sorted({f"{s.lower()}.{t.lower()}" for s, t in _BASE_REF.findall(text)})
        out.append(
            Model(
                name,
                files[name],
                kind.group(1).lower() if kind else "view",
                text,
                tuple(_model_refs(text, name, files)),
                tuple(tables),
            )
        )
    return tuple(out)


def _model_refs(text: str, name: str, files: Mapping[str, Path]) -> list[str]:
    refs = {
        f"{'marts' if layer.lower() == PUBLISHED else layer.lower()}.{model.lower()}"
        for layer, model in _REF.findall(text)
    }
    return sorted(r for r in refs if r != name and r in files)


def model_files(settings: Settings) -> list[Path]:
    """Model files of all layers in dependency order (layer order, then references)."""
    return [m.path for m in models(settings)]


def model_inputs(settings: Settings, layers: tuple[str, ...] = LAYERS) -> list[str]:
    """Base tables (raw, enrich, ops) the models of ``layers`` read, directly or through other models."""
    ordered = models(settings)
    tables = {t for m in ordered if m.name.split(".")[0] in layers for t in model_inputs_of(m.name, ordered)}
    return sorted(tables)


def definition_keys(settings: Settings) -> dict[str, str]:
    """sha256 per model of its text and, recursively, the definitions of the models it reads.

    A model whose key is unchanged has the same SQL all the way down: a view need not be
    recreated, and a table only when its data changed.
    """
    keys: dict[str, str] = {}
    for m in models(settings):  # dependency order: a model's deps have their keys already
        keys[m.name] = sha256_parts([m.text, *(f"{d}={keys[d]}" for d in m.deps)])
    return keys


def table_fingerprints(con: duckdb.DuckDBPyConnection, settings: Settings, tables: list[str]) -> dict[str, str]:
    """Content fingerprint per table (``count:hashsum``); ``missing`` for a table that does not exist.

    A cheap full-content watermark: one vectorised scan per table, no ordering.
    """
    out: dict[str, str] = {}
    for table in tables:
        try:
            n, h = run_sql(con, settings, "queries/pipeline/table_fingerprint", {"relation": table}).fetchone()
        except duckdb.CatalogException:
            out[table] = "missing"
            continue
        out[table] = f"{n}:{h}"
    return out


def _applied(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, tuple[str, str | None]]:
    """The (sha256, inputs_sha256) recorded per SQL file applied to this warehouse."""
    run_script(con, settings, "queries/pipeline/ensure_migrations")
    rows = run_sql(con, settings, "queries/pipeline/applied_migrations").fetchall()
    return {name: (sha, inputs) for name, sha, inputs in rows}


def _existing(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, str]:
    """'schema.name' -> 'table' | 'view' for every relation in the warehouse."""
    return dict(run_sql(con, settings, "queries/pipeline/existing_relations").fetchall())


def _record(
    con: duckdb.DuckDBPyConnection, settings: Settings, name: str, kind: str, sha: str, inputs: str | None = None
) -> None:
    params = {"name": name, "kind": kind, "sha256": sha, "inputs_sha256": inputs, "applied_at": datetime.now(UTC)}
    run_sql(con, settings, "queries/pipeline/record_migration", params)


def apply_schema(con: duckdb.DuckDBPyConnection, settings: Settings, force: bool = False) -> list[str]:
    """Create schemas and library-written tables; returns the schema files that ran.

    Every file is idempotent (``create ... if not exists``, ``add column if not exists``). A file
    runs when its content differs from the one recorded in ``ops.schema_migrations`` (or it was
    never applied); all of them run when a table one of them creates is missing (``force``: always).
    """
    applied = _applied(con, settings)
    paths = sorted((settings.sql_dir / "schema").glob("*.sql"))
    texts = {f"schema/{p.stem}": sql_text(settings, f"schema/{p.stem}") for p in paths}
    existing = _existing(con, settings)
    created = {f"{s.lower()}.{t.lower()}" for text in texts.values() for s, t in _CREATES.findall(text)}
    everything = force or any(name not in existing for name in created)
    ran = []
    for name, text in texts.items():
        sha = sha256_parts([text])
        if not everything and applied.get(name, (None, None))[0] == sha:
            continue
        run_script(con, settings, name)
        _record(con, settings, name, "schema", sha)
        ran.append(name)
    if ran:
        log.info("schema applied: %s", ", ".join(ran))
    return ran


def build_models(
    con: duckdb.DuckDBPyConnection, settings: Settings, force: bool = False, publish_marts: bool = True
) -> list[str]:
    """Bring every staging/intermediate/marts/reporting model up to date and publish; returns all their names.

    Only what changed is rebuilt (see :func:`refresh_models`); ``force`` rebuilds everything.
    The marts are then published (:func:`publish`) unless ``publish_marts`` is False: callers
    that report on the warehouse as it is (a report command, a sample warehouse) publish.
    """
    names = refresh_models(con, settings, force=force).models
    if publish_marts:
        publish(con, settings)
    return names


def publish(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[str]:
    """Copy every mart whose data or definition changed since it was last published; returns their names.

    One transaction: the reporting views move from one complete state to the next at once. A
    mart is copied when its (definition, data) keys recorded by :func:`refresh_models` differ
    from those recorded for its published copy, so a run that changed nothing copies nothing.
    Call it only when the marts describe a complete run (every stage done).
    """
    started = time.perf_counter()
    copied = []
    with transaction(con):
        applied = _applied(con, settings)
        existing = _existing(con, settings)
        for m in _mart_tables(settings):
            stem = m.name.split(".", 1)[1]
            keys = applied.get(f"marts/{stem}")
            if keys is None or (applied.get(f"{PUBLISHED}/{stem}") == keys and f"{PUBLISHED}.{stem}" in existing):
                continue
            _publish_template(con, settings, "publish_mart", stem)
            _record(con, settings, f"{PUBLISHED}/{stem}", PUBLISHED, keys[0], keys[1])
            copied.append(m.name)
    if copied:
        log.info("published %d marts in %.2f s", len(copied), time.perf_counter() - started)
    return copied


def _mart_tables(settings: Settings) -> list[Model]:
    return [m for m in models(settings) if m.name.startswith("marts.") and m.kind == "table"]


def _publish_template(con: duckdb.DuckDBPyConnection, settings: Settings, template: str, stem: str) -> None:
    """Run a publish template for the mart ``stem`` (a checked model name fills its identifier)."""
    if not _IDENTIFIER.fullmatch(stem):
        raise WarehouseError(f"not a mart name: {stem!r}")
    con.execute(sql_text(settings, f"queries/pipeline/{template}").replace("{mart}", stem))


def _shape_published(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Give every mart a published copy with the mart's columns, before the reporting views are made.

    A missing copy, or one whose columns no longer match its mart (new code), is created empty:
    it fills at the next :func:`publish`, so what the reporting views show is still never a
    half-finished run.
    """
    shapes: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in run_sql(con, settings, "queries/pipeline/published_shapes").fetchall():
        shapes.setdefault(f"{schema}.{table}", []).append((column, dtype))
    for m in _mart_tables(settings):
        stem = m.name.split(".", 1)[1]
        if shapes.get(f"{PUBLISHED}.{stem}") == shapes.get(m.name):
            continue
        _publish_template(con, settings, "publish_mart_empty", stem)
        run_sql(con, settings, "queries/pipeline/forget_migration", {"name": f"{PUBLISHED}/{stem}"})


def refresh_models(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    force: bool = False,
    marts: Iterable[str] | None = None,
) -> ModelBuild:
    """(Re)build the models that are not current, in dependency order.

    A view is (re)created when it is missing or its definition key (:func:`definition_keys`:
    its SQL and that of every model it reads) changed: views are live, so new data needs no
    rebuild. A table is rebuilt when it is missing, its definition key changed, or the data it
    is built from changed: the content fingerprints (:func:`table_fingerprints`) of the base
    tables it reads, directly and through the models it reads, and the data keys of those
    models. Both keys are recorded in ``ops.schema_migrations``.

    ``marts`` limits the rebuilds for new data to those tables and the tables they read (``()``:
    none). Missing tables and tables whose SQL changed are still built, so every view can be
    made; the others keep their rows, and their recorded keys, until a refresh that covers
    them. The stages before the report pass ``()`` or what they read themselves: the marts are
    read by the report, which refreshes everything, so a run rebuilds each mart once, not after
    every stage. ``force`` rebuilds every model whatever ``marts`` says.

    The whole refresh is one transaction: a reader, or a process killed mid-rebuild, sees every
    model as it was before or every model rebuilt, never some marts new and others old.

    Raises:
        WarehouseError: naming the model whose SQL failed (nothing of this refresh is kept).
    """
    started = time.perf_counter()
    wanted = None if marts is None or force else frozenset(marts)
    with transaction(con):  # all or nothing: see the docstring
        built, ordered = _refresh(con, settings, force, wanted)
    seconds = time.perf_counter() - started
    log.info("models: %d of %d rebuilt in %.2f s", len(built), len(ordered), seconds)
    return ModelBuild([m.name for m in ordered], built, seconds)


def _refresh(
    con: duckdb.DuckDBPyConnection, settings: Settings, force: bool, wanted: frozenset[str] | None = None
) -> tuple[list[str], list[Model]]:
    apply_schema(con, settings)
    run_sql(
        con, settings, "queries/pipeline/set_settings", {"min_cell": settings.min_cell, "timezone": settings.timezone}
    )
    ordered = models(settings)
    applied = {} if force else _applied(con, settings)
    existing = _existing(con, settings)
    defs = definition_keys(settings)
    tables = [m for m in ordered if m.kind == "table"]
    if wanted is not None:
        unknown = sorted(wanted - {m.name for m in tables})
        if unknown:
            raise WarehouseError(f"not table models: {', '.join(unknown)}")
        covered = _with_model_deps(wanted, ordered)
        # Outside ``wanted``: only what a view cannot do without (missing, or new SQL).
        tables = [
            m
            for m in tables
            if m.name in covered
            or existing.get(m.name) != "table"
            or applied.get(f"{m.path.parent.name}/{m.path.stem}", (None,))[0] != defs[m.name]
        ]
    refreshed = {m.name for m in tables}
    needed = {t for m in tables for t in model_inputs_of(m.name, ordered)}
    prints = table_fingerprints(con, settings, sorted(needed))
    data: dict[str, str] = {}
    built = []
    shaped = False
    for m in ordered:
        if not shaped and m.name.startswith("reporting."):
            _shape_published(con, settings)  # the marts are current: the views need their copies' columns
            shaped = True
        data[m.name] = sha256_parts(
            [defs[m.name], *(f"{t}={prints.get(t, '')}" for t in m.tables), *(f"{d}={data[d]}" for d in m.deps)]
        )
        if m.kind == "table" and m.name not in refreshed:
            continue  # data-only changes wait for a refresh that covers this table (see refresh_models)
        file = f"{m.path.parent.name}/{m.path.stem}"
        recorded = applied.get(file, (None, None))
        inputs = data[m.name] if m.kind == "table" else None
        current = existing.get(m.name) == m.kind and recorded == (defs[m.name], inputs)
        if current:
            continue
        try:
            _execute_model(con, m)
        except duckdb.Error as exc:
            raise WarehouseError(f"model {file} failed: {exc}") from exc
        _record(con, settings, file, m.kind, defs[m.name], inputs)
        built.append(m.name)
    return built, ordered


def _execute_model(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    con.execute(model.text)  # the text its key was computed from (sql_text caches per process)


def _with_model_deps(names: Iterable[str], ordered: list[Model]) -> set[str]:
    """``names`` and every model they read, directly or through other models."""
    by_name = {m.name: m for m in ordered}
    out: set[str] = set()
    todo = list(names)
    while todo:
        current = todo.pop()
        if current not in out:
            out.add(current)
            todo.extend(by_name[current].deps)
    return out


def model_inputs_of(name: str, ordered: list[Model]) -> list[str]:
    """Base tables one model reads, directly or through the models it reads."""
    by_name = {m.name: m for m in ordered}
    return sorted({t for current in _with_model_deps([name], ordered) for t in by_name[current].tables})


def init(settings: Settings, force: bool = False, publish_marts: bool = True) -> list[str]:
    """Create or upgrade the warehouse file: schema plus all models (``force``: rebuild all).

    The marts are published too unless ``publish_marts`` is False (a step inside a run, such
    as the ingest DAG's model build: its reporting views move when the run completes).
    """
    with connect(settings) as con:
        if force:
            apply_schema(con, settings, force=True)
        return build_models(con, settings, force=force, publish_marts=publish_marts)


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
