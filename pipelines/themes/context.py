"""What every step of a theme run shares.

Paths, the embedder and scorer caches, the run context, the clause embeddings cache and the run
record in ``enrich.theme_runs``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes.classifier import CategoryClassifier, load_or_train
from pipelines.themes.model import (
    Category,
    Embedder,
    SentenceTransformerEmbedder,
    TaxonomyScorer,
    ThemesError,
    config_hash,
    load_config,
    taxonomy_hash,
)

__all__ = [
    "Context",
    "category_scores",
    "centroid_scorer",
    "classifier_embedder",
    "classifier_features",
    "embeddings_for",
    "get_embedder",
    "insert_run",
    "outlier_share",
    "read_manifest",
    "scorer",
    "themes_dir",
]

log = logging.getLogger(__name__)

_EMBEDDERS: dict[tuple[str, int], Embedder] = {}
_SCORERS: dict[tuple[str, str, str, str, str], TaxonomyScorer | CategoryClassifier] = {}
_INSERT_CHUNK = 20000


def themes_dir(settings: Settings) -> Path:
    """Folder of the theme config, taxonomy and evaluation set (``models/themes``)."""
    return settings.models_dir / "themes"


def get_embedder(settings: Settings, cfg: dict[str, Any] | None = None) -> Embedder:
    """The sentence-embedding backend (loaded once per process)."""
    cfg = cfg or load_config(themes_dir(settings) / "config.yaml")
    backend = str(cfg["embedding"].get("backend", "onnx"))
    if backend not in ("onnx", "torch"):
        raise ThemesError(f"embedding.backend {backend!r}: choose onnx or torch")
    key = (settings.embedding_model_path, int(cfg["embedding"]["batch_size"]), backend)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = _load_embedder(settings, *key)
    return _EMBEDDERS[key]


def _load_embedder(settings: Settings, path: str, batch_size: int, backend: str) -> Embedder:
    """The embedder of ``embedding.backend``: onnxruntime fp32 (same vectors as torch) or sentence-transformers.

    A folder the ONNX path cannot serve (another pooling or module layout, or an export that
    does not match sentence-transformers, or fails) falls back to torch, with the reason in the log.
    """
    if backend == "onnx":
        from pipelines.partitions import worker_threads
        from pipelines.themes.encoders import OnnxSentenceEmbedder, UnsupportedEncoder

        try:
            return OnnxSentenceEmbedder(
                path, cache_dir=themes_dir(settings) / "build" / "encoders", workers=worker_threads(2) or 2
            )
        except UnsupportedEncoder as exc:
            log.warning("embedding on torch instead of onnxruntime: %s", exc)
    return SentenceTransformerEmbedder(path, batch_size=batch_size)


def classifier_embedder(settings: Settings, cfg: dict[str, Any], embedder: Embedder | None = None) -> Embedder:
    """The encoder of the category classifier's features (``classifier.encoder``; loaded once per process).

    ``minilm`` is ``embedder`` (the stage's own, BERTopic's too); ``bge-small-int8`` and
    ``minilm+bge`` are described in :mod:`pipelines.themes.encoders`.
    """
    from pipelines.themes.encoders import ENCODERS, BgeOnnxEmbedder, ConcatEmbedder

    name = str(cfg["classifier"].get("encoder", "minilm"))
    if name not in ENCODERS:
        raise ThemesError(f"classifier.encoder {name!r}: choose one of {', '.join(ENCODERS)}")
    base = embedder or get_embedder(settings, cfg)
    if name == "minilm":
        return base
    bkey = ("bge-small-int8", 0)
    if bkey not in _EMBEDDERS:
        from pipelines.partitions import worker_threads

        _EMBEDDERS[bkey] = BgeOnnxEmbedder(workers=worker_threads(2) or 2)
    return _EMBEDDERS[bkey] if name == "bge-small-int8" else ConcatEmbedder(base, _EMBEDDERS[bkey])


def scorer(
    categories: list[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    settings: Settings | None = None,
    reviewed: tuple[tuple[str, str], ...] = (),
) -> TaxonomyScorer | CategoryClassifier:
    """Clause -> category scorer, cached per embedder, taxonomy, settings and reviewers' recodes.

    With ``settings`` and ``classifier.enabled`` this is the few-shot per-category classifier
    (:mod:`pipelines.themes.classifier`; scores of 0.5 mean "at the category's threshold"),
    trained with ``reviewed`` (clause text, category id) recodes too; otherwise the zero-shot
    :class:`TaxonomyScorer`.
    """
    use_classifier = settings is not None and bool(cfg["classifier"].get("enabled"))
    encoder = classifier_embedder(settings, cfg, embedder) if use_classifier and settings is not None else embedder
    key = (
        encoder.name,
        taxonomy_hash(categories),
        config_hash({"t": cfg["taxonomy"], "c": cfg["classifier"] if use_classifier else None}),
        str(themes_dir(settings)) if use_classifier and settings else "",
        config_hash({"reviewed": sorted(reviewed)}) if use_classifier and reviewed else "",
    )
    if key not in _SCORERS:
        if use_classifier and settings is not None:
            shipped = settings.home / "models" / "themes"
            model = load_or_train(categories, encoder, cfg, themes_dir(settings), settings.seed, shipped, reviewed)
            model.encoder = encoder
            _SCORERS[key] = model
        else:
            _SCORERS[key] = TaxonomyScorer(categories, embedder, cfg)
    return _SCORERS[key]


def category_scores(ctx: Context, emb: np.ndarray, hashes: list[str], texts: list[str]) -> np.ndarray:
    """(n, K) category scores of unique clause texts (``emb``: their stage embeddings).

    When the classifier has its own encoder (``classifier.encoder`` other than ``minilm``) its
    features are computed here, cached in ``enrich.embeddings`` under that encoder's fingerprint
    the way the stage caches its own.
    """
    model = scorer(ctx.categories, ctx.embedder, ctx.cfg, ctx.settings, ctx.reviewed)
    meta = getattr(model, "meta", None) or {}
    ctx.classifier = {k: meta[k] for k in ("encoder", "encoder_kind", "encoder_sha256", "key") if k in meta}
    encoder = getattr(model, "encoder", None) or ctx.embedder
    feats = classifier_features(ctx.settings, ctx.con, encoder, ctx.embedder, emb, hashes, texts, ctx.progress)
    return model.scores(feats, texts)


def classifier_features(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    encoder: Embedder,
    embedder: Embedder,
    emb: np.ndarray,
    hashes: list[str],
    texts: list[str],
    progress: bool = False,
) -> np.ndarray:
    """The classifier's features of unique clause texts whose stage embeddings (``embedder``) are ``emb``.

    The stage's own vectors are reused; any other encoder's come from (and go to) the
    embeddings cache under its fingerprint; a concatenation is built from its parts, so only
    the parts are cached.
    """
    if encoder.name == embedder.name:
        return emb
    parts = getattr(encoder, "parts", None)
    if parts:
        halves = [classifier_features(settings, con, p, embedder, emb, hashes, texts, progress) for p in parts]
        return (np.hstack(halves) / np.sqrt(len(halves))).astype(np.float32)
    return embeddings_for(settings, con, encoder, hashes, texts, progress)[0]


def centroid_scorer(
    categories: list[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    settings: Settings | None = None,
    reviewed: tuple[tuple[str, str], ...] = (),
) -> TaxonomyScorer | CategoryClassifier:
    """A scorer of vectors in the stage embedder's space (theme centroids), whatever ``classifier.encoder`` is."""
    same = {**cfg, "classifier": {**cfg["classifier"], "encoder": "minilm"}}
    return scorer(categories, embedder, same, settings, reviewed)


