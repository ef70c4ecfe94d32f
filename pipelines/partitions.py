"""Partitioned heavy work: plan into Parquet, compute each partition anywhere, load once.

The heavy steps (redaction, sentiment scoring, clause embedding) are pure functions of their
input rows. Each runs in three parts, so the compute can spread over processes or Airflow workers
while the warehouse keeps its single writer:

1. **plan** (holds the warehouse): the rows to process are split by a stable hash of their key
   into ``n`` partitions, each written to ``<warehouse dir>/partitions/<run_id>/<step>/in-NNNN.parquet``
   with :func:`plan`;
2. **compute** (no warehouse): a worker reads its input, computes, and writes its outputs with
   :func:`write_outputs`: every named frame to ``out-NNNN.<name>.parquet``, then a ``out-NNNN.done``
   marker (rows, seconds, host) written last, by rename. A partition whose marker exists is done:
   a retried or repeated task does nothing (:func:`run` skips it);
3. **load** (holds the warehouse): :func:`read_outputs` gathers every partition's frames for the
   stage's idempotent upsert, then :func:`clear` removes the folder.

The Parquet files hold patient text (redaction's input is raw). With a warehouse key
(``FEEDBACK_ENCRYPTION_KEY``) they are written with Parquet modular encryption (AES-GCM through
the ``httpfs`` extension's OpenSSL), under a key derived from the warehouse key; they live beside
the warehouse (the same volume, the same access rules) and only until their run's load.

:func:`run` computes partitions in this process (``workers=1``) or in a pool of spawned processes,
which is what ``feedback run --workers N`` does; the Airflow DAGs map one task per partition
instead (docs/scaling.md).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib
import json
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.config import Settings
from pipelines.warehouse import load_extension

__all__ = [
    "Partition",
    "PartitionError",
    "clear",
    "plan",
    "read_input",
    "read_outputs",
    "run",
    "run_folder",
    "stats",
    "sweep",
    "write_outputs",
    "write_text_atomic",
]

_KEY_NAME = "feedback_partitions"
# A run's partition folder untouched for this long belongs to a run that died (kill -9, a lost
# worker): well past every partition task's timeout and retries. The next plan removes it.
STALE_SECONDS = 6 * 3600


class PartitionError(RuntimeError):
    """A partition's input or output is missing or unreadable (a worker that did not finish)."""


@dataclass(frozen=True)
class Partition:
    """One slice of a step's rows: where its input is, where its outputs go (JSON-able for XCom)."""

    step: str
    run_id: str
    index: int
    count: int
    rows: int
    folder: str
    meta: str = "{}"  # the step's parameters as JSON (model versions, allow-list, ...)

    @property
    def input(self) -> Path:
        """The partition's input rows (``in-NNNN.parquet``)."""
        return Path(self.folder) / f"in-{self.index:04d}.parquet"

    def output(self, name: str) -> Path:
        """Where output ``name`` goes."""
        return Path(self.folder) / f"out-{self.index:04d}.{name}.parquet"

    @property
    def marker(self) -> Path:
        """The marker written last: the partition is done."""
        return Path(self.folder) / f"out-{self.index:04d}.done"

    @property
    def params(self) -> dict[str, Any]:
        """The step's parameters the planner recorded."""
        return json.loads(self.meta)

    @property
    def label(self) -> str:
        """``redact 3/8 (1,204 rows)``: how an Airflow mapped task is named."""
        return f"{self.step} {self.index + 1}/{self.count} ({self.rows:,} rows)"

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (Airflow XCom)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Partition:
        """The partition an :meth:`as_dict` describes."""
        return cls(**{k: value[k] for k in ("step", "run_id", "index", "count", "rows", "folder", "meta")})

    def is_done(self) -> bool:
        """Whether the partition's outputs are all written."""
        return self.marker.is_file()


def run_folder(settings: Settings, run_id: str) -> Path:
    """``<warehouse dir>/partitions/<run_id>``: beside the warehouse, on the same volume."""
    return settings.warehouse.parent / "partitions" / run_id


