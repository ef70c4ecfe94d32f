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

__all__ = [
    "EMERGING_METHOD",
    "SOURCE_CHANGE_COLUMNS",
    "TEST_COLUMNS",
    "comparable_strata",
    "emerging_tests",
    "select_alerts",
    "source_changes",
]

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

# Columns of source_changes(), in order.
SOURCE_CHANGE_COLUMNS = [
    "segment_type",
    "segment_value",
    "period",
    "stratum",
    "change",
    "comments",
    "baseline_comments",
    "baseline_months",
]


@dataclass
class _Grid:
    """Theme x segment series by stratum (source / site / service) and month (``m0`` ...)."""

    m0: int
    months: int
    series: pd.DataFrame  # theme_id, segment_type, segment_value per row of the matrices
    themed: pd.DataFrame  # the theme rows the matrices were filled from
    x: np.ndarray  # (series, strata, months) theme comments
    n: np.ndarray  # (series, strata, months) informative comments of the series' segment
    negative: np.ndarray  # (series, strata, months) negative theme comments
    has_negative: bool


@dataclass
class _Baseline:
    """Per series-month: the month's and the trailing window's sums over the comparable strata."""

    x_month: np.ndarray
    n_month: np.ndarray
    neg_month: np.ndarray
    x: np.ndarray
    n: np.ndarray
    months: np.ndarray
    dispersion: np.ndarray


