"""Significance tests for KPI changes: the reference implementation of what SQL also computes.

``reporting.rpt_kpi_period_change`` computes the same z statistics in SQL so analysts get the
significance flags without Python; the tests check that both agree. The reports add exact
two-sided p-values with :func:`p_from_z`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_CRITICAL = 1.959963984540054  # two-sided 5 %


@dataclass(frozen=True)
class TestResult:
    """A z statistic with its two-sided p-value (both None when the test is undefined)."""

    z: float | None
    p_value: float | None

    @property
    def significant(self) -> bool:
        """True when p < 0.05 (two-sided)."""
        return self.p_value is not None and self.p_value < 0.05


def p_from_z(z: float | None) -> float | None:
    """Two-sided p-value of a standard-normal statistic."""
    if z is None or (isinstance(z, float) and math.isnan(z)):
        return None
    return math.erfc(abs(z) / math.sqrt(2.0))


def _result(z: float | None) -> TestResult:
    return TestResult(z, p_from_z(z))


def two_proportion_z(x1: float, n1: float, x2: float, n2: float) -> TestResult:
    """Two-proportion z-test (pooled variance) of x1/n1 against x2/n2.

    Undefined (None) when a group is empty or the pooled proportion is 0 or 1.
    """
    if n1 <= 0 or n2 <= 0:
        return TestResult(None, None)
    pooled = (x1 + x2) / (n1 + n2)
    if pooled <= 0 or pooled >= 1:
        return TestResult(None, None)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return _result((x1 / n1 - x2 / n2) / se)


def poisson_rate_z(c1: float, e1: float, c2: float, e2: float) -> TestResult:
    """z-test of two Poisson rates c1/e1 vs c2/e2 (exposures e; 1 each for plain counts).

    The normal approximation of the test conditional on the total count, with the rate
    pooled under the null hypothesis.
    """
    if e1 <= 0 or e2 <= 0 or c1 + c2 <= 0:
        return TestResult(None, None)
    pooled = (c1 + c2) / (e1 + e2)
    se = math.sqrt(pooled * (1 / e1 + 1 / e2))
    return _result((c1 / e1 - c2 / e2) / se)


def nps_z(
    promoters1: float, detractors1: float, n1: float, promoters2: float, detractors2: float, n2: float
) -> TestResult:
    """z-test of the difference of two Net Promoter Scores.

    Var(NPS) per response = p_promoter + p_detractor - (p_promoter - p_detractor)^2.
    """
    if n1 <= 0 or n2 <= 0:
        return TestResult(None, None)
    pp1, pd1, pp2, pd2 = promoters1 / n1, detractors1 / n1, promoters2 / n2, detractors2 / n2
    var = (pp1 + pd1 - (pp1 - pd1) ** 2) / n1 + (pp2 + pd2 - (pp2 - pd2) ** 2) / n2
    if var <= 0:
        return TestResult(None, None)
    return _result(((pp1 - pd1) - (pp2 - pd2)) / math.sqrt(var))


def welch_z(mean1: float, sd1: float, n1: float, mean2: float, sd2: float, n2: float) -> TestResult:
    """Large-sample Welch z for two means (sample standard deviations sd)."""
    if n1 <= 1 or n2 <= 1:
        return TestResult(None, None)
    var = sd1**2 / n1 + sd2**2 / n2
    if var <= 0:
        return TestResult(None, None)
    return _result((mean1 - mean2) / math.sqrt(var))