def folder(settings: Settings, run_id: str, step: str) -> Path:
    """``<warehouse dir>/partitions/<run_id>/<step>``: one step's inputs and outputs."""
    return run_folder(settings, run_id) / step


def bucket(keys: pd.Series, count: int) -> pd.Series:
    """Stable partition number of every key (blake2b of its text, mod ``count``): the same in every process."""
    return keys.astype(str).map(lambda k: int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest()) % count)


def plan(
    settings: Settings,
    run_id: str,
    step: str,
    rows: pd.DataFrame,
    key: str,
    count: int,
    params: Mapping[str, Any] | None = None,
) -> list[Partition]:
    """Split ``rows`` by the hash of column ``key`` into at most ``count`` partitions and write them.

    A step planned again in the same run replaces what an earlier plan wrote (its folder is
    emptied first). Empty partitions are not written. Returns the partitions in index order.
    """
    sweep(settings)
    target = folder(settings, run_id, step)
    shutil.rmtree(target, ignore_errors=True)
    if rows.empty:
        return []
    target.mkdir(parents=True, exist_ok=True)
    count = max(1, min(int(count), len(rows)))
    numbers = bucket(rows[key], count) if count > 1 else pd.Series(0, index=rows.index)
    meta = json.dumps(dict(params or {}), sort_keys=True, default=str)
    chunks = [rows[numbers == number] for number in range(count)]
    chunks = [c.reset_index(drop=True) for c in chunks if not c.empty]
    parts = [Partition(step, run_id, i, len(chunks), len(c), str(target), meta) for i, c in enumerate(chunks)]
    for part, chunk in zip(parts, chunks, strict=True):
        _write(settings, chunk, part.input)
    return parts


def read_input(settings: Settings, part: Partition) -> pd.DataFrame:
    """The partition's input rows.

    Raises:
        PartitionError: when the input is gone (its run was loaded and cleared, or never planned).
    """
    return _read(settings, part.input, f"input of {part.label}")


def write_outputs(settings: Settings, part: Partition, frames: Mapping[str, pd.DataFrame], seconds: float) -> None:
    """Write every named output frame of ``part``, then its marker (the partition is done)."""
    for name, frame in frames.items():
        _write(settings, frame, part.output(name))
    record = {
        "rows": part.rows,
        "outputs": {name: len(frame) for name, frame in frames.items()},
        "seconds": round(seconds, 3),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    write_text_atomic(part.marker, json.dumps(record, sort_keys=True))


def read_outputs(settings: Settings, parts: Sequence[Partition], name: str) -> pd.DataFrame:
    """Output ``name`` of every partition, concatenated in partition order.

    Raises:
        PartitionError: when a partition is not done (its worker failed or has not run).
    """
    missing = [p.label for p in parts if not p.is_done()]
    if missing:
        raise PartitionError(f"{len(missing)} of {len(parts)} partitions did not finish: {', '.join(missing[:5])}")
    frames = [_read(settings, p.output(name), f"{name} of {p.label}") for p in parts]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def stats(parts: Sequence[Partition]) -> dict[str, Any]:
    """Partitions, rows and compute seconds of a finished step (from the markers), for the stage summary."""
    records = [json.loads(p.marker.read_text(encoding="utf-8")) for p in parts if p.is_done()]
    seconds = sum(r["seconds"] for r in records)
    rows = sum(r["rows"] for r in records)
    return {
        "partitions": len(parts),
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds, 1) if seconds > 0 else None,
        "hosts": sorted({r["host"] for r in records}),
    }


