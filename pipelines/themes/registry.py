"""The theme registry ``enrich.themes``: stable ids across refits, labels, categories, retirement.

A refit's topics are matched to the registry by centroid cosine similarity (Hungarian matching,
:func:`pipelines.themes.model.match_registry`) so that a theme keeps its id and label; genuinely
new topics get new ids (``T0001``...), and registry themes no clause gathers round any more are
retired (kept for history). An edited taxonomy re-maps the registry's categories in place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes.context import centroid_scorer, classifier_features, scorer
from pipelines.themes.labels import phrase_label
from pipelines.themes.model import (
    NEW_CATEGORY_ID,
    NEW_CATEGORY_NAME,
    Category,
    Embedder,
    FitResult,
    KeywordExtractor,
    clause_categories,
    clean_keywords,
    make_label,
    map_to_categories,
    match_registry,
    normalize_rows,
    vote_categories,
)

__all__ = [
    "category_fields",
    "category_frame",
    "centroid_matrix",
    "match_to_registry",
    "member_centroids",
    "read_registry",
    "remap",
    "retired_rows",
    "theme_label",
    "vote_fields",
]

log = logging.getLogger(__name__)


def read_registry(settings: Settings, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every registry theme (active and retired) with its stored centroid."""
    return warehouse.run_sql(con, settings, "queries/themes/registry").df()


def centroid_matrix(frame: pd.DataFrame, dim: int) -> np.ndarray:
    """The ``centroid`` column of registry rows as a row-normalised (n, dim) matrix."""
    if frame.empty:
        return np.zeros((0, dim), dtype=np.float32)
    return normalize_rows(np.stack([np.asarray(c, dtype=np.float32) for c in frame["centroid"]]))


def member_centroids(emb: np.ndarray, index: np.ndarray, n: int, fallback: np.ndarray | None = None) -> np.ndarray:
    """Normalised mean embedding of the rows assigned to each of ``n`` themes."""
    out = np.zeros((n, emb.shape[1]), dtype=np.float32)
    counts = np.bincount(index[index >= 0], minlength=n)
    np.add.at(out, index[index >= 0], emb[index >= 0])
    if fallback is not None:
        out[counts == 0] = fallback[counts == 0]
    return normalize_rows(out)


def _next_theme_number(existing: list[str]) -> int:
    numbers = [int(t[1:]) for t in existing if len(t) > 1 and t[0] == "T" and t[1:].isdigit()]
    return max(numbers, default=0) + 1


# --------------------------------------------------------------------------------------
# Matching a refit's topics to the registry
# --------------------------------------------------------------------------------------
def match_to_registry(
    registry: pd.DataFrame,
    topic_ids: list[int],
    cents: np.ndarray,
    topic_cat: dict[int, int],
    cat_pos: dict[str, int],
    fit: FitResult,
    rcfg: dict[str, Any],
    dim: int,
    previous: np.ndarray | None = None,
) -> tuple[dict[int, str], dict[str, tuple[np.ndarray, int]]]:
    """Give each new topic a registry id, a new id, or dissolve it into existing themes.

    * Hungarian matching on centroid cosine similarity (>= match_threshold), then a split of a
      registry theme (>= absorb_threshold, same category) joins it: the theme keeps id and label.
    * With ``previous`` (registry row of each unique text's previous theme, -1 when none), an
      unmatched topic must prove it is new by its members (:func:`_member_verdict`): a topic
      mostly made of clauses an active theme already held joins that theme when most of its
      members came from it (a split found by member overlap), else it is dissolved.
    * An unmatched topic is a genuinely new theme only when no active registry theme of its
      category is at least ``dissolve_threshold`` similar; otherwise it is dissolved and its
      clauses go to their nearest themes.
    * Active registry themes without a matching topic are carried over with their stored
      centroid; they stay active if clauses still gather around them, else they are retired.

    Returns (topic -> theme id for kept/new topics, carried theme id -> (centroid, category index)).
    """
    old_cents = centroid_matrix(registry, dim)
    absorb_ok = _same_category(registry, topic_ids, topic_cat, cat_pos)
    matched = match_registry(
        old_cents, cents, float(rcfg["match_threshold"]), float(rcfg["absorb_threshold"]), absorb_ok
    )
    theme_of_topic: dict[int, str] = {}
    next_no = _next_theme_number(registry["theme_id"].tolist() if not registry.empty else [])
    active = (registry["status"] == "active").to_numpy() if not registry.empty else np.zeros(0, dtype=bool)
    sizes = {t: len(fit.topics[t].members) for t in topic_ids}
    # Largest topics first: they take the next free ids in a stable order.
    for i in sorted(range(len(topic_ids)), key=lambda i: (-sizes[topic_ids[i]], topic_ids[i])):
        t = topic_ids[i]
        verdict = None
        if previous is not None and len(old_cents) and rcfg.get("new_topic_max_previous") is not None:
            verdict = _member_verdict(previous[fit.topics[t].members], active & absorb_ok[i], active, rcfg)
        # Member overlap outranks the centroid match: a topic most of whose clauses one theme held is that theme.
        if verdict is not None and verdict >= 0 and rcfg["overlap_first"]:
            theme_of_topic[t] = str(registry["theme_id"].iloc[verdict])
            continue
        if matched[i] is not None:
            theme_of_topic[t] = str(registry["theme_id"].iloc[matched[i]])
            continue
        if verdict is not None:  # not new: it joins the theme its members came from, or dissolves
            if verdict >= 0:
                theme_of_topic[t] = str(registry["theme_id"].iloc[verdict])
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


