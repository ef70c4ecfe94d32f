"""Clause embeddings as partitioned work, ahead of the theme stage.

The theme stage reads every clause vector from the cache ``enrich.embeddings`` (one row per
clause text and encoder) and embeds only what is missing. Embedding is most of a large first
run's compute, so it can be done beforehand in partitions (:mod:`pipelines.partitions`), by
processes or Airflow workers that never open the warehouse:

* :func:`plan_embedding`: the distinct informative clause texts that have no vector yet under
  each encoder the stage will use (its own, MiniLM; and the category classifier's other encoder,
  bge-small int8, when ``classifier.encoder`` names one), non-answers left out as the stage
  leaves them out, split by text hash;
* :func:`embed_partition`: one partition's texts through one encoder;
* :func:`load_embeddings`: into the cache (``on conflict do nothing``: idempotent).

The vectors are the ones the stage would compute itself (the same encoders, one text's vector
independent of its batch companions), so a theme run after this finds them cached.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import partitions, warehouse
from pipelines.config import Settings
from pipelines.themes.context import classifier_embedder, get_embedder, themes_dir
from pipelines.themes.model import Embedder, load_config
from pipelines.themes.noncontent import NonContent

log = logging.getLogger(__name__)

WORK = "pipelines.themes.embedding:embed_partition"
_INSERT_CHUNK = 20_000  # rows per insert: bounds the memory of one registered frame


def encoders(settings: Settings, cfg: dict[str, Any] | None = None) -> dict[str, Embedder]:
    """Every encoder a theme run embeds clauses with, by role: ``stage`` and, if any, the classifier's others."""
    cfg = cfg or load_config(themes_dir(settings) / "config.yaml")
    stage = get_embedder(settings, cfg)
    out: dict[str, Embedder] = {"stage": stage}
    if cfg["classifier"].get("enabled"):
        classifier = classifier_embedder(settings, cfg, stage)
        for part in getattr(classifier, "parts", None) or (classifier,):
            if part.name != stage.name:
                out[str(cfg["classifier"].get("encoder"))] = part
    return out


def plan_embedding(
    settings: Settings, con: duckdb.DuckDBPyConnection, run_id: str, count: int
) -> list[partitions.Partition]:
    """Write the clause texts each encoder has not embedded into ``count`` partitions per encoder."""
    cfg = load_config(themes_dir(settings) / "config.yaml")
    content = NonContent(cfg)
    parts: list[partitions.Partition] = []
    for role, encoder in encoders(settings, cfg).items():
        todo = warehouse.run_sql(con, settings, "queries/themes/uncached_clauses", {"model_name": encoder.name}).df()
        if not todo.empty:
            todo = todo[content.mask(todo["clause_text"].tolist())].reset_index(drop=True)
        step = f"embed-{role}"
        parts += partitions.plan(
            settings, run_id, step, todo, "text_hash", count, {"role": role, "model_name": encoder.name}
        )
    return parts


def embed_partition(settings: Settings, part: partitions.Partition, progress: bool = False) -> None:
    """Embed one partition's texts with its encoder and write the vectors (needs no warehouse).

    Raises:
        RuntimeError: if this worker's encoder differs from the planner's (another model).
    """
    started = time.perf_counter()
    todo = partitions.read_input(settings, part)
    role, name = part.params["role"], part.params["model_name"]
    encoder = encoders(settings).get(role)
    if encoder is None or encoder.name != name:
        found = "none" if encoder is None else encoder.name
        raise RuntimeError(f"{part.label}: this worker's {role} encoder is {found}, the plan's {name}")
    vectors = encoder.encode(todo["clause_text"].tolist(), progress=progress)
    frame = pd.DataFrame({"text_hash": todo["text_hash"], "embedding": list(np.asarray(vectors, dtype=np.float32))})
    partitions.write_outputs(settings, part, {"embeddings": frame}, time.perf_counter() - started)


def load_embeddings(settings: Settings, con: duckdb.DuckDBPyConnection, parts: list[partitions.Partition]) -> int:
    """Add every partition's vectors to ``enrich.embeddings``; returns the rows read.

    Raises:
        PartitionError: if a partition did not finish (what the others computed is still loaded:
            the cache only gains rows the stage would compute itself).
    """
    loaded = 0
    for model_name in sorted({p.params["model_name"] for p in parts}):
        group = [p for p in parts if p.params["model_name"] == model_name]
        frame = partitions.read_outputs(settings, group, "embeddings")
        for start in range(0, len(frame), _INSERT_CHUNK):
            chunk = frame.iloc[start : start + _INSERT_CHUNK]
            with warehouse.registered(con, themes_new_embeddings=chunk):
                warehouse.run_sql(con, settings, "queries/themes/insert_embeddings", {"model_name": model_name})
        loaded += len(frame)
    return loaded


def embed_pending(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str = "local",
    workers: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Plan, compute (in this process or ``workers`` processes) and load every missing clause vector.

    Returns:
        ``{"embedded": rows, "partitions": ...}``.
    """
    parts = plan_embedding(settings, con, run_id, max(1, workers))
    if not parts:
        return {"embedded": 0}
    try:
        partitions.run(settings, parts, WORK, workers=workers, progress=progress)
        embedded = load_embeddings(settings, con, parts)
        summary = {"embedded": embedded, "partitions": partitions.stats(parts)}
    finally:
        for step in sorted({p.step for p in parts}):
            partitions.clear(settings, run_id, step)
    return summary
