"""Themes: BERTopic discovery on informative clauses, a taxonomy, and a registry of stable ids.

What one call of :func:`run_themes` does:

1. Reads every informative clause (``enrich.aspects`` x ``enrich.sentiment.is_informative``);
   embeds each unique redacted clause text once with MiniLM, cached in ``enrich.embeddings``.
2. **Refit** (:mod:`pipelines.themes.refit`; on request, when no model exists, or when the model
   is older than ``refit_days``): every clause is scored against the taxonomy (zero-shot: category
   examples, descriptions, seed terms); BERTopic runs on the unique texts (seeded UMAP,
   semi-supervised by the confident taxonomy labels, HDBSCAN, c-TF-IDF over phrases with English
   + domain stop words, KeyBERTInspired -> MMR keywords), ``reduce_outliers(strategy="embeddings")``;
   topics are made category-pure. Topics are matched to the registry ``enrich.themes`` by centroid
   cosine similarity (Hungarian; :mod:`pipelines.themes.registry`) so that a theme keeps its id and
   label across refits; genuinely new topics get new ids, registry themes no clause gathers round
   any more are retired (kept for history). Each clause then goes to the nearest theme centroid
   of its category (the daily rule), with hysteresis towards its previous theme; a clause about
   two categories also gets a secondary theme (``theme_rank`` 2). The model is saved with
   safetensors beside the warehouse (``data/warehouse.themes/``) with a ``manifest.json``.
3. **Daily** (:mod:`pipelines.themes.assignment`; otherwise): only new or changed clauses are
   embedded and assigned by the same rule, without touching existing ids, labels or assignments;
   an edited taxonomy is re-mapped.
4. **Reviewers' corrections** (:mod:`pipelines.themes.review`, ``feedback themes import``):
   renames, category moves, merges and recodes are applied again at the end of either path, in
   the same transaction, so they survive refits; recodes also train the category classifier.

Tables written: ``enrich.embeddings``, ``enrich.themes``, ``enrich.theme_assignments``,
``enrich.theme_outliers``, ``enrich.theme_categories``, ``enrich.theme_runs``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes.assignment import assign_pending
from pipelines.themes.context import Context, get_embedder, read_manifest, themes_dir
from pipelines.themes.model import Category, Embedder, ThemesError, load_config, load_taxonomy, taxonomy_hash
from pipelines.themes.refit import refit as refit_themes
from pipelines.themes.registry import read_registry, remap
from pipelines.themes.review import apply_corrections, corrections_version, reviewed_examples

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
        ``refitted``, ``model_version``, ``embedded`` (texts newly embedded) and
        ``theme_corrections_version`` (the reviewers' correction set in force, 0: none).
    """
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    ctx = Context(
        settings=settings,
        con=con,
        run_id=run_id,
        cfg=cfg,
        categories=categories,
        tax_hash=taxonomy_hash(categories),
        embedder=embedder or get_embedder(settings, cfg),
        progress=progress,
        started=datetime.now(UTC),
        reviewed=reviewed_examples(settings, con),
    )
    warehouse.run_sql(con, settings, "queries/themes/delete_stale_assignments")
    registry = read_registry(settings, con)
    has_active = bool((registry["status"] == "active").any()) if not registry.empty else False
    manifest = read_manifest(settings)
    if refit is None:
        refit = not has_active or manifest is None or _model_age_days(manifest) >= float(cfg["refit_days"])
    elif not refit and not has_active:
        log.warning("no theme registry yet: fitting a model although refit=False")
        refit = True
    summary = refit_themes(ctx, registry) if refit else assign_pending(ctx, registry, manifest)
    # Which reviewers' correction set the run applied (0: none): recorded with the stage's versions.
    summary["theme_corrections_version"] = corrections_version(settings, con)
    return summary


def remap_taxonomy(settings: Settings, con: duckdb.DuckDBPyConnection, *, embedder: Embedder | None = None) -> int:
    """Re-map every registry theme to the (edited) taxonomy without refitting or re-assigning.

    Returns:
        Number of themes whose category (id or name) changed.
    """
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    embedder = embedder or get_embedder(settings, cfg)
    changed = remap(
        settings, con, cfg, categories, taxonomy_hash(categories), embedder, reviewed_examples(settings, con)
    )
    with warehouse.transaction(con):
        apply_corrections(settings, con, "remap")  # a reviewer's category move outlives a taxonomy edit
    return changed


def _model_age_days(manifest: dict[str, Any]) -> float:
    try:
        fitted = datetime.fromisoformat(manifest["fitted_at"])
    except (KeyError, ValueError, TypeError):
        return float("inf")
    return (datetime.now(UTC) - fitted).total_seconds() / 86400.0