def _member_verdict(prev: np.ndarray, joinable: np.ndarray, active: np.ndarray, rcfg: dict[str, Any]) -> int | None:
    """What an unmatched topic is, judged by its members' previous themes (``prev``, -1: none).

    None when fewer than ``new_topic_max_previous`` of its members had an active theme before
    (mostly new or unthemed clauses: it may be a new theme). Otherwise the topic re-groups old
    clauses: the registry row most of its members came from (more than ``overlap_share`` of
    them, and joinable: active and of the topic's category), else -1 (dissolve).
    """
    held = prev[prev >= 0]
    held = held[active[held]]
    if len(prev) == 0 or len(held) < float(rcfg["new_topic_max_previous"]) * len(prev):
        return None
    counts = np.bincount(held, minlength=len(active))
    j = int(np.argmax(counts))
    return j if joinable[j] and counts[j] > float(rcfg["overlap_share"]) * len(prev) else -1


def _same_category(
    registry: pd.DataFrame, topic_ids: list[int], topic_cat: dict[int, int], cat_pos: dict[str, int]
) -> np.ndarray | None:
    """(topics x registry themes) mask: may the topic join the theme (same category)? None if no registry."""
    if registry.empty:
        return None
    cat_of = {k: c for c, k in cat_pos.items()}
    topic_cat_id = {
        t: cat_of.get(topic_cat[t], NEW_CATEGORY_ID) if topic_cat[t] >= 0 else NEW_CATEGORY_ID for t in topic_ids
    }
    old_cat = registry["category_id"].fillna("").to_numpy()
    absorb_ok = np.array([[oc == topic_cat_id[t] for oc in old_cat] for t in topic_ids], dtype=bool)
    return absorb_ok.reshape(len(topic_ids), len(registry))


# --------------------------------------------------------------------------------------
# Registry rows
# --------------------------------------------------------------------------------------
def theme_label(
    tid: str,
    members: np.ndarray,
    theme_of_topic: dict[int, str],
    fit: FitResult,
    keywords: KeywordExtractor,
    stop: set[str],
    fields: dict[str, Any],
    old: pd.DataFrame,
    used_labels: set[str],
    clauses: tuple[Sequence[str], np.ndarray, np.ndarray] | None = None,
    encode: Callable[[list[str]], np.ndarray] | None = None,
) -> tuple[str, list[str]]:
    """Label and keywords of an active theme after a refit.

    A kept theme keeps its registry label; a new one is named by a short phrase from its central
    member clauses (``clauses``: texts, embeddings, centroid; :func:`phrase_label`), else from its
    largest topic's label or key phrases, made unique among ``used_labels`` (which the label is
    added to).
    """
    own = [t for t, v in theme_of_topic.items() if v == tid]
    if own:
        topic = fit.topics[max(own, key=lambda t: len(fit.topics[t].members))]
        kws = clean_keywords(topic.keywords, stop) or topic.keywords[:8]
        topic_label = topic.label
    else:  # a registry theme carried over without a matching topic
        kws = keywords.keywords(members)
        topic_label = ""
    kept = tid in old.index
    phrases = keywords.label_phrases(members) or kws
    base = topic_label or make_label(phrases)
    if not topic_label and len(base.split()) < 2 and fields["category_id"] != NEW_CATEGORY_ID:
        base = f"{fields['category_name']}: {base.lower()}"  # one word says too little
    phrase = None if kept or clauses is None else phrase_label(*clauses, kws, stop, used_labels, encode=encode)
    label = str(old.loc[tid, "label"]) if kept else phrase or _unique_label(base, kws, used_labels)
    used_labels.add(label.lower())
    return label, kws


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


def retired_rows(registry: pd.DataFrame, active_ids: list[str], now: datetime) -> tuple[list[dict[str, Any]], int]:
    """Registry rows of the themes not in ``active_ids`` (status retired) and how many were active."""
    rows: list[dict[str, Any]] = []
    retired = 0
    for _, r in registry.iterrows():
        if r["theme_id"] in active_ids:
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
    return rows, retired


