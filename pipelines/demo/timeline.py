"""The demo data's calendar and record skeletons: when, where and in which service each record is.

Also the quota helpers the planted patterns use, so that planted shares are exact per group.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from pipelines.demo.params import SITES


def _add_months(d0: date, k: int) -> date:
    y, m = divmod(d0.month - 1 + k, 12)
    year, month = d0.year + y, m + 1
    return date(year, month, min(d0.day, calendar.monthrange(year, month)[1]))


def month_label(start: date, i: int) -> str:
    """``YYYY-MM`` of the ``i``-th month of a window starting at ``start``."""
    y, m = divmod(start.month - 1 + i, 12)
    return f"{start.year + y:04d}-{m + 1:02d}"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


@dataclass(frozen=True)
class Calendar:
    """The days of the window and, per day, weekday, month index, seasonality and clock-change flag."""

    start: date
    end: date
    days: list[date]
    day_str: list[str]
    dow: np.ndarray
    month: np.ndarray
    season: np.ndarray
    dst: np.ndarray


def build_calendar(start: date, months: int) -> Calendar:
    """The calendar of ``months`` months from ``start`` (seasonal and holiday dips included)."""
    end = _add_months(start, months) - timedelta(days=1)
    n = (end - start).days + 1
    days = [start + timedelta(days=i) for i in range(n)]
    dow = np.array([x.weekday() for x in days])
    month = np.array([(x.year - start.year) * 12 + x.month - start.month for x in days])
    doy = np.array([x.timetuple().tm_yday for x in days], dtype=float)
    season = 1.0 + 0.10 * np.cos(2 * np.pi * (doy - 15.0) / 365.25)
    holiday = np.array([(x.month, x.day) in {(12, 25), (12, 26), (1, 1)} for x in days])
    season = season * np.where(holiday, 0.5, 1.0)
    # Clocks change at 01:00 UTC on the last Sundays of March and October: 01:xx local time
    # does not exist (March) or is ambiguous (October), so no record is stamped then.
    years = sorted({x.year for x in days})
    switch = {_last_sunday(y, 3) for y in years} | {_last_sunday(y, 10) for y in years}
    dst = np.array([x in switch for x in days])
    return Calendar(start, end, days, [x.isoformat() for x in days], dow, month, season, dst)


_DOW_SURVEY = np.array([1.12, 1.08, 1.05, 1.04, 0.98, 0.78, 0.72])
_DOW_COMPLAINT = np.array([1.2, 1.15, 1.1, 1.1, 1.0, 0.25, 0.2])
_HOURS_24 = np.array([2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 9, 7, 5, 3], dtype=float)
_HOURS_DAY = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 1, 4, 9, 11, 11, 10, 9, 10, 10, 10, 9, 8, 7, 6, 5, 3, 2, 1])
_ROUND_THE_CLOCK = np.array([True, True, False, True, False, False, True, True])
_SITE_W = np.array([0.45, 0.35, 0.20])
_SERVICE_W_WEEKDAY = np.array([20, 9, 24, 12, 10, 8, 8, 9], dtype=float)
_SERVICE_W_WEEKEND = np.array([38, 13, 3, 15, 4, 5, 10, 12], dtype=float)
SERVICE_W_COMPLAINT = np.array([22, 8, 20, 18, 6, 5, 10, 8], dtype=float)
HILLCREST_ALLOWED = np.array([False, False, True, True, True, True, True, True])


@dataclass
class Skeleton:
    """Per record (sorted by time): day index, hour, minute, site index, service index."""

    day: np.ndarray
    hour: np.ndarray
    minute: np.ndarray
    site: np.ndarray
    service: np.ndarray


def choice(rng: np.random.Generator, n: int, weights: np.ndarray | Sequence[float]) -> np.ndarray:
    """``n`` indices drawn with (unnormalised) ``weights``."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def skeleton(rng: np.random.Generator, cal: Calendar, n: int, kind: str) -> Skeleton:
    """Timestamps, sites and services for ``n`` records, sorted by time."""
    dow_w = _DOW_COMPLAINT if kind == "complaint" else _DOW_SURVEY
    day = np.sort(choice(rng, n, dow_w[cal.dow] * cal.season))
    site = choice(rng, n, _SITE_W)
    weekend = cal.dow[day] >= 5
    service = np.zeros(n, dtype=np.int64)
    for s in range(len(SITES)):
        for we in (False, True):
            mask = (site == s) & (weekend == we)
            if kind == "complaint":
                w = SERVICE_W_COMPLAINT.copy()
            else:
                w = (_SERVICE_W_WEEKEND if we else _SERVICE_W_WEEKDAY).copy()
            if s == 2:
                w = np.where(HILLCREST_ALLOWED, w, 0.0)
            service[mask] = choice(rng, int(mask.sum()), w)
    hour = np.where(_ROUND_THE_CLOCK[service], choice(rng, n, _HOURS_24), choice(rng, n, _HOURS_DAY))
    hour = np.where(cal.dst[day] & (hour == 1), 2, hour)
    minute = rng.integers(0, 60, size=n)
    order = np.lexsort((minute, hour, day))
    return Skeleton(day[order], hour[order], minute[order], site[order], service[order])


def stamps(cal: Calendar, sk: Skeleton) -> list[str]:
    """Local ``YYYY-MM-DD HH:MM`` wall times of the records."""
    parts = zip(sk.day.tolist(), sk.hour.tolist(), sk.minute.tolist(), strict=True)
    return [f"{cal.day_str[d]} {h:02d}:{m:02d}" for d, h, m in parts]


def ids(prefix: str, n: int) -> list[str]:
    """``n`` record ids ``PREFIX-000001`` onwards (six digits or more)."""
    width = max(6, len(str(n)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]


def quota(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """Exactly ``k`` (or all) of ``candidates``, chosen uniformly, sorted."""
    k = min(int(k), len(candidates))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def group_quota(
    rng: np.random.Generator,
    keys: np.ndarray,
    population: np.ndarray,
    eligible: np.ndarray,
    share: Callable[[int], float],
) -> np.ndarray:
    """Per group: pick share * |population in group| members of ``eligible`` in it.

    The count is rounded stochastically (floor(x + u)) so that small groups still hit the
    share on average instead of always rounding 0.4 down to nothing.
    """
    out = np.zeros(len(keys), dtype=bool)
    for key in np.unique(keys[population]).tolist():
        in_group = keys == key
        k = int(np.floor(share(key) * int((in_group & population).sum()) + rng.random()))
        out[quota(rng, np.flatnonzero(in_group & eligible), k)] = True
    return out
