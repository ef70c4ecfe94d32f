"""Key drivers: which themes a poor outcome is attributable to, per outcome and scope.

Per outcome (FFT Poor/Very poor, NPS detractor) and scope (all, each service), a logistic
regression of the poor outcome on the themes each survey response mentions negatively (weakly
informative Gaussian prior, controls for service/site); the importance of a theme is the share
of the outcome attributable to it, with non-parametric bootstrap confidence intervals.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from pipelines.insights.config import OUTCOMES
from pipelines.insights.logit import Design, fit_logit, fit_logit_many, sigmoid
from pipelines.insights.significance import bh_qvalues

__all__ = ["DRIVER_METHOD", "category_mentions", "key_drivers"]

DRIVER_METHOD = "logit_gaussian_prior_bootstrap"
# A design is fitted sparse when its weighted Gram matrix is cheaper that way: one bincount
# element per pair of non-zeros in a row costs about this many dense multiply-adds (BLAS,
# one thread; measured on the 100k demo's scopes: 3,000 x 100 patterns took 3.0 ms dense and
# 0.2 ms sparse). A response mentions a few themes, so most designs are mostly zeros.
_PAIR_COST = 25


def key_drivers(
    responses: pd.DataFrame, mentions: pd.DataFrame, cfg: Mapping[str, Any], seed: int = 42, threads: int | None = None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Theme (and taxonomy category) drivers of poor outcomes per outcome and scope.

    Args:
        responses: one row per survey response: response_uid, site, service, rating_value and
            the outcome columns (fft_category, nps_class).
        mentions: one row per (response_uid, theme_id) with booleans ``negative`` and ``positive``
            and optionally the theme's ``category_id`` (then categories are modelled too).
        cfg: the ``drivers`` section of the insights config (``exclude_categories``: themes of
            these taxonomy categories, the overall verdicts, are not candidate drivers).
        seed: seed of the bootstrap.
        threads: scopes fitted at once (default ``cfg["threads"]``, else the machine's cores, at
            most 4); the rows are the same for any count.

    Returns:
        The driver rows (level, outcome, scope_type, scope, theme_id, category_id, importance with
        CI, coef with CI, odds_ratio, p/q values, prevalence, n, performance, ..., rank, method)
        and one record per (level, outcome, scope) that was skipped, with the reason.
    """
    responses = responses.drop_duplicates("response_uid").set_index("response_uid")
    mentions = mentions[mentions["response_uid"].isin(responses.index)].copy()
    if "category_id" not in mentions:
        mentions["category_id"] = None
    # Overall verdicts ("Absolutely shocking", "Excellent service") restate the rating: they are
    # not causes of it, and would outrank the themes a team can act on.
    excluded = set(cfg.get("exclude_categories") or [])
    if excluded:
        mentions = mentions[~mentions["category_id"].isin(excluded)]
    levels = [("theme", mentions)]
    if mentions["category_id"].notna().any():
        levels.append(("category", category_mentions(mentions)))
    results: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    if threads is None:
        threads = int(cfg.get("threads") or min(4, os.cpu_count() or 1))
    for level, rows in levels:
        with _single_threaded_blas():
            found, missed = _drivers_for_level(responses, rows, cfg, seed, level, threads)
        if not found.empty:
            meta = rows[["theme_id", "category_id"]].drop_duplicates("theme_id")
            results.append(found.merge(meta, on="theme_id", how="left").assign(level=level))
        skipped.extend({"level": level, **m} for m in missed)
    if not results:
        return pd.DataFrame(
            columns=["level", "outcome", "scope_type", "scope", "theme_id", "category_id", "rank", "q_value", "method"]
        ), skipped
    out = pd.concat(results, ignore_index=True)
    out["q_value"] = bh_qvalues(out["p_value"].to_numpy())
    out["rank"] = (
        out.groupby(["level", "outcome", "scope"])["importance"].rank(ascending=False, method="first").astype("int32")
    )
    out["method"] = DRIVER_METHOD
    return out.sort_values(["level", "outcome", "scope_type", "scope", "rank"], ignore_index=True), skipped


