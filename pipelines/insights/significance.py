"""Tests shared by the insights: one-sided Fisher exact p-values and Benjamini-Hochberg q-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["bh_qvalues", "fisher_greater"]


def bh_qvalues(p_values: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaNs stay NaN and are not counted.

    Rejecting every hypothesis with q <= alpha controls the false discovery rate at alpha
    for independent or positively dependent tests (Benjamini & Hochberg 1995; Benjamini &
    Yekutieli 2001). The adjustment is ``scipy.stats.false_discovery_control``; this wrapper
    only keeps NaN p-values (untestable comparisons) out of the family.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        # scipy rejects values outside [0, 1]; a survival function may overshoot 1 by a rounding
        # error, and such a p-value's q is 1 either way.
        q[ok] = stats.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def fisher_greater(x: np.ndarray, n: np.ndarray, x_ref: np.ndarray, n_ref: np.ndarray) -> np.ndarray:
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
