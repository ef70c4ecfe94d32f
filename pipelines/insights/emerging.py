"""Emerging themes: each theme x segment x month against the segment's trailing baseline.

The month's share of informative comments carrying the theme is compared with the same
segment's previous ``baseline_months`` calendar months by a one-sided Fisher exact test; when
the baseline months vary more than binomially, a dispersion-inflated z-test must pass too.
:func:`select_alerts` adds Benjamini-Hochberg q-values over the family and keeps the alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.insights.significance import bh_qvalues, fisher_greater
from pipelines.insights.units import unit_meta, with_unit_columns

__all__ = ["EMERGING_METHOD", "TEST_COLUMNS", "emerging_tests", "select_alerts"]

EMERGING_METHOD = "fisher_trailing_baseline"

# Columns of emerging_tests(), in order.
TEST_COLUMNS = [
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


@dataclass
class _Grid:
    """Month columns (``m0`` .. ``m0 + months - 1``) for every theme x segment series."""

    m0: int
    months: int
    series: pd.DataFrame  # theme_id, segment_type, segment_value per row of the matrices
    themed: pd.DataFrame  # the theme rows the matrices were filled from
    x: np.ndarray  # theme comments
    n: np.ndarray  # informative comments of the series' segment
    negative: np.ndarray  # negative theme comments (NaN when the input has none)


@dataclass
class _Baseline:
    """Trailing-window sums per series-month (the month itself excluded) and the dispersion."""

    x: np.ndarray
    n: np.ndarray
    months: np.ndarray
    dispersion: np.ndarray


def emerging_tests(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every eligible theme x segment x month comparison against its trailing baseline.

    Args:
        counts: one row per (segment_type, segment_value, period, theme_id) with ``comments``;
            rows with a null ``theme_id`` hold the segment-month's informative comments (the
            denominator). ``period`` is the first day of a month. Optional columns ``level``
            (theme | category) and ``category_id`` are carried through.
        cfg: the ``emerging`` section of the insights config.

    Returns:
        One row per comparison in the test family (columns :data:`TEST_COLUMNS`), without
        q-values.
    """
    grid = _month_grid(counts, cfg["segments"])
    if grid is None:
        return pd.DataFrame(columns=TEST_COLUMNS)
    base = _baseline(grid, cfg)
    eligible = (
        (grid.n >= cfg["min_segment_comments"])
        & (base.n >= cfg["min_baseline_comments"])
        & (base.months >= cfg["min_baseline_months"])
        & (grid.x + base.x >= cfg["min_theme_total"])
    )
    si, mi = np.nonzero(eligible)
    if len(si) == 0:
        return pd.DataFrame(columns=TEST_COLUMNS)
    out = _comparisons(grid, base, si, mi, cfg)
    out = out.merge(unit_meta(grid.themed), on="theme_id", how="left")
    out = out[TEST_COLUMNS]
    return out.sort_values(["period", "segment_type", "segment_value", "theme_id"], ignore_index=True)


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
# Steps
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