def category_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    """Roll theme mentions up to taxonomy categories (``theme_id`` = ``category:<id>``).

    Themes mapped to ``new`` (no category) or to no category are left out, and so are
    categories with a single theme (they would repeat that theme's model).
    """
    cats = mentions[mentions["category_id"].notna() & (mentions["category_id"] != "new")]
    split = cats.groupby("category_id")["theme_id"].nunique()
    cats = cats[cats["category_id"].isin(split[split >= 2].index)]
    if cats.empty:
        return pd.DataFrame(columns=["response_uid", "theme_id", "category_id", "negative", "positive"])
    out = (
        cats.assign(
            negative=cats["negative"].fillna(False).astype(bool), positive=cats["positive"].fillna(False).astype(bool)
        )
        .groupby(["response_uid", "category_id"], as_index=False)[["negative", "positive"]]
        .max()
    )
    out["theme_id"] = "category:" + out["category_id"]
    return out


# --------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------
def _drivers_for_level(
    responses: pd.DataFrame, mentions: pd.DataFrame, cfg: Mapping[str, Any], seed: int, level: str, threads: int = 1
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    results: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    flag = "negative" if cfg["mention"] == "negative" else None
    wide_feature = _wide(mentions, flag, responses.index)
    wide_any = _wide(mentions, None, responses.index)
    wide_pos = _wide(mentions, "positive", responses.index)
    jobs: list[tuple[tuple[str, str, str], tuple[Any, ...]]] = []
    for outcome in cfg["outcomes"]:
        column, valid_values, poor = OUTCOMES[outcome]
        if column not in responses:
            skipped.append({"outcome": outcome, "scope": "All", "reason": f"no column {column}"})
            continue
        base = responses[responses[column].isin(valid_values)].copy()
        base["y"] = (base[column] == poor).astype(float)
        for scope_type, scope, pop, controls in _scopes(base, cfg["scopes"]):
            feature = wide_feature.loc[pop.index]
            feature = feature.loc[:, feature.sum() >= cfg["min_mentions"]]
            why = _skip_reason(pop, feature, cfg)
            if why is not None:
                skipped.append({"outcome": outcome, "scope": scope, "reason": why})
                continue
            rng = _scope_seed(seed, level, outcome, scope_type, scope)
            args = (pop, feature, wide_any.loc[pop.index], wide_pos.loc[pop.index], controls, cfg, rng)
            jobs.append(((outcome, scope_type, scope), args))
    # Each scope has its own seeded generator, so the scopes can be fitted side by side (numpy
    # releases the GIL in its matrix products) and the rows do not depend on the thread count.
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(jobs) or 1))) as pool:
        fitted = list(pool.map(lambda job: _fit_scope(*job[1]), jobs))
    for ((outcome, scope_type, scope), _), rows in zip(jobs, fitted, strict=True):
        rows.insert(0, "scope", scope)
        rows.insert(0, "scope_type", scope_type)
        rows.insert(0, "outcome", outcome)
        results.append(rows)
    return (pd.concat(results, ignore_index=True) if results else pd.DataFrame()), skipped


def _scopes(base: pd.DataFrame, wanted: list[str]) -> list[tuple[str, str, pd.DataFrame, list[str]]]:
    """(scope_type, scope, responses, control columns) of every scope asked for."""
    scopes: list[tuple[str, str, pd.DataFrame, list[str]]] = []
    if "all" in wanted:
        scopes.append(("all", "All", base, ["service", "site"]))
    if "service" in wanted:
        for service, part in sorted(base.groupby("service"), key=lambda kv: str(kv[0])):
            scopes.append(("service", str(service), part, ["site"]))
    return scopes


def _skip_reason(pop: pd.DataFrame, feature: pd.DataFrame, cfg: Mapping[str, Any]) -> str | None:
    """Why a scope is too small to model, or None."""
    events = int(pop["y"].sum())
    if len(pop) < cfg["min_scope_responses"]:
        return f"{len(pop)} responses < min_scope_responses {cfg['min_scope_responses']}"
    if min(events, len(pop) - events) < cfg["min_events"]:
        return f"{events} of {len(pop)} poor: fewer than min_events {cfg['min_events']} in a class"
    if feature.shape[1] == 0:
        return f"no theme carried by min_mentions {cfg['min_mentions']} responses"
    return None


def _wide(mentions: pd.DataFrame, flag: str | None, index: pd.Index) -> pd.DataFrame:
    """0/1 response x theme frame: any mention (flag None) or mentions where ``flag`` is true."""
    rows = mentions if flag is None else mentions[mentions[flag].fillna(False).astype(bool)]
    rows = rows[rows["response_uid"].isin(index)]
    if rows.empty:
        return pd.DataFrame(index=index)
    themes = pd.Index(sorted(rows["theme_id"].unique()))
    out = np.zeros((len(index), len(themes)), dtype=np.int8)
    out[index.get_indexer(rows["response_uid"]), themes.get_indexer(rows["theme_id"])] = 1
    return pd.DataFrame(out, index=index, columns=themes)