def clear(settings: Settings, run_id: str, step: str | None = None) -> None:
    """Remove a run's partition files (one step, or all of them); the run folder goes when empty."""
    root = run_folder(settings, run_id)
    shutil.rmtree(root / step if step else root, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.rmdir()
    with contextlib.suppress(OSError):
        root.parent.rmdir()


def sweep(settings: Settings, older_than: float = STALE_SECONDS) -> list[str]:
    """Remove partition folders of runs that died: nothing in them changed for ``older_than`` seconds.

    They hold patient text, so they do not stay behind. Returns the run ids removed.
    """
    root = settings.warehouse.parent / "partitions"
    if not root.is_dir():
        return []
    now = time.time()
    removed = []
    for run_folder in root.iterdir():
        if not run_folder.is_dir():
            continue
        newest = max((p.stat().st_mtime for p in run_folder.rglob("*")), default=run_folder.stat().st_mtime)
        if now - newest > older_than:
            shutil.rmtree(run_folder, ignore_errors=True)
            removed.append(run_folder.name)
    return removed


def run(
    settings: Settings,
    parts: Sequence[Partition],
    work: str,
    workers: int = 1,
    progress: bool = False,
) -> None:
    """Compute every partition not yet done with ``work`` (``"package.module:function"``).

    ``work(settings, partition, progress=...)`` reads the input and calls :func:`write_outputs`.
    In this process (``workers <= 1``) it shows its own progress bar; with ``workers > 1``
    partitions run in that many spawned processes, each limited to one thread of
    torch/ONNX/BLAS so the processes share the cores instead of fighting over them.
    """
    todo = [p for p in parts if not p.is_done()]
    if not todo:
        return
    if workers <= 1 or len(todo) == 1:
        fn = resolve(work)
        for part in todo:
            fn(settings, part, progress=progress)
        return
    with ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), mp_context=get_context("spawn"), initializer=_single_threaded
    ) as pool:
        futures = [pool.submit(_call, work, settings, p) for p in todo]
        for future in _progress(futures, progress, work):
            future.result()


def resolve(work: str) -> Callable[[Settings, Partition], Any]:
    """The function named ``"package.module:function"``."""
    module, _, name = work.partition(":")
    return getattr(importlib.import_module(module), name)


def _call(work: str, settings: Settings, part: Partition) -> None:
    resolve(work)(settings, part)


def _single_threaded() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "FEEDBACK_WORKER_THREADS"):
        os.environ[var] = "1"


def worker_threads(default: int | None = None) -> int | None:
    """Threads a partition worker may use (1 inside a ``run`` pool; else ``default``)."""
    value = os.environ.get("FEEDBACK_WORKER_THREADS")
    return int(value) if value and value.isdigit() else default


def _progress(items: Sequence[Any], progress: bool, work: str) -> Iterator[Any]:
    if not progress:
        yield from items
        return
    from rich.progress import track

    yield from track(items, description=work.rsplit(":", 1)[-1].replace("_", " "))


# --------------------------------------------------------------------------------------
# Parquet, encrypted under the warehouse key when there is one
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _duck(settings: Settings) -> Iterator[tuple[duckdb.DuckDBPyConnection, bool]]:
    """An in-memory DuckDB, with the partitions' Parquet key added when the warehouse has a key."""
    con = duckdb.connect()
    try:
        if settings.encryption_key:
            load_extension(con, "httpfs")  # OpenSSL: real AES-GCM, not the read-only fallback
            key = base64.b64encode(hashlib.sha256(f"partitions:{settings.encryption_key}".encode()).digest())
            con.execute(f"PRAGMA add_parquet_key('{_KEY_NAME}', '{key.decode()}')")
        yield con, bool(settings.encryption_key)
    finally:
        con.close()


def _write(settings: Settings, frame: pd.DataFrame, path: Path) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with _duck(settings) as (con, encrypted):
        con.register("partition_frame", frame)
        options = f", encryption_config {{footer_key: '{_KEY_NAME}'}}" if encrypted else ""
        con.execute(f"copy (select * from partition_frame) to '{_quote(temp)}' (format parquet{options})")
    _fsync(temp)
    os.replace(temp, path)


def _read(settings: Settings, path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise PartitionError(f"{what} is missing: {path}")
    with _duck(settings) as (con, encrypted):
        options = f", encryption_config = {{footer_key: '{_KEY_NAME}'}}" if encrypted else ""
        try:
            return con.execute(f"select * from read_parquet('{_quote(path)}'{options})").df()
        except duckdb.Error as exc:
            raise PartitionError(f"{what} cannot be read ({path}): {exc}") from exc


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` by rename: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    _fsync(temp)
    os.replace(temp, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")