# --------------------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------------------
def category_frame(categories: list[Category], tax_hash: str) -> pd.DataFrame:
    """Rows of ``enrich.theme_categories`` for the taxonomy."""
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


def category_fields(categories: list[Category], idx: int, score: float, runner: int) -> dict[str, Any]:
    """The category columns of a theme mapped to category ``idx`` (-1: new, not in the taxonomy)."""
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


def vote_fields(
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
        out.append(category_fields(categories, k, sim, runner))
    return out


def remap(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    cfg: dict[str, Any],
    categories: list[Category],
    tax_hash: str,
    embedder: Embedder,
    reviewed: tuple[tuple[str, str], ...] = (),
) -> int:
    """Re-map every registry theme to ``categories`` and store the taxonomy; returns themes changed.

    Themes with assigned clauses take their members' majority category; the others (retired)
    are mapped by their stored centroid. Ids, labels and assignments are untouched.
    """
    registry = read_registry(settings, con)
    changed = 0
    now = datetime.now(UTC)
    rows = []
    if not registry.empty:
        fields = _remapped_fields(settings, con, cfg, categories, embedder, registry, reviewed)
        for _, r in registry.iterrows():
            f = fields[r["theme_id"]]
            if (f["category_id"], f["category_name"]) != (r["category_id"], r["category_name"]):
                changed += 1
            rows.append({"theme_id": r["theme_id"], **f, "taxonomy_hash": tax_hash, "updated_at": now})
    with warehouse.transaction(con):
        if rows:
            with warehouse.registered(con, themes_incoming_map=pd.DataFrame(rows)):
                warehouse.run_sql(con, settings, "queries/themes/update_categories")
        with warehouse.registered(con, themes_incoming_categories=category_frame(categories, tax_hash)):
            warehouse.run_sql(con, settings, "queries/themes/replace_categories")
    log.info("taxonomy remapped: %d of %d themes changed category", changed, len(registry))
    return changed


def _member_scores(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    tax_scorer: Any,
    embedder: Embedder,
    emb: np.ndarray,
    hashes: list[str],
    texts: list[str],
) -> np.ndarray:
    """Category scores of member clauses; the classifier's own (cached) features when its encoder is not the stage's."""
    encoder = getattr(tax_scorer, "encoder", None)
    if encoder is not None and encoder.name != embedder.name:
        first = {h: i for i, h in reversed(list(enumerate(hashes)))}
        unique = list(dict.fromkeys(hashes))
        rows = [first[h] for h in unique]
        feats = classifier_features(settings, con, encoder, embedder, emb[rows], unique, [texts[i] for i in rows])
        pos = {h: i for i, h in enumerate(unique)}
        emb = feats[[pos[h] for h in hashes]]
    return tax_scorer.scores(emb, texts)


def _remapped_fields(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    cfg: dict[str, Any],
    categories: list[Category],
    embedder: Embedder,
    registry: pd.DataFrame,
    reviewed: tuple[tuple[str, str], ...] = (),
) -> dict[str, dict[str, Any]]:
    """Category fields of every registry theme under ``categories``."""
    tcfg = cfg["taxonomy"]
    fields: dict[str, dict[str, Any]] = {}
    tax_scorer = scorer(categories, embedder, cfg, settings, reviewed)
    members = warehouse.run_sql(
        con, settings, "queries/themes/member_embeddings", {"model_name": embedder.name}
    ).fetchnumpy()
    ids = registry["theme_id"].tolist()
    if len(members["theme_id"]):
        emb = normalize_rows(np.stack(members["embedding"]))
        texts = [str(t) for t in members["clause_text"]]
        scores = _member_scores(settings, con, tax_scorer, embedder, emb, [str(h) for h in members["text_hash"]], texts)
        clause_cat = clause_categories(scores, float(tcfg["clause_min_score"]))
        pos = {t: j for j, t in enumerate(ids)}
        theme_index = np.array([pos.get(t, -1) for t in members["theme_id"]], dtype=int)
        voted = vote_fields(categories, theme_index, clause_cat, scores, len(ids), tcfg)
        has_members = set(members["theme_id"].tolist())
        fields = {t: voted[j] for j, t in enumerate(ids) if t in has_members}
    # Themes without assigned clauses (retired): by centroid.
    rest = registry[~registry["theme_id"].isin(list(fields))].reset_index(drop=True)
    if not rest.empty:
        cents = centroid_matrix(rest, embedder.dim)
        # Centroids live in the stage embedder's space: scored by the classifier trained on it.
        cent_scorer = centroid_scorer(categories, embedder, cfg, settings, reviewed)
        idx, score, runner = map_to_categories(cent_scorer.scores(cents), float(tcfg["map_threshold"]))
        for j, tid in enumerate(rest["theme_id"]):
            fields[tid] = category_fields(categories, int(idx[j]), float(score[j]), int(runner[j]))
    return fields