def emerging_tests(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every eligible theme x segment x month comparison against its trailing baseline.

    Comparisons are made within strata (an optional ``stratum`` column: source / site /
    service): a month and its baseline are summed over the strata that contribute to both (in
    the month and in at least ``min_baseline_months`` of the window), so a source, site or
    service that starts or stops sending comments changes neither side. :func:`source_changes`
    lists those strata as new or stopped sources.

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
        (base.n_month >= cfg["min_segment_comments"])
        & (base.n >= cfg["min_baseline_comments"])
        & (base.months >= cfg["min_baseline_months"])
        & (base.x_month + base.x >= cfg["min_theme_total"])
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


def source_changes(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Strata (source / site / service) that start or stop contributing to a segment in a month.

    A change in the mix of sources is not a theme emerging: :func:`emerging_tests` leaves these
    strata out of the comparison, and this table says so. ``new source``: the stratum has
    comments in the month and none in the previous ``baseline_months`` months while the segment
    has a baseline; ``stopped source``: no comments in the month after at least
    ``min_baseline_months`` months with comments in the window, while the segment has comments.

    Args:
        counts: the count frame of :func:`emerging_tests` (only its rows with a null theme_id,
            the segment-month totals by ``stratum``, are used).
        cfg: the ``emerging`` section of the insights config.
    """
    frame = counts[counts["theme_id"].isna() & counts["segment_type"].isin(cfg["segments"])].copy()
    if frame.empty or "stratum" not in frame:
        return pd.DataFrame(columns=SOURCE_CHANGE_COLUMNS)
    frame["m"] = _month_number(frame["period"])
    frame["stratum"] = _strata(frame)
    m0, months = int(frame["m"].min()), int(frame["m"].max() - frame["m"].min() + 1)
    strata = {k: i for i, k in enumerate(sorted(frame["stratum"].unique()))}
    seg_index, n = _segment_totals(frame, strata, m0, months)
    window, min_months = int(cfg["baseline_months"]), int(cfg["min_baseline_months"])
    active = (n > 0).astype(float)
    history = _rolling(active.reshape(-1, months), window).reshape(active.shape)
    seg_history = _rolling((n.sum(axis=1) > 0).astype(float), window)[:, None, :]
    seg_now = (n.sum(axis=1) > 0)[:, None, :]
    base_n = _rolling(n.reshape(-1, months), window).reshape(n.shape)
    new = (active > 0) & (history == 0) & (seg_history >= min_months)
    stopped = (active == 0) & (history >= min_months) & seg_now
    keys = list(seg_index)
    names = list(strata)
    month_starts = [date(int(v) // 12, int(v) % 12 + 1, 1) for v in range(m0, m0 + months)]
    rows = []
    for change, mask in (("new source", new), ("stopped source", stopped)):
        for g, k, m in zip(*np.nonzero(mask), strict=True):
            rows.append(
                {
                    "segment_type": keys[g][0],
                    "segment_value": keys[g][1],
                    "period": month_starts[m],
                    "stratum": names[k],
                    "change": change,
                    "comments": int(n[g, k, m]),
                    "baseline_comments": int(base_n[g, k, m]),
                    "baseline_months": int(history[g, k, m]),
                }
            )
    out = pd.DataFrame(rows, columns=SOURCE_CHANGE_COLUMNS)
    return out.sort_values(["period", "segment_type", "segment_value", "stratum"], ignore_index=True)


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


def _strata(frame: pd.DataFrame) -> pd.Series:
    """Stratum of every count row ('all' when the input has no ``stratum`` column)."""
    if "stratum" not in frame:
        return pd.Series("all", index=frame.index)
    return frame["stratum"].fillna("Unknown").astype(str)


def _month_grid(counts: pd.DataFrame, segments: list[str]) -> _Grid | None:
    """The count frame as series x stratum x month arrays; None when nothing is left to test."""
    frame = with_unit_columns(counts)
    frame = frame[frame["segment_type"].isin(segments)].copy()
    if frame.empty:
        return None
    frame["m"] = _month_number(frame["period"])
    frame["stratum"] = _strata(frame)
    m0, m1 = int(frame["m"].min()), int(frame["m"].max())
    months = m1 - m0 + 1
    totals = frame[frame["theme_id"].isna()]
    themed = frame[frame["theme_id"].notna()]
    if totals.empty or themed.empty:
        return None
    strata = {k: i for i, k in enumerate(sorted(frame["stratum"].unique()))}
    seg_index, n_mat = _segment_totals(totals, strata, m0, months)
    series = themed[["theme_id", "segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    series = series[
        [(s, v) in seg_index for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    ].reset_index(drop=True)
    if series.empty:
        return None
    series_seg = np.array(
        [seg_index[(s, v)] for s, v in zip(series["segment_type"], series["segment_value"], strict=True)]
    )
    themed, x_mat, neg_mat = _series_counts(themed, series, strata, m0, months)
    n_ser = n_mat[series_seg]
    # A theme cannot be in more comments than the cell has (guards against inconsistent input).
    x_mat = np.minimum(x_mat, n_ser)
    return _Grid(
        m0=m0,
        months=months,
        series=series,
        themed=themed,
        x=x_mat,
        n=n_ser,
        negative=neg_mat,
        has_negative="negative_comments" in themed,
    )


def _segment_totals(
    totals: pd.DataFrame, strata: dict[str, int], m0: int, months: int
) -> tuple[dict[tuple[Any, Any], int], np.ndarray]:
    """Row of every (segment_type, segment_value) and its segment x stratum x month comment counts."""
    seg_keys = totals[["segment_type", "segment_value"]].drop_duplicates().reset_index(drop=True)
    seg_index = {tuple(k): i for i, k in enumerate(seg_keys.itertuples(index=False, name=None))}
    n_mat = np.zeros((len(seg_keys), len(strata), months))
    rows = np.array([seg_index[(t, v)] for t, v in zip(totals["segment_type"], totals["segment_value"], strict=True)])
    np.add.at(
        n_mat,
        (rows, totals["stratum"].map(strata).to_numpy(), (totals["m"] - m0).to_numpy()),
        totals["comments"].to_numpy(dtype=float),
    )
    return seg_index, n_mat


def _series_counts(
    themed: pd.DataFrame, series: pd.DataFrame, strata: dict[str, int], m0: int, months: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Theme rows of known series, and their series x stratum x month (negative) comment counts."""
    series_index = {tuple(k): i for i, k in enumerate(series.itertuples(index=False, name=None))}
    keep = [
        (t, s, v) in series_index
        for t, s, v in zip(themed["theme_id"], themed["segment_type"], themed["segment_value"], strict=True)
    ]
    themed = themed[keep]
    x_mat = np.zeros((len(series), len(strata), months))
    rows = np.array(
        [
            series_index[(t, s, v)]
            for t, s, v in zip(themed["theme_id"], themed["segment_type"], themed["segment_value"], strict=True)
        ],
        dtype=int,
    )
    where = (rows, themed["stratum"].map(strata).to_numpy(dtype=int), (themed["m"] - m0).to_numpy())
    np.add.at(x_mat, where, themed["comments"].to_numpy(dtype=float))
    neg_mat = np.zeros_like(x_mat)
    if "negative_comments" in themed:
        np.add.at(neg_mat, where, themed["negative_comments"].fillna(0).to_numpy(dtype=float))
    return themed, x_mat, neg_mat


def comparable_strata(n: np.ndarray, window: int, min_months: int) -> np.ndarray:
    """(..., strata, months) mask: the strata comparable in each month.

    A stratum is comparable when it has comments in the month and in at least ``min_months``
    of the previous ``window`` months (the month itself excluded).
    """
    active = (n > 0).astype(float)
    flat = active.reshape(-1, active.shape[-1])
    history = _rolling(flat, window).reshape(active.shape)
    return (active > 0) & (history >= min_months)


def _baseline(grid: _Grid, cfg: Mapping[str, Any]) -> _Baseline:
    """The month's and the trailing window's sums over the comparable strata, and the dispersion.

    The dispersion is the window's Pearson chi2 / df over its months, clipped.
    """
    window = int(cfg["baseline_months"])
    mask = comparable_strata(grid.n, window, int(cfg["min_baseline_months"]))
    x_m = (grid.x * mask).sum(axis=1)
    n_m = (grid.n * mask).sum(axis=1)
    neg_m = (grid.negative * mask).sum(axis=1) if grid.has_negative else np.full(x_m.shape, np.nan)
    shape = x_m.shape
    xb, nb, kb, s2 = (np.zeros(shape) for _ in range(4))
    for m in range(grid.months):
        for j in range(max(0, m - window), m):
            # Month j of month m's window, summed over the strata comparable at m.
            xj = (grid.x[:, :, j] * mask[:, :, m]).sum(axis=1)
            nj = (grid.n[:, :, j] * mask[:, :, m]).sum(axis=1)
            xb[:, m] += xj
            nb[:, m] += nj
            kb[:, m] += nj > 0
            s2[:, m] += np.where(nj > 0, xj**2 / np.where(nj > 0, nj, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = np.where(nb > 0, xb / nb, np.nan)
        chi2 = (s2 - np.where(nb > 0, xb**2 / nb, 0.0)) / (p0 * (1 - p0))
        disp = np.where((kb >= 2) & (p0 > 0) & (p0 < 1), chi2 / np.maximum(kb - 1, 1), 1.0)
    disp = np.clip(np.nan_to_num(disp, nan=1.0), 1.0, float(cfg["max_dispersion"]))
    if not cfg.get("overdispersion", True):
        disp = np.ones_like(disp)
    return _Baseline(x_month=x_m, n_month=n_m, neg_month=neg_m, x=xb, n=nb, months=kb, dispersion=disp)


def _comparisons(grid: _Grid, base: _Baseline, si: np.ndarray, mi: np.ndarray, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Test statistics of the series-months (si, mi) as one frame (without unit metadata)."""
    x, n = base.x_month[si, mi], base.n_month[si, mi]
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
            "negative_share": np.where(x > 0, base.neg_month[si, mi] / np.maximum(x, 1), np.nan),
        }
    )