def _scope_seed(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(parts).encode())])


def _single_threaded_blas() -> Any:
    """BLAS limited to one thread: the matrices are small and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# --------------------------------------------------------------------------------------
# One model
# --------------------------------------------------------------------------------------
@dataclass
class _Patterns:
    """Identical (covariates, outcome) responses collapsed into weighted covariate patterns.

    Exact for the likelihood, and resampling responses is a multinomial draw over the patterns.
    Columns of ``x``: intercept, the ``k`` themes, then the control dummies.
    """

    x: Design
    y: np.ndarray
    counts: np.ndarray
    prior_precision: np.ndarray
    k: int
    theme_rows: np.ndarray  # (pattern, theme) pairs where the pattern mentions the theme
    theme_cols: np.ndarray

    def attributable(self, b: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Mean over responses of P(poor) minus P(poor) with the theme's mention removed."""
        rows, cols = self.theme_rows, self.theme_cols
        eta = self.x @ b
        drop = w[rows] * (sigmoid(eta[rows]) - sigmoid(eta[rows] - b[1 + cols]))
        return np.bincount(cols, weights=drop, minlength=self.k) / w.sum()


def _dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Indicator columns for every level but the most frequent one (the reference)."""
    values = values.fillna("Unknown").astype(str)
    levels = values.value_counts()
    if len(levels) < 2:
        return pd.DataFrame(index=values.index)
    reference = sorted(levels[levels == levels.max()].index)[0]
    out = pd.get_dummies(values, prefix=prefix, prefix_sep="=", dtype=float)
    return out.drop(columns=[f"{prefix}={reference}"])


def _patterns(pop: pd.DataFrame, feature: pd.DataFrame, controls: list[str], cfg: Mapping[str, Any]) -> _Patterns:
    """The scope's design (intercept, themes, control dummies) collapsed into patterns."""
    k, n = feature.shape[1], len(pop)
    control_frames = [_dummies(pop[c], c) for c in controls]
    ctrl = pd.concat(control_frames, axis=1) if control_frames else pd.DataFrame(index=pop.index)
    y = pop["y"].to_numpy(dtype=float)
    design = np.hstack(
        [
            np.ones((n, 1), dtype=np.int8),
            feature.to_numpy(dtype=np.int8),
            ctrl.to_numpy(dtype=np.int8),
            y.astype(np.int8)[:, None],
        ]
    )
    patterns, counts = np.unique(design, axis=0, return_counts=True)
    p = design.shape[1] - 1
    # Dense BLAS or sparse pairs, whichever makes the Gram matrix cheaper (see _PAIR_COST).
    dense = patterns[:, :p].astype(float)
    pairs = float(np.sum(np.count_nonzero(dense, axis=1).astype(float) ** 2))
    use_sparse = _PAIR_COST * pairs < dense.shape[0] * dense.shape[1] ** 2
    lam = np.concatenate(
        [[0.0], np.full(k, 1 / cfg["prior_sd"] ** 2), np.full(ctrl.shape[1], 1 / cfg["control_prior_sd"] ** 2)]
    )
    rows, cols = np.nonzero(patterns[:, 1 : 1 + k])
    return _Patterns(
        x=Design(sparse.csr_matrix(dense) if use_sparse else dense),
        y=patterns[:, p].astype(float),
        counts=counts.astype(float),
        prior_precision=lam,
        k=k,
        theme_rows=rows,
        theme_cols=cols,
    )