def read_manifest(settings: Settings) -> dict[str, Any] | None:
    """The manifest of the saved model, or None when no model has been fitted."""
    path = settings.theme_build_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


@dataclass
class Context:
    """One theme run: where it writes, its parameters and its embedding backend."""

    settings: Settings
    con: duckdb.DuckDBPyConnection
    run_id: str
    cfg: dict[str, Any]
    categories: list[Category]
    tax_hash: str
    embedder: Embedder
    progress: bool
    started: datetime
    reviewed: tuple[tuple[str, str], ...] = ()  # reviewers' recodes (clause text, category id)
    #: the category classifier's encoder (name, kind, model file sha256) and key, for the run record
    classifier: dict[str, Any] = field(default_factory=dict)


def embeddings_for(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    embedder: Embedder,
    hashes: list[str],
    texts: list[str],
    progress: bool = False,
) -> tuple[np.ndarray, int]:
    """Embeddings aligned with unique ``hashes``: cached rows reused, the rest computed and cached.

    Returns the (n, dim) float32 matrix and the number of texts newly embedded.
    """
    out = np.zeros((len(hashes), embedder.dim), dtype=np.float32)
    if not hashes:
        return out, 0
    pos = {h: i for i, h in enumerate(hashes)}
    have = np.zeros(len(hashes), dtype=bool)
    wanted = pd.DataFrame({"text_hash": hashes})
    with warehouse.registered(con, themes_wanted_hashes=wanted):
        # Fetched inside the block: results are materialised lazily, and the view goes with it.
        cached = warehouse.run_sql(
            con, settings, "queries/themes/cached_embeddings", {"model_name": embedder.name}
        ).fetchnumpy()
    for h, vec in zip(cached["text_hash"], cached["embedding"], strict=True):
        i = pos[h]
        out[i] = vec
        have[i] = True
    missing = np.flatnonzero(~have)
    if len(missing):
        log.info("embedding %d new clause texts (%d cached)", len(missing), int(have.sum()))
        out[missing] = embedder.encode([texts[i] for i in missing], progress=progress)
        for start in range(0, len(missing), _INSERT_CHUNK):
            idx = missing[start : start + _INSERT_CHUNK]
            frame = pd.DataFrame({"text_hash": [hashes[i] for i in idx], "embedding": list(out[idx])})
            with warehouse.registered(con, themes_new_embeddings=frame):
                warehouse.run_sql(con, settings, "queries/themes/insert_embeddings", {"model_name": embedder.name})
    return out, int(len(missing))


