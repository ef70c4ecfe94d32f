"""Assigning clauses to registry themes without a refit (the daily rule), and the assignment rows.

Each clause goes to the nearest active theme centroid of its taxonomy category (above
``outliers.assign_threshold``; else it is an outlier); a clause about two categories also gets a
secondary theme (``theme_rank`` 2). Existing ids, labels and assignments are not touched.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes.context import Context, category_scores, embeddings_for, insert_run, outlier_share
from pipelines.themes.model import assign_within_categories, clause_categories, secondary_themes
from pipelines.themes.noncontent import NonContent
from pipelines.themes.registry import centroid_matrix, read_registry, remap
from pipelines.themes.review import apply_corrections

__all__ = ["assign_pending", "assignment_frames", "methods", "noncontent_rows", "secondary", "write_assignments"]

log = logging.getLogger(__name__)


def assign_pending(ctx: Context, registry: pd.DataFrame, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Assign new or changed clauses to the active registry themes; re-map an edited taxonomy first.

    Returns:
        The run summary (``refitted`` False, no new or retired themes).
    """
    settings, con = ctx.settings, ctx.con
    version = (manifest or {}).get("model_version", "unknown")
    if (warehouse.run_sql(con, settings, "queries/themes/taxonomy_hash").fetchone() or [None])[0] != ctx.tax_hash:
        remap(settings, con, ctx.cfg, ctx.categories, ctx.tax_hash, ctx.embedder, ctx.reviewed)
        registry = read_registry(settings, con)
    pending = warehouse.run_sql(con, settings, "queries/themes/pending_clauses").df()
    # Non-answers are never assigned a theme: stored as 'no content' outliers, out of every count.
    content = NonContent(ctx.cfg).mask(pending["clause_text"].tolist())
    skipped = noncontent_rows(pending[~content].reset_index(drop=True), ctx.run_id)
    keys_all = pending[["feedback_id", "clause_idx"]]
    pending = pending[content].reset_index(drop=True)
    active = registry[registry["status"] == "active"].reset_index(drop=True)
    n_embedded = 0
    assignments = outliers = pd.DataFrame()
    if not pending.empty:
        assignments, outliers, n_embedded = _assign(ctx, pending, active)
    used = methods(assignments, outliers)
    themed_now = int((assignments["theme_rank"] == 1).sum()) if len(assignments) else 0
    outliers = pd.concat([outliers, skipped], ignore_index=True) if len(skipped) else outliers
    with warehouse.transaction(con):
        if not keys_all.empty:
            with warehouse.registered(con, themes_incoming_keys=keys_all):
                warehouse.run_sql(con, settings, "queries/themes/delete_clause_rows")
            write_assignments(con, settings, assignments, outliers)
        warehouse.run_sql(con, settings, "queries/themes/refresh_sizes")
        corrections = apply_corrections(settings, con, ctx.run_id)  # e.g. a recoded clause whose comment came back
        _, _, share = outlier_share(settings, con)
        counts = {
            "clauses": len(pending),
            "themed": themed_now,
            "outlier_share": share,
            "n_themes": len(active),
            "new_themes": 0,
            "retired_themes": 0,
            "kept_themes": len(active),
        }
        insert_run(ctx, version, False, counts, {"methods": used, "embedded": n_embedded, "corrections": corrections})
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
        "methods": used,
    }
    log.info("themes daily assignment: %s", summary)
    return summary


def _assign(ctx: Context, pending: pd.DataFrame, active: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Assignment and outlier rows of the pending clauses, and how many texts were newly embedded."""
    cfg = ctx.cfg
    unique = pending.drop_duplicates("text_hash").reset_index(drop=True)
    hashes, texts = unique["text_hash"].tolist(), unique["clause_text"].tolist()
    emb, n_embedded = embeddings_for(ctx.settings, ctx.con, ctx.embedder, hashes, texts, ctx.progress)
    cents = centroid_matrix(active, ctx.embedder.dim)
    cat_pos = {c.id: k for k, c in enumerate(ctx.categories)}
    theme_cat = np.array([cat_pos.get(c, -1) for c in active["category_id"].fillna("")], dtype=int)
    cat_scores = category_scores(ctx, emb, hashes, texts)
    clause_cat = clause_categories(cat_scores, float(cfg["taxonomy"]["clause_min_score"]))
    best, sim = assign_within_categories(emb, clause_cat, cents, theme_cat, float(cfg["outliers"]["assign_threshold"]))
    method = np.where(best >= 0, "centroid", "outlier").astype(object)
    second, second_sim = secondary(ctx, emb, cat_scores, best, cents, theme_cat)
    assignments, outliers = assignment_frames(
        pending, hashes, active["theme_id"].tolist(), best, sim, method, second, second_sim, ctx.run_id
    )
    return assignments, outliers, n_embedded


def secondary(
    ctx: Context,
    emb: np.ndarray,
    cat_scores: np.ndarray,
    primary: np.ndarray,
    cents: np.ndarray,
    theme_cat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Secondary theme (-1: none) and its similarity per text, when multi-label is on and supported."""
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
        float(mcfg.get("min_score", ctx.cfg["taxonomy"]["clause_min_score"])),
    )


def _multi_label_supported(ctx: Context) -> bool:
    """Older warehouses key theme_assignments by clause only: no secondary rows there."""
    row = warehouse.run_sql(ctx.con, ctx.settings, "queries/themes/assignment_key").fetchone()
    ok = bool(row) and "theme_id" in list(row[0])
    if not ok:
        log.warning(
            "enrich.theme_assignments is keyed by clause only (old schema): secondary themes are "
            "skipped; recreate the table to enable them"
        )
    return ok


def assignment_frames(
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
    outliers["reason"] = "no theme"
    return assignments, outliers


def noncontent_rows(clauses: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Outlier rows (reason 'no content') of placeholder and non-answer clauses."""
    out = clauses.reindex(columns=["feedback_id", "clause_idx", "text_hash"]).copy()
    out["theme_run_id"] = run_id
    out["reason"] = "no content"
    return out


def write_assignments(
    con: duckdb.DuckDBPyConnection, settings: Settings, assignments: pd.DataFrame, outliers: pd.DataFrame
) -> None:
    """Upsert assignment rows and insert outlier rows (the caller holds the transaction)."""
    if not assignments.empty:
        with warehouse.registered(con, themes_incoming_assignments=assignments):
            warehouse.run_sql(con, settings, "queries/themes/upsert_assignments")
    if not outliers.empty:
        with warehouse.registered(con, themes_incoming_outliers=outliers):
            warehouse.run_sql(con, settings, "queries/themes/insert_outliers")


def methods(assignments: pd.DataFrame, outliers: pd.DataFrame) -> dict[str, int]:
    """Rows per assignment method, outliers (no theme) and non-answers (no content) included."""
    out = {str(k): int(v) for k, v in assignments["method"].value_counts().items()} if len(assignments) else {}
    if len(outliers):
        reasons = outliers["reason"] if "reason" in outliers else pd.Series("no theme", index=outliers.index)
        if (reasons != "no content").any():
            out["outlier"] = int((reasons != "no content").sum())
        if (reasons == "no content").any():
            out["no_content"] = int((reasons == "no content").sum())
    return out