def _fit_scope(
    pop: pd.DataFrame,
    feature: pd.DataFrame,
    any_mention: pd.DataFrame,
    positive: pd.DataFrame,
    controls: list[str],
    cfg: Mapping[str, Any],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Fit one (outcome, scope) model; ``feature``/``any_mention``/``positive`` are 0/1 frames."""
    pat = _patterns(pop, feature, controls, cfg)
    beta = fit_logit(pat.x, pat.y, pat.counts, pat.prior_precision)
    importance = pat.attributable(beta, pat.counts)
    boot_beta, boot_imp = _bootstrap(
        pat.x, pat.y, pat.counts, pat.prior_precision, beta, pat.attributable, int(cfg["bootstrap_reps"]), rng
    )
    coef = beta[1 : 1 + pat.k]
    ci = _intervals(coef, boot_beta, boot_imp, float(cfg["ci_level"]))
    return _theme_rows(pop, feature, any_mention, positive, importance, coef, ci)


def _bootstrap(
    x: Design,
    y: np.ndarray,
    counts: np.ndarray,
    lam: np.ndarray,
    beta: np.ndarray,
    attributable: Callable[[np.ndarray, np.ndarray], np.ndarray],
    reps: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and importances over ``reps`` resamples of the responses (NaN rows: skipped).

    ``x`` holds covariate patterns with ``counts`` responses each; drawing n responses with
    replacement is a multinomial draw of n over the patterns with probabilities counts / n.
    """
    n = int(counts.sum())
    k = len(attributable(beta, counts))
    boot_beta = np.full((reps, k), np.nan)
    boot_imp = np.full((reps, k), np.nan)
    probs = counts / n
    draws = np.stack([rng.multinomial(n, probs) for _ in range(reps)]).astype(float) if reps else np.zeros((0, len(y)))
    # A resample without both outcomes has no estimate (its row stays NaN).
    valid = np.flatnonzero((draws[:, y == 1].sum(axis=1) > 0) & (draws[:, y == 0].sum(axis=1) > 0))
    fitted = fit_logit_many(x, y, draws[valid], lam, start=beta, max_iter=25, tol=1e-6)
    for r, b in zip(valid, fitted, strict=True):
        boot_beta[r] = b[1 : 1 + k]
        boot_imp[r] = attributable(b, draws[r])
    return boot_beta, boot_imp


def _intervals(
    coef: np.ndarray, boot_beta: np.ndarray, boot_imp: np.ndarray, level: float
) -> dict[str, np.ndarray | int]:
    """Percentile intervals of coefficients and importances, bootstrap p-values, valid reps.

    With fewer than 10 successful resamples the intervals and p-values are NaN.
    """
    k = len(coef)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    valid = ~np.isnan(boot_beta[:, 0])
    if valid.sum() >= 10:
        ci_low, ci_high = np.quantile(boot_beta[valid], [lo_q, hi_q], axis=0)
        imp_low, imp_high = np.quantile(boot_imp[valid], [lo_q, hi_q], axis=0)
        se = boot_beta[valid].std(axis=0, ddof=1)
    else:
        ci_low = ci_high = imp_low = imp_high = se = np.full(k, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = 2 * stats.norm.sf(np.abs(coef / se))
    return {
        "ci_low": ci_low,
        "ci_high": ci_high,
        "importance_ci_low": imp_low,
        "importance_ci_high": imp_high,
        "p_value": p_value,
        "reps": int(valid.sum()),
    }


def _theme_rows(
    pop: pd.DataFrame,
    feature: pd.DataFrame,
    any_mention: pd.DataFrame,
    positive: pd.DataFrame,
    importance: np.ndarray,
    coef: np.ndarray,
    ci: Mapping[str, Any],
) -> pd.DataFrame:
    """One driver row per theme: model estimates and the descriptive rates beside them."""
    themes = list(feature.columns)
    y = pop["y"].to_numpy(dtype=float)
    feat = feature.to_numpy(dtype=bool)
    mention = any_mention.reindex(columns=themes, fill_value=0).to_numpy(dtype=bool)
    pos = positive.reindex(columns=themes, fill_value=0).to_numpy(dtype=bool)
    rating = pop["rating_value"].to_numpy(dtype=float)
    rate = y.mean()
    out = []
    for j, theme in enumerate(themes):
        f, m = feat[:, j], mention[:, j]
        rated = rating[m][~np.isnan(rating[m])]
        out.append(
            {
                "theme_id": theme,
                "importance": importance[j],
                "importance_ci_low": ci["importance_ci_low"][j],
                "importance_ci_high": ci["importance_ci_high"][j],
                "importance_share": importance[j] / rate if rate > 0 else np.nan,
                "coef": coef[j],
                "ci_low": ci["ci_low"][j],
                "ci_high": ci["ci_high"][j],
                "odds_ratio": float(np.exp(coef[j])),
                "p_value": ci["p_value"][j],
                "prevalence": f.mean(),
                "n": int(f.sum()),
                "mentions": int(m.sum()),
                "outcome_rate_with": y[f].mean() if f.any() else np.nan,
                "outcome_rate_without": y[~f].mean() if (~f).any() else np.nan,
                "performance": rated.mean() if len(rated) else np.nan,
                "positive_share": pos[:, j][m].mean() if m.any() else np.nan,
                "n_scope": len(pop),
                "events": int(y.sum()),
                "bootstrap_reps": ci["reps"],
            }
        )
    return pd.DataFrame(out)