def outlier_share(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[int, int, float]:
    """Informative clauses, those with a theme, and the share without one."""
    total, themed = warehouse.run_sql(con, settings, "queries/themes/assignment_counts").fetchone()
    total, themed = int(total or 0), int(themed or 0)
    return total, themed, (1.0 - themed / total) if total else 0.0


def insert_run(ctx: Context, version: str, refitted: bool, counts: dict[str, Any], details: dict[str, Any]) -> None:
    """Record the run in ``enrich.theme_runs``.

    ``counts`` holds clauses, themed, outlier_share, n_themes, new_themes, retired_themes and
    kept_themes.
    """
    warehouse.run_sql(
        ctx.con,
        ctx.settings,
        "queries/themes/insert_run",
        {
            "theme_run_id": ctx.run_id,
            "model_version": version,
            "refitted": refitted,
            "started_at": ctx.started,
            "finished_at": datetime.now(UTC),
            "clauses": counts["clauses"],
            "themed": counts["themed"],
            "outlier_share": counts["outlier_share"],
            "n_themes": counts["n_themes"],
            "new_themes": counts["new_themes"],
            "retired_themes": counts["retired_themes"],
            "kept_themes": counts["kept_themes"],
            "taxonomy_hash": ctx.tax_hash,
            "details": json.dumps({**details, "classifier": ctx.classifier}, default=str),
        },
    )
