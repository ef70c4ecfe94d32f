import math
from datetime import date

import numpy as np
import pytest
from statsmodels.stats.proportion import proportions_ztest

from pipelines import periods, stats
from pipelines.insights import kpis


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(45, 100, 30, 100), (5, 12, 9, 11), (300, 1000, 280, 900)])
def test_two_proportion_z_matches_statsmodels(x1, n1, x2, n2):
    z_ref, p_ref = proportions_ztest([x1, x2], [n1, n2])
    result = stats.two_proportion_z(x1, n1, x2, n2)
    assert result.z == pytest.approx(z_ref)
    assert result.p_value == pytest.approx(p_ref)


def test_two_proportion_z_is_undefined_without_variation():
    assert stats.two_proportion_z(0, 10, 0, 12).z is None
    assert stats.two_proportion_z(10, 10, 12, 12).p_value is None
    assert stats.two_proportion_z(1, 0, 1, 5) == stats.TestResult(None, None)


def test_poisson_rate_z_for_counts_and_rates():
    # Equal exposure: z = (c1 - c2) / sqrt(c1 + c2).
    assert stats.poisson_rate_z(30, 1, 18, 1).z == pytest.approx(12 / math.sqrt(48))
    # Rates per response: 20 complaints in 1,000 vs 10 in 1,000 responses.
    result = stats.poisson_rate_z(20, 1000, 10, 1000)
    assert result.z == pytest.approx(10 / math.sqrt(30))
    assert not stats.poisson_rate_z(10, 1000, 10, 1000).significant
    assert stats.poisson_rate_z(0, 10, 0, 10).z is None


def test_nps_z_equals_a_z_test_on_plus_minus_one_scores():
    rng = np.random.default_rng(3)
    a = rng.choice([1, 0, -1], size=400, p=[0.6, 0.25, 0.15])
    b = rng.choice([1, 0, -1], size=300, p=[0.5, 0.25, 0.25])
    ref = (a.mean() - b.mean()) / math.sqrt(a.var() / len(a) + b.var() / len(b))
    result = stats.nps_z((a == 1).sum(), (a == -1).sum(), len(a), (b == 1).sum(), (b == -1).sum(), len(b))
    assert result.z == pytest.approx(ref)
    assert result.significant


def test_welch_z_and_p_values():
    result = stats.welch_z(70.0, 20.0, 100, 64.0, 22.0, 120)
    assert result.z == pytest.approx(6 / math.sqrt(400 / 100 + 484 / 120))
    assert stats.welch_z(1, 1, 1, 1, 1, 10).z is None
    assert stats.p_from_z(1.959963984540054) == pytest.approx(0.05)
    assert stats.p_from_z(0) == pytest.approx(1.0)
    assert stats.p_from_z(None) is None
    assert stats.p_from_z(float("nan")) is None


def test_periods():
    october = periods.parse_period("2026-10")
    assert october == periods.Period.month(date(2026, 10, 1))
    assert (october.start, october.end, october.kind, october.label) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
        "month",
        "October 2026",
    )
    for bad in ("October", "2026-13", "2026-Q5", "last-0-months", "last-13-months", "10/2026"):
        with pytest.raises(ValueError, match="YYYY-MM") as error:
            periods.parse_period(bad)
        assert "YYYY-Qn" in str(error.value) and "last-N-months" in str(error.value)
    assert periods.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert periods.add_months(date(2026, 10, 1), -12) == date(2025, 10, 1)
    assert periods.add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert periods.latest_full_month(date(2026, 10, 31)) == date(2026, 10, 1)
    assert periods.latest_full_month(date(2026, 11, 3)) == date(2026, 10, 1)


def test_england_calendar_skips_weekends_and_bank_holidays():
    cal = kpis.calendar_frame("GB", 2026, 2026)
    off = dict(zip(cal["day"], cal["is_working_day"], strict=True))
    assert not off[date(2026, 12, 25)]  # Christmas Day (Friday)
    assert not off[date(2026, 12, 28)]  # Boxing Day substitute (Monday)
    assert not off[date(2026, 8, 31)]  # summer bank holiday (England, not Scotland)
    assert not off[date(2026, 12, 26)]  # Saturday
    assert off[date(2026, 12, 29)]
    assert off[date(2026, 1, 2)]  # 2 January is a holiday in Scotland only
    # Received Thursday 24 December, acknowledged Tuesday 29: one working day.
    assert kpis.working_days_between(cal, date(2026, 12, 24), date(2026, 12, 29)) == 1
    # Received on a Saturday, acknowledged the Monday: one working day.
    assert kpis.working_days_between(cal, date(2026, 10, 3), date(2026, 10, 5)) == 1
    assert kpis.working_days_between(cal, date(2026, 10, 5), date(2026, 10, 5)) == 0
    assert list(cal.columns) == ["calendar_id", "day", "is_working_day", "holiday_name", "working_day_index"]


def test_other_calendars():
    scotland = kpis.calendar_frame("GB-SCT", 2026, 2026)
    assert not dict(zip(scotland["day"], scotland["is_working_day"], strict=True))[date(2026, 1, 2)]
    us = kpis.calendar_frame("US", 2026, 2026)
    assert not dict(zip(us["day"], us["is_working_day"], strict=True))[date(2026, 7, 3)]  # Independence Day observed
    with pytest.raises(ValueError, match="no holiday calendar"):
        kpis.calendar_frame("XX", 2026, 2026)