def _month_grid(counts: pd.DataFrame, segments: list[str]) -> _Grid | None:
    """The count frame as series x month matrices; None when nothing is left to test."""
    frame = with_unit_columns(counts)
    frame = frame[frame["segment_type"].isin(segments)].copy()
    if frame.empty:
        return None
    frame["m"] = _month_number(frame["period"])
    m0, m1 = int(frame["m"].min()), int(frame["m"].max())
    months = m1 - m0 + 1
    totals = frame[frame["theme_id"].isna()]
    themed = frame[frame["theme_id"].notna()]
    if totals.empty or themed.empty:
        return None
    seg_index, n_mat = _segment_totals(totals, m0, months)
    series = themed[["theme_id", "segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    series = series[
        [(s, v) in seg_index for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    ].reset_index(drop=True)
    if series.empty:
        return None
    series_seg = np.array(
        [seg_index[(s, v)] for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    )
    themed, x_mat, neg_mat = _series_counts(themed, series, m0, months)
    n_ser = n_mat[series_seg]
    # A theme cannot be in more comments than the cell has (guards against inconsistent input).
    x_mat = np.minimum(x_mat, n_ser)
    return _Grid(m0=m0, months=months, series=series, themed=themed, x=x_mat, n=n_ser, negative=neg_mat)


def _segment_totals(totals: pd.DataFrame, m0: int, months: int) -> tuple[dict[tuple[Any, Any], int], np.ndarray]:
    """Row of every (segment_type, segment_value) and its segment x month comment counts."""
    seg_keys = totals[["segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    seg_index = {tuple(k): i for i, k in enumerate(seg_keys.itertuples(index=False, name=None))}
    n_mat = np.zeros((len(seg_keys), months))
    n_mat[
        totals.apply(lambda r: seg_index[(r.segment_type, r.segment_value)], axis=1).to_numpy(),
        (totals["m"] - m0).to_numpy(),
    ] = totals["comments"].to_numpy(dtype=float)
    return seg_index, n_mat


def _series_counts(
    themed: pd.DataFrame, series: pd.DataFrame, m0: int, months: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Theme rows of known series, and their series x month (negative) comment counts."""
    series_index = {tuple(k): i for i, k in enumerate(series.itertuples(index=False, name=None))}
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
    return themed, x_mat, neg_mat


def _baseline(grid: _Grid, cfg: Mapping[str, Any]) -> _Baseline:
    """Trailing sums and the baseline's dispersion (Pearson chi2 / df of its months, clipped)."""
    window = int(cfg["baseline_months"])
    x_mat, n_ser = grid.x, grid.n
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
    return _Baseline(x=xb, n=nb, months=kb, dispersion=disp)


def _comparisons(grid: _Grid, base: _Baseline, si: np.ndarray, mi: np.ndarray, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Test statistics of the series-months (si, mi) as one frame (without unit metadata)."""
    x, n = grid.x[si, mi], grid.n[si, mi]
    xr, nr = base.x[si, mi], base.n[si, mi]
    phi = base.dispersion[si, mi]
    share = x / n
    base_share = xr / nr
    p_exact = fisher_greater(x, n, xr, nr)
    pooled = (x + xr) / (n + nr)
    se0 = np.sqrt(phi * pooled * (1 - pooled) * (1 / n + 1 / nr))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se0 > 0, (share - base_share) / se0, 0.0)
    p_disp = stats.norm.sf(z)
    p_value = np.where(phi > 1.0, np.maximum(p_exact, p_disp), p_exact)
    # Approximate one-sided lower confidence bound of the rise (share - baseline), dispersion-aware.
    z_alpha = stats.norm.isf(float(cfg["alpha"]))
    ci_low = (share - base_share) - z_alpha * np.sqrt(
        phi * (share * (1 - share) / n + base_share * (1 - base_share) / nr)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(base_share > 0, share / base_share, np.nan)
    month_starts = [date(int(v) // 12, int(v) % 12 + 1, 1) for v in range(grid.m0, grid.m0 + grid.months)]
    first = np.maximum(mi - int(cfg["baseline_months"]), 0)
    return pd.DataFrame(
        {
            "theme_id": grid.series["theme_id"].to_numpy()[si],
            "segment_type": grid.series["segment_type"].to_numpy()[si],
            "segment_value": grid.series["segment_value"].to_numpy()[si],
            "period": [month_starts[i] for i in mi],
            "count": x.astype(np.int64),
            "total": n.astype(np.int64),
            "share": share,
            "baseline_count": xr.astype(np.int64),
            "baseline_total": nr.astype(np.int64),
            "baseline_share": base_share,
            "baseline_from": [month_starts[i] for i in first],
            "baseline_to": [month_starts[i - 1] for i in mi],
            "baseline_months": base.months[si, mi].astype(np.int64),
            "increase": share - base_share,
            "lift": lift,
            "dispersion": phi,
            "p_exact": p_exact,
            "p_value": p_value,
            "ci_low": ci_low,
            "negative_share": np.where(x > 0, grid.negative[si, mi] / np.maximum(x, 1), np.nan),
        }
    )
