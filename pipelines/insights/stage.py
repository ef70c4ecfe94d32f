"""Insights over the theme stage's output: emerging themes, key drivers and segment lift.

What one call of :func:`run_insights` does (methods, assumptions and limits: ``docs/insights.md``;
parameters: ``models/themes/insights.yaml``):

1. **Emerging themes.** For every theme x segment (all, each site, service, channel) x month,
   the month's share of informative comments carrying the theme is compared with the same
   segment's trailing baseline (the previous ``baseline_months`` calendar months) by a
   one-sided Fisher exact test; when the baseline months vary more than binomially, a
   dispersion-inflated z-test must pass too. Comparisons with enough comments enter one
   Benjamini-Hochberg family per run; an alert needs q <= alpha, a minimum count and a minimum
   rise (lift and absolute increase), and carries three redacted quotes.
2. **Key drivers.** Per outcome (FFT Poor/Very poor, NPS detractor) and scope (all, each
   service), a logistic regression of the poor outcome on the themes each survey response
   mentions negatively (weakly informative Gaussian prior, controls for service/site); the
   importance of a theme is the share of the outcome attributable to it, with non-parametric
   bootstrap confidence intervals.
3. **Segment lift.** For every theme and segment (site, service, channel, weekday, hour band,
   month), the share of comments with a negative mention in the segment against the rest of
   the data, one-sided Fisher exact test, BH across the run.

Tables written: ``enrich.theme_alerts``, ``enrich.key_drivers``, ``enrich.segment_lift``,
``enrich.insight_runs`` (one transaction; re-running a run id replaces its rows). The inputs
are read from the intermediate views (fresh within the theme stage) and ``marts.fct_responses``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import time
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse, stats

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.provenance import deep_merge

__all__ = [
    "DEFAULT_CONFIG",
    "Design",
    "bh_qvalues",
    "emerging_tests",
    "fit_logit",
    "key_drivers",
    "load_config",
    "run_insights",
    "segment_lift",
    "select_alerts",
]

log = logging.getLogger(__name__)

EMERGING_METHOD = "fisher_trailing_baseline"
LIFT_METHOD = "fisher_one_sided"
DRIVER_METHOD = "logit_gaussian_prior_bootstrap"
# Design matrices (patterns x coefficients) above this many cells are fitted as sparse.
_DENSE_LIMIT = 400_000

# Defaults for every key of models/themes/insights.yaml; the YAML overrides them.
DEFAULT_CONFIG: dict[str, Any] = {
    "version": 1,
    "emerging": {
        "segments": ["all", "site", "service", "channel"],
        "baseline_months": 6,
        "min_baseline_months": 3,
        "min_baseline_comments": 60,
        "min_segment_comments": 30,
        "min_theme_total": 5,
        "min_theme_comments": 8,
        "min_lift": 1.5,
        "min_increase": 0.02,
        "alpha": 0.05,
        "fdr_family": "run",
        "overdispersion": True,
        "max_dispersion": 10.0,
        "quotes": 3,
        "quote_max_chars": 280,
    },
    "drivers": {
        "outcomes": ["fft_poor", "nps_detractor"],
        "scopes": ["all", "service"],
        "mention": "negative",
        "min_scope_responses": 100,
        "min_events": 20,
        "min_mentions": 10,
        "prior_sd": 2.5,
        "control_prior_sd": 5.0,
        "bootstrap_reps": 200,
        "ci_level": 0.95,
        "alpha": 0.05,
    },
    "lift": {
        "segments": ["site", "service", "channel", "weekday", "hour_band", "month"],
        "mention": "negative",
        "min_segment_comments": 30,
        "min_theme_total": 10,
        "min_theme_comments": 5,
        "min_lift": 1.2,
        "alpha": 0.05,
    },
}

# Which responses each outcome is defined on, and what counts as the poor outcome.
OUTCOMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "fft_poor": ("fft_category", ("positive", "neutral", "negative"), "negative"),
    "nps_detractor": ("nps_class", ("promoter", "passive", "detractor"), "detractor"),
}


class InsightsError(RuntimeError):
    """The insights configuration or input is unusable."""


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------
def config_path(settings: Settings) -> Path:
    """Where the insights parameters live (``models/themes/insights.yaml``)."""
    return settings.models_dir / "themes" / "insights.yaml"


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Insights parameters: defaults, overridden by the YAML at ``path`` (if any), then ``overrides``.

    Raises:
        InsightsError: for an unknown outcome, segment type or FDR family.
    """
    import yaml

    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if path is not None and Path(path).is_file():
        cfg = deep_merge(cfg, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    cfg = deep_merge(cfg, overrides)
    unknown = set(cfg["drivers"]["outcomes"]) - set(OUTCOMES)
    if unknown:
        raise InsightsError(f"unknown driver outcome(s) {sorted(unknown)}: use {sorted(OUTCOMES)}")
    if set(cfg["emerging"]["segments"]) - {"all", "site", "service", "channel"}:
        raise InsightsError("emerging.segments may hold only all, site, service, channel")
    if set(cfg["lift"]["segments"]) - {"site", "service", "channel", "weekday", "hour_band", "month"}:
        raise InsightsError("lift.segments may hold only site, service, channel, weekday, hour_band, month")
    if cfg["emerging"]["fdr_family"] not in {"run", "period"}:
        raise InsightsError("emerging.fdr_family must be 'run' or 'period'")
    for part in ("drivers", "lift"):
        if cfg[part]["mention"] not in {"negative", "any"}:
            raise InsightsError(f"{part}.mention must be 'negative' or 'any'")
    return cfg


def params_hash(cfg: Mapping[str, Any]) -> str:
    """Short stable hash of the parameters a run used."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:10]


# --------------------------------------------------------------------------------------
# Multiple comparisons
# --------------------------------------------------------------------------------------
def bh_qvalues(p_values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaNs stay NaN and are not counted.

    Rejecting every hypothesis with q <= alpha controls the false discovery rate at alpha
    for independent or positively dependent tests (Benjamini & Hochberg 1995; Benjamini &
    Yekutieli 2001).
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    q[ok] = out
    return q


def _fisher_greater(x: np.ndarray, n: np.ndarray, x_ref: np.ndarray, n_ref: np.ndarray) -> np.ndarray:
    """One-sided Fisher exact p-values, P(X >= x), for "share x/n exceeds x_ref/n_ref" (vectorised).

    Conditional on both margins, the count in the first group is hypergeometric: population
    n + n_ref, successes x + x_ref, draws n.
    """
    x = np.asarray(x, dtype=np.int64)
    return stats.hypergeom.sf(
        x - 1,
        np.asarray(n + n_ref, dtype=np.int64),
        np.asarray(x + x_ref, dtype=np.int64),
        np.asarray(n, dtype=np.int64),
    )


# --------------------------------------------------------------------------------------
# Emerging themes
# --------------------------------------------------------------------------------------
def _month_number(periods: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(periods)
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype=np.int64)


def _rolling(mat: np.ndarray, window: int) -> np.ndarray:
    """Sum of the previous ``window`` columns, excluding the current one (0 where none)."""
    csum = np.concatenate([np.zeros((mat.shape[0], 1)), np.cumsum(mat, axis=1)], axis=1)
    idx = np.arange(mat.shape[1])
    lo = np.maximum(idx - window, 0)
    return csum[:, idx] - csum[:, lo]


def emerging_tests(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every eligible theme x segment x month comparison against its trailing baseline.

    Args:
        counts: one row per (segment_type, segment_value, period, theme_id) with ``comments``;
            rows with a null ``theme_id`` hold the segment-month's informative comments (the
            denominator). ``period`` is the first day of a month. Optional columns ``level``
            (theme | category) and ``category_id`` are carried through.
        cfg: the ``emerging`` section of the insights config.

    Returns:
        One row per comparison in the test family (columns level, theme_id, category_id,
        segment_type, segment_value, period, count, total, share, baseline_count, baseline_total,
        baseline_share, baseline_from, baseline_to, baseline_months, increase, lift,
        dispersion, p_exact, p_value, ci_low, negative_share), without q-values.
    """
    columns = [
        "level",
        "theme_id",
        "category_id",
        "segment_type",
        "segment_value",
        "period",
        "count",
        "total",
        "share",
        "baseline_count",
        "baseline_total",
        "baseline_share",
        "baseline_from",
        "baseline_to",
        "baseline_months",
        "increase",
        "lift",
        "dispersion",
        "p_exact",
        "p_value",
        "ci_low",
        "negative_share",
    ]
    frame = _with_unit_columns(counts)
    frame = frame[frame["segment_type"].isin(cfg["segments"])].copy()
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["m"] = _month_number(frame["period"])
    m0, m1 = int(frame["m"].min()), int(frame["m"].max())
    months = m1 - m0 + 1
    totals = frame[frame["theme_id"].isna()]
    themed = frame[frame["theme_id"].notna()]
    if totals.empty or themed.empty:
        return pd.DataFrame(columns=columns)

    seg_keys = totals[["segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    seg_index = {tuple(k): i for i, k in enumerate(seg_keys.itertuples(index=False, name=None))}
    n_mat = np.zeros((len(seg_keys), months))
    n_mat[
        totals.apply(lambda r: seg_index[(r.segment_type, r.segment_value)], axis=1).to_numpy(),
        (totals["m"] - m0).to_numpy(),
    ] = totals["comments"].to_numpy(dtype=float)

    series = themed[["theme_id", "segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    series = series[
        [(s, v) in seg_index for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    ].reset_index(drop=True)
    if series.empty:
        return pd.DataFrame(columns=columns)
    series_index = {tuple(k): i for i, k in enumerate(series.itertuples(index=False, name=None))}
    series_seg = np.array(
        [seg_index[(s, v)] for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    )
    keep = [
        (t, s, v) in series_index
        for t, s, v in zip(themed["theme_id"], themed["segment_type"], themed["segment_value"], strict=True)
    ]
    themed = themed[keep]
    x_mat = np.zeros((len(series), months))
    rows = np.array(
        [
            series_index[(t, s, v)]
            for t, s, v in zip(themed["theme_id"], themed["segment_type"], themed["segment_value"], strict=True)
        ]
    )
    x_mat[rows, (themed["m"] - m0).to_numpy()] = themed["comments"].to_numpy(dtype=float)
    neg_mat = np.full((len(series), months), np.nan)
    if "negative_comments" in themed:
        neg_mat[rows, (themed["m"] - m0).to_numpy()] = themed["negative_comments"].to_numpy(dtype=float)
    n_ser = n_mat[series_seg]
    # A theme cannot be in more comments than the cell has (guards against inconsistent input).
    x_mat = np.minimum(x_mat, n_ser)

    window = int(cfg["baseline_months"])
    xb = _rolling(x_mat, window)
    nb = _rolling(n_ser, window)
    kb = _rolling((n_ser > 0).astype(float), window)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = _rolling(np.where(n_ser > 0, x_mat**2 / np.where(n_ser > 0, n_ser, 1), 0.0), window)
        p0 = np.where(nb > 0, xb / nb, np.nan)
        chi2 = (s2 - np.where(nb > 0, xb**2 / nb, 0.0)) / (p0 * (1 - p0))
        disp = np.where((kb >= 2) & (p0 > 0) & (p0 < 1), chi2 / np.maximum(kb - 1, 1), 1.0)
    disp = np.clip(np.nan_to_num(disp, nan=1.0), 1.0, float(cfg["max_dispersion"]))
    if not cfg.get("overdispersion", True):
        disp = np.ones_like(disp)

    eligible = (
        (n_ser >= cfg["min_segment_comments"])
        & (nb >= cfg["min_baseline_comments"])
        & (kb >= cfg["min_baseline_months"])
        & (x_mat + xb >= cfg["min_theme_total"])
    )
    si, mi = np.nonzero(eligible)
    if len(si) == 0:
        return pd.DataFrame(columns=columns)
    x, n = x_mat[si, mi], n_ser[si, mi]
    xr, nr = xb[si, mi], nb[si, mi]
    phi = disp[si, mi]
    share = x / n
    base = xr / nr
    p_exact = _fisher_greater(x, n, xr, nr)
    pooled = (x + xr) / (n + nr)
    se0 = np.sqrt(phi * pooled * (1 - pooled) * (1 / n + 1 / nr))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se0 > 0, (share - base) / se0, 0.0)
    p_disp = stats.norm.sf(z)
    p_value = np.where(phi > 1.0, np.maximum(p_exact, p_disp), p_exact)
    # Approximate one-sided lower confidence bound of the rise (share - baseline), dispersion-aware.
    z_alpha = stats.norm.isf(float(cfg["alpha"]))
    ci_low = (share - base) - z_alpha * np.sqrt(phi * (share * (1 - share) / n + base * (1 - base) / nr))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(base > 0, share / base, np.nan)

    month_starts = [date(int(v) // 12, int(v) % 12 + 1, 1) for v in range(m0, m1 + 1)]
    first = np.maximum(mi - window, 0)
    out = pd.DataFrame(
        {
            "theme_id": series["theme_id"].to_numpy()[si],
            "segment_type": series["segment_type"].to_numpy()[si],
            "segment_value": series["segment_value"].to_numpy()[si],
            "period": [month_starts[i] for i in mi],
            "count": x.astype(np.int64),
            "total": n.astype(np.int64),
            "share": share,
            "baseline_count": xr.astype(np.int64),
            "baseline_total": nr.astype(np.int64),
            "baseline_share": base,
            "baseline_from": [month_starts[i] for i in first],
            "baseline_to": [month_starts[i - 1] for i in mi],
            "baseline_months": kb[si, mi].astype(np.int64),
            "increase": share - base,
            "lift": lift,
            "dispersion": phi,
            "p_exact": p_exact,
            "p_value": p_value,
            "ci_low": ci_low,
            "negative_share": np.where(x > 0, neg_mat[si, mi] / np.maximum(x, 1), np.nan),
        }
    )
    out = out.merge(_unit_meta(themed), on="theme_id", how="left")
    out = out[columns]
    return out.sort_values(["period", "segment_type", "segment_value", "theme_id"], ignore_index=True)


def _with_unit_columns(counts: pd.DataFrame) -> pd.DataFrame:
    frame = counts.copy()
    if "level" not in frame:
        frame["level"] = np.where(frame["theme_id"].isna(), None, "theme")
    if "category_id" not in frame:
        frame["category_id"] = None
    return frame


def _unit_meta(themed: pd.DataFrame) -> pd.DataFrame:
    """Level and category_id of every theme / category unit."""
    return themed[["theme_id", "level", "category_id"]].drop_duplicates("theme_id")


def select_alerts(tests: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Add BH q-values and the family size to ``tests`` and keep the comparisons that alert.

    An alert needs q <= alpha, at least ``min_theme_comments`` theme comments, a lift of at
    least ``min_lift`` (or a theme absent from the baseline) and a rise of ``min_increase``.
    """
    tests = tests.copy()
    if tests.empty:
        tests["q_value"] = pd.Series(dtype=float)
        tests["family_size"] = pd.Series(dtype="int64")
        return tests
    if cfg["fdr_family"] == "period":
        tests["q_value"] = tests.groupby("period")["p_value"].transform(lambda p: bh_qvalues(p.to_numpy()))
        tests["family_size"] = tests.groupby("period")["p_value"].transform("size").astype("int64")
    else:
        tests["q_value"] = bh_qvalues(tests["p_value"].to_numpy())
        tests["family_size"] = len(tests)
    alert = (
        (tests["q_value"] <= cfg["alpha"])
        & (tests["count"] >= cfg["min_theme_comments"])
        & (tests["lift"].isna() | (tests["lift"] >= cfg["min_lift"]))
        & (tests["increase"] >= cfg["min_increase"])
    )
    return tests[alert].reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Segment lift
# --------------------------------------------------------------------------------------
def segment_lift(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Theme concentration per segment versus the rest of the segment type, BH-corrected.

    Args:
        counts: one row per (segment_type, segment_value, theme_id) with ``comments_any`` and
            ``comments_negative``; rows with a null ``theme_id`` hold the segment's informative
            comments.
        cfg: the ``lift`` section of the insights config.

    Returns:
        One row per tested (theme, segment): n (theme comments in the segment), total,
        share_in_segment, count_elsewhere, total_elsewhere, share_elsewhere, lift, p_value,
        q_value, is_significant, mention, method.
    """
    column = "comments_negative" if cfg["mention"] == "negative" else "comments_any"
    frame = _with_unit_columns(counts)
    frame = frame[frame["segment_type"].isin(cfg["segments"])]
    totals = frame[frame["theme_id"].isna()][["segment_type", "segment_value", "comments_any"]]
    totals = totals.rename(columns={"comments_any": "total"})
    themed = frame[frame["theme_id"].notna()][["segment_type", "segment_value", "theme_id", column]]
    themed = themed.rename(columns={column: "n"})
    if totals.empty or themed.empty:
        return pd.DataFrame(columns=[c for c in _LIFT_COLUMNS if c != "run_id"])
    # Zero-fill: every theme seen in a segment type is tested in every value of that type.
    pairs = themed[["segment_type", "theme_id"]].drop_duplicates()
    grid = pairs.merge(totals, on="segment_type")
    grid = grid.merge(themed, on=["segment_type", "segment_value", "theme_id"], how="left")
    grid["n"] = grid["n"].fillna(0).astype(np.int64)
    grid["total"] = grid["total"].astype(np.int64)
    grid["n"] = np.minimum(grid["n"], grid["total"])
    type_total = grid.groupby(["segment_type", "theme_id"])["total"].transform("sum")
    theme_total = grid.groupby(["segment_type", "theme_id"])["n"].transform("sum")
    grid["count_elsewhere"] = (theme_total - grid["n"]).astype(np.int64)
    grid["total_elsewhere"] = (type_total - grid["total"]).astype(np.int64)
    eligible = (
        (grid["total"] >= cfg["min_segment_comments"])
        & (grid["total_elsewhere"] >= cfg["min_segment_comments"])
        & (theme_total >= cfg["min_theme_total"])
    )
    grid = grid[eligible].reset_index(drop=True)
    grid["share_in_segment"] = grid["n"] / grid["total"]
    grid["share_elsewhere"] = grid["count_elsewhere"] / grid["total_elsewhere"]
    with np.errstate(divide="ignore", invalid="ignore"):
        grid["lift"] = np.where(grid["share_elsewhere"] > 0, grid["share_in_segment"] / grid["share_elsewhere"], np.nan)
    grid["p_value"] = _fisher_greater(
        grid["n"].to_numpy(),
        grid["total"].to_numpy(),
        grid["count_elsewhere"].to_numpy(),
        grid["total_elsewhere"].to_numpy(),
    )
    grid["q_value"] = bh_qvalues(grid["p_value"].to_numpy())
    grid["is_significant"] = (
        (grid["q_value"] <= cfg["alpha"])
        & (grid["n"] >= cfg["min_theme_comments"])
        & (grid["lift"].isna() | (grid["lift"] >= cfg["min_lift"]))
    )
    grid["mention"] = cfg["mention"]
    grid["method"] = LIFT_METHOD
    grid = grid.merge(_unit_meta(frame[frame["theme_id"].notna()]), on="theme_id", how="left")
    return grid.sort_values(["q_value", "lift"], ascending=[True, False], ignore_index=True)


# --------------------------------------------------------------------------------------
# Key drivers
# --------------------------------------------------------------------------------------
def _sigmoid(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))


class Design:
    """A fixed design matrix with fast products for repeated Newton fits (the bootstrap).

    Dense matrices use BLAS. Sparse ones (a response mentions a few themes) keep the CSR
    matrix for ``x @ b`` / ``x.T @ v`` and precompute, for X'WX, the list of column pairs that
    co-occur in each row, so the weighted Gram matrix is one ``bincount``.
    """

    def __init__(self, x: np.ndarray | sparse.spmatrix | sparse.sparray) -> None:
        self.shape = x.shape
        self.sparse = sparse.issparse(x)
        if not self.sparse:
            self.x = np.asarray(x, dtype=float)
            self.xt = self.x.T
            return
        csr = sparse.csr_matrix(x, dtype=float)
        csr.sort_indices()
        self.x, self.xt = csr, csr.T.tocsr()
        p = self.shape[1]
        nnz = np.diff(csr.indptr)
        rows, flat, vals = [], [], []
        for m in np.unique(nnz[nnz > 0]):
            which = np.flatnonzero(nnz == m)
            starts = csr.indptr[which][:, None] + np.arange(m)
            idx, val = csr.indices[starts], csr.data[starts]
            rows.append(np.repeat(which, m * m))
            flat.append((idx[:, :, None] * p + idx[:, None, :]).ravel())
            vals.append((val[:, :, None] * val[:, None, :]).ravel())
        self.pair_rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        self.pair_flat = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
        self.pair_vals = np.concatenate(vals) if vals else np.zeros(0)

    def __matmul__(self, b: np.ndarray) -> np.ndarray:
        return self.x @ b

    def rmatvec(self, v: np.ndarray) -> np.ndarray:
        """``x.T @ v``."""
        return self.xt @ v

    def gram(self, w: np.ndarray) -> np.ndarray:
        """``x.T @ diag(w) @ x`` as a dense array."""
        if not self.sparse:
            return (self.x * w[:, None]).T @ self.x
        p = self.shape[1]
        weights = w[self.pair_rows] * self.pair_vals
        return np.bincount(self.pair_flat, weights=weights, minlength=p * p).reshape(p, p)


def fit_logit(
    x: np.ndarray | sparse.spmatrix | sparse.sparray | Design,
    y: np.ndarray,
    weights: np.ndarray,
    prior_precision: np.ndarray,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """MAP logistic regression with independent Gaussian priors (Newton-Raphson, step halving).

    Args:
        x: design matrix, dense, scipy.sparse or a :class:`Design` (include an intercept
            column; its prior precision should be 0).
        y: 0/1 outcome per row.
        weights: frequency weight per row (bootstrap counts, or collapsed covariate patterns).
        prior_precision: 1 / prior variance per coefficient.
        start: starting coefficients (warm start for the bootstrap).
        max_iter: Newton iterations at most.
        tol: convergence tolerance on the largest coefficient change.

    Returns:
        The coefficient vector.
    """
    design = x if isinstance(x, Design) else Design(x)
    beta = np.zeros(design.shape[1]) if start is None else start.astype(float).copy()
    lam = np.asarray(prior_precision, dtype=float)
    ridge = np.diag(lam) + 1e-9 * np.eye(design.shape[1])

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(np.sum(weights * (y * eta - np.logaddexp(0.0, eta))) - 0.5 * np.sum(lam * b * b))

    current = objective(beta)
    for _ in range(max_iter):
        mu = _sigmoid(design @ beta)
        grad = design.rmatvec(weights * (y - mu)) - lam * beta
        step = np.linalg.solve(design.gram(weights * mu * (1 - mu)) + ridge, grad)
        t = 1.0
        while True:
            candidate = beta + t * step
            value = objective(candidate)
            if value >= current - 1e-12 or t < 1e-6:
                break
            t /= 2
        beta, current = candidate, value
        if np.max(np.abs(t * step)) < tol:
            break
    return beta


def _dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Indicator columns for every level but the most frequent one (the reference)."""
    values = values.fillna("Unknown").astype(str)
    levels = values.value_counts()
    if len(levels) < 2:
        return pd.DataFrame(index=values.index)
    reference = sorted(levels[levels == levels.max()].index)[0]
    out = pd.get_dummies(values, prefix=prefix, prefix_sep="=", dtype=float)
    return out.drop(columns=[f"{prefix}={reference}"])


def _scope_seed(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(parts).encode())])


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
    themes = list(feature.columns)
    k = len(themes)
    n = len(pop)
    control_frames = [_dummies(pop[c], c) for c in controls]
    ctrl = pd.concat(control_frames, axis=1) if control_frames else pd.DataFrame(index=pop.index)
    y = pop["y"].to_numpy(dtype=float)
    # Collapse identical (covariates, outcome) rows into weighted patterns: exact for the
    # likelihood, and resampling responses = multinomial counts over the patterns.
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
    yc = patterns[:, p].astype(float)
    wc = counts.astype(float)
    # Small problems: dense BLAS; large ones: sparse (a response mentions only a few themes).
    dense = patterns[:, :p].astype(float)
    x = Design(sparse.csr_matrix(dense) if dense.size > _DENSE_LIMIT else dense)
    lam = np.concatenate(
        [[0.0], np.full(k, 1 / cfg["prior_sd"] ** 2), np.full(ctrl.shape[1], 1 / cfg["control_prior_sd"] ** 2)]
    )
    beta = fit_logit(x, yc, wc, lam)
    rows, cols = np.nonzero(patterns[:, 1 : 1 + k])

    def attributable(b: np.ndarray, w: np.ndarray) -> np.ndarray:
        # Mean over responses of P(poor) minus P(poor) with the theme's mention removed.
        eta = x @ b
        drop = w[rows] * (_sigmoid(eta[rows]) - _sigmoid(eta[rows] - b[1 + cols]))
        return np.bincount(cols, weights=drop, minlength=k) / w.sum()

    importance = attributable(beta, wc)
    reps = int(cfg["bootstrap_reps"])
    boot_beta, boot_imp = _bootstrap(x, yc, wc, lam, beta, attributable, reps, rng)
    level = float(cfg["ci_level"])
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    valid = ~np.isnan(boot_beta[:, 0])
    coef = beta[1 : 1 + k]
    if valid.sum() >= 10:
        ci_low, ci_high = np.quantile(boot_beta[valid], [lo_q, hi_q], axis=0)
        imp_low, imp_high = np.quantile(boot_imp[valid], [lo_q, hi_q], axis=0)
        se = boot_beta[valid].std(axis=0, ddof=1)
    else:
        ci_low = ci_high = imp_low = imp_high = se = np.full(k, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = 2 * stats.norm.sf(np.abs(coef / se))
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
                "importance_ci_low": imp_low[j],
                "importance_ci_high": imp_high[j],
                "importance_share": importance[j] / rate if rate > 0 else np.nan,
                "coef": coef[j],
                "ci_low": ci_low[j],
                "ci_high": ci_high[j],
                "odds_ratio": float(np.exp(coef[j])),
                "p_value": p_value[j],
                "prevalence": f.mean(),
                "n": int(f.sum()),
                "mentions": int(m.sum()),
                "outcome_rate_with": y[f].mean() if f.any() else np.nan,
                "outcome_rate_without": y[~f].mean() if (~f).any() else np.nan,
                "performance": rated.mean() if len(rated) else np.nan,
                "positive_share": pos[:, j][m].mean() if m.any() else np.nan,
                "n_scope": n,
                "events": int(y.sum()),
                "bootstrap_reps": int(valid.sum()),
            }
        )
    return pd.DataFrame(out)


def _bootstrap(
    x: Design,
    y: np.ndarray,
    counts: np.ndarray,
    lam: np.ndarray,
    beta: np.ndarray,
    attributable: Any,
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
    for r in range(reps):
        wb = rng.multinomial(n, probs).astype(float)
        if wb[y == 1].sum() == 0 or wb[y == 0].sum() == 0:
            continue
        b = fit_logit(x, y, wb, lam, start=beta, max_iter=25, tol=1e-6)
        boot_beta[r] = b[1 : 1 + k]
        boot_imp[r] = attributable(b, wb)
    return boot_beta, boot_imp


def _single_threaded_blas() -> Any:
    """BLAS limited to one thread: the matrices are small and threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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


def key_drivers(
    responses: pd.DataFrame, mentions: pd.DataFrame, cfg: Mapping[str, Any], seed: int = 42
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Theme (and taxonomy category) drivers of poor outcomes per outcome and scope.

    Args:
        responses: one row per survey response: response_uid, site, service, rating_value and
            the outcome columns (fft_category, nps_class).
        mentions: one row per (response_uid, theme_id) with booleans ``negative`` and ``positive``
            and optionally the theme's ``category_id`` (then categories are modelled too).
        cfg: the ``drivers`` section of the insights config.
        seed: seed of the bootstrap.

    Returns:
        The driver rows (level, outcome, scope_type, scope, theme_id, category_id, importance with
        CI, coef with CI, odds_ratio, p/q values, prevalence, n, performance, ..., rank, method)
        and one record per (level, outcome, scope) that was skipped, with the reason.
    """
    responses = responses.drop_duplicates("response_uid").set_index("response_uid")
    mentions = mentions[mentions["response_uid"].isin(responses.index)].copy()
    if "category_id" not in mentions:
        mentions["category_id"] = None
    levels = [("theme", mentions)]
    if mentions["category_id"].notna().any():
        levels.append(("category", category_mentions(mentions)))
    results: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    for level, rows in levels:
        with _single_threaded_blas():
            found, missed = _drivers_for_level(responses, rows, cfg, seed, level)
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


def _drivers_for_level(
    responses: pd.DataFrame, mentions: pd.DataFrame, cfg: Mapping[str, Any], seed: int, level: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    results: list[pd.DataFrame] = []
    skipped: list[dict[str, Any]] = []
    flag = "negative" if cfg["mention"] == "negative" else None
    wide_feature = _wide(mentions, flag, responses.index)
    wide_any = _wide(mentions, None, responses.index)
    wide_pos = _wide(mentions, "positive", responses.index)
    for outcome in cfg["outcomes"]:
        column, valid_values, poor = OUTCOMES[outcome]
        if column not in responses:
            skipped.append({"outcome": outcome, "scope": "All", "reason": f"no column {column}"})
            continue
        base = responses[responses[column].isin(valid_values)].copy()
        base["y"] = (base[column] == poor).astype(float)
        scopes: list[tuple[str, str, pd.DataFrame, list[str]]] = []
        if "all" in cfg["scopes"]:
            scopes.append(("all", "All", base, ["service", "site"]))
        if "service" in cfg["scopes"]:
            for service, part in sorted(base.groupby("service"), key=lambda kv: str(kv[0])):
                scopes.append(("service", str(service), part, ["site"]))
        for scope_type, scope, pop, controls in scopes:
            events = int(pop["y"].sum())
            why = None
            if len(pop) < cfg["min_scope_responses"]:
                why = f"{len(pop)} responses < min_scope_responses {cfg['min_scope_responses']}"
            elif min(events, len(pop) - events) < cfg["min_events"]:
                why = f"{events} of {len(pop)} poor: fewer than min_events {cfg['min_events']} in a class"
            feature = wide_feature.loc[pop.index]
            feature = feature.loc[:, feature.sum() >= cfg["min_mentions"]]
            if why is None and feature.shape[1] == 0:
                why = f"no theme carried by min_mentions {cfg['min_mentions']} responses"
            if why is not None:
                skipped.append({"outcome": outcome, "scope": scope, "reason": why})
                continue
            rng = _scope_seed(seed, level, outcome, scope_type, scope)
            rows = _fit_scope(pop, feature, wide_any.loc[pop.index], wide_pos.loc[pop.index], controls, cfg, rng)
            rows.insert(0, "scope", scope)
            rows.insert(0, "scope_type", scope_type)
            rows.insert(0, "outcome", outcome)
            results.append(rows)
    return (pd.concat(results, ignore_index=True) if results else pd.DataFrame()), skipped


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


# --------------------------------------------------------------------------------------
# Warehouse I/O
# --------------------------------------------------------------------------------------
def _with_frame(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    name: str,
    frame_name: str,
    frame: pd.DataFrame,
    params: Mapping[str, Any] | None = None,
    fetch: bool = False,
) -> pd.DataFrame | None:
    """Run a named query that reads ``frame`` registered as ``frame_name``.

    The result is fetched before the frame is unregistered: DuckDB evaluates lazily, so a
    result fetched afterwards would silently see no rows.
    """
    con.register(frame_name, frame)
    try:
        cursor = warehouse.run_sql(con, settings, name, params)
        return cursor.df() if fetch else None
    finally:
        con.unregister(frame_name)


def _attach_quotes(
    con: duckdb.DuckDBPyConnection, settings: Settings, alerts: pd.DataFrame, cfg: Mapping[str, Any]
) -> pd.DataFrame:
    alerts = alerts.copy()
    if alerts.empty:
        alerts["quotes"] = pd.Series(dtype=str)
        return alerts
    alerts["alert_key"] = np.arange(len(alerts))
    keys = alerts[["alert_key", "level", "theme_id", "segment_type", "segment_value", "period"]].copy()
    keys["period"] = pd.to_datetime(keys["period"]).dt.date
    quotes = _with_frame(
        con,
        settings,
        "queries/insights/alert_quotes",
        "insights_alert_keys",
        keys,
        {"quotes": int(cfg["quotes"]), "max_chars": int(cfg["quote_max_chars"])},
        fetch=True,
    )
    by_key = {int(k): list(v) for k, v in zip(quotes["alert_key"], quotes["quotes"], strict=True)}
    alerts["quotes"] = [json.dumps(by_key.get(int(k), []), ensure_ascii=False) for k in alerts["alert_key"]]
    return alerts.drop(columns=["alert_key"])


_ALERT_COLUMNS = [
    "run_id",
    "level",
    "category_id",
    "theme_id",
    "segment_type",
    "segment_value",
    "period",
    "count",
    "share",
    "baseline_share",
    "p_value",
    "q_value",
    "lift",
    "quotes",
    "method",
    "total",
    "baseline_count",
    "baseline_total",
    "baseline_from",
    "baseline_to",
    "increase",
    "ci_low",
    "dispersion",
    "p_exact",
    "family_size",
    "negative_share",
]
_DRIVER_COLUMNS = [
    "run_id",
    "level",
    "category_id",
    "outcome",
    "scope",
    "theme_id",
    "importance",
    "coef",
    "ci_low",
    "ci_high",
    "prevalence",
    "n",
    "performance",
    "scope_type",
    "rank",
    "importance_ci_low",
    "importance_ci_high",
    "importance_share",
    "odds_ratio",
    "p_value",
    "q_value",
    "outcome_rate_with",
    "outcome_rate_without",
    "mentions",
    "positive_share",
    "n_scope",
    "events",
    "bootstrap_reps",
    "method",
]
_LIFT_COLUMNS = [
    "run_id",
    "level",
    "category_id",
    "theme_id",
    "segment_type",
    "segment_value",
    "n",
    "share_in_segment",
    "share_elsewhere",
    "lift",
    "p_value",
    "q_value",
    "total",
    "count_elsewhere",
    "total_elsewhere",
    "is_significant",
    "mention",
    "method",
]


def _finite(frame: pd.DataFrame) -> pd.DataFrame:
    """Infinite values become nulls (DuckDB stores inf, but reports and JSON do not want it)."""
    numeric = frame.select_dtypes(include=[np.number]).columns
    if len(numeric):
        frame[numeric] = frame[numeric].replace([np.inf, -np.inf], np.nan)
    return frame


def _write(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    kind: str,
    run_id: str,
    frame: pd.DataFrame,
    columns: list[str],
) -> None:
    warehouse.run_sql(con, settings, f"queries/insights/delete_{kind}", {"run_id": run_id})
    if frame.empty:
        return
    out = frame.assign(run_id=run_id).reindex(columns=columns)
    _with_frame(con, settings, f"queries/insights/insert_{kind}", "insights_incoming", _finite(out))


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def run_insights(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    config: Mapping[str, Any] | None = None,
) -> dict:
    """Compute emerging-theme alerts, key drivers and segment lift for one pipeline run.

    Call it after the theme stage has written its assignments, on the same connection; the
    marts over its tables are (re)built by the next ``warehouse.build_models``.

    Args:
        settings: project settings (seed, models_dir, sql_dir).
        con: open read-write warehouse connection (schema applied, models built at least once).
        run_id: pipeline run id; re-running the same id replaces its rows.
        config: optional overrides of ``models/themes/insights.yaml`` (same nesting).

    Returns:
        Summary: ``alerts``, ``emerging_tests`` (BH family size), ``driver_scopes`` (models
        fitted), ``drivers`` (theme rows), ``drivers_skipped``, ``lift_tests``,
        ``lift_significant``, ``insights_params_hash`` and ``seconds``.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    cfg = load_config(config_path(settings), config)
    timings: dict[str, float] = {}

    month_counts = warehouse.run_sql(con, settings, "queries/insights/month_counts").df()
    tests = emerging_tests(month_counts, cfg["emerging"])
    alerts = select_alerts(tests, cfg["emerging"])
    alerts = _attach_quotes(con, settings, alerts, cfg["emerging"])
    alerts["method"] = EMERGING_METHOD + ("+overdispersion" if cfg["emerging"]["overdispersion"] else "")
    timings["emerging"] = round(time.perf_counter() - clock, 3)

    responses = warehouse.run_sql(con, settings, "queries/insights/driver_responses").df()
    mentions = warehouse.run_sql(con, settings, "queries/insights/driver_mentions").df()
    drivers, skipped = key_drivers(responses, mentions, cfg["drivers"], seed=settings.seed)
    timings["drivers"] = round(time.perf_counter() - clock - timings["emerging"], 3)

    lift_counts = warehouse.run_sql(con, settings, "queries/insights/lift_counts").df()
    lift = segment_lift(lift_counts, cfg["lift"])
    timings["lift"] = round(time.perf_counter() - clock - timings["emerging"] - timings["drivers"], 3)

    periods = pd.to_datetime(month_counts["period"]) if not month_counts.empty else pd.Series(dtype="datetime64[ns]")
    summary = {
        "alerts": len(alerts),
        "emerging_tests": len(tests),
        "driver_scopes": int(drivers.groupby(["level", "outcome", "scope"]).ngroups) if not drivers.empty else 0,
        "drivers": len(drivers),
        "drivers_skipped": len(skipped),
        "lift_tests": len(lift),
        "lift_significant": int(lift["is_significant"].sum()) if not lift.empty else 0,
        "insights_params_hash": params_hash(cfg),
    }
    own_transaction = _begin(con)
    try:
        _write(con, settings, "alerts", run_id, alerts, _ALERT_COLUMNS)
        _write(con, settings, "drivers", run_id, drivers, _DRIVER_COLUMNS)
        _write(con, settings, "lift", run_id, lift, _LIFT_COLUMNS)
        summary["seconds"] = round(time.perf_counter() - clock, 2)
        warehouse.run_sql(
            con,
            settings,
            "queries/insights/upsert_run",
            {
                "run_id": run_id,
                "started_at": started,
                "finished_at": datetime.now(UTC),
                "params_hash": summary["insights_params_hash"],
                "params": json.dumps(cfg, sort_keys=True, default=str),
                "data_from": periods.min().date() if len(periods) else None,
                "data_to": periods.max().date() if len(periods) else None,
                "emerging_tests": summary["emerging_tests"],
                "alerts": summary["alerts"],
                "driver_scopes": summary["driver_scopes"],
                "drivers": summary["drivers"],
                "lift_tests": summary["lift_tests"],
                "lift_significant": summary["lift_significant"],
                "details": json.dumps({"skipped_driver_scopes": skipped, "seconds": timings}, default=str),
            },
        )
        if own_transaction:
            con.commit()
    except Exception:
        if own_transaction:
            con.rollback()
        raise
    log.info(
        "insights: %d alerts from %d comparisons, %d driver rows in %d scopes, %d/%d significant lifts",
        summary["alerts"],
        summary["emerging_tests"],
        summary["drivers"],
        summary["driver_scopes"],
        summary["lift_significant"],
        summary["lift_tests"],
    )
    return summary


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Start a transaction unless the caller already holds one (then the caller commits)."""
    try:
        con.begin()
    except duckdb.TransactionException:
        return False
    return True
