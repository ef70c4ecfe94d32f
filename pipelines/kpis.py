"""KPI maths that SQL cannot do alone: significance tests, working-day calendars, periods.

The KPIs themselves are SQL models (``sql/marts/fct_kpi_*.sql``, ``sql/reporting/rpt_kpi_*.sql``);
``reporting.rpt_kpi_period_change`` computes the same z statistics in SQL so analysts get the
significance flags without Python. This module is the reference implementation (the tests
check that both agree), adds exact two-sided p-values for the reports, and writes the
``ops.calendar`` working-day calendars from the ``holidays`` package.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings

log = logging.getLogger(__name__)

Z_CRITICAL = 1.959963984540054  # two-sided 5 %
DEFAULT_CALENDAR = "GB"
DEFAULT_RESOLUTION_TARGET_WD = 25
ACK_TARGET_WD = 3


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


# --------------------------------------------------------------------------- periods


def parse_period(period: str) -> date:
    """First day of a report month given as ``YYYY-MM``.

    Raises:
        ValueError: for anything else, with the expected format.
    """
    try:
        year, month = period.strip().split("-")
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"period must be a month as YYYY-MM (e.g. 2026-10), got {period!r}") from exc


def add_months(month: date, months: int) -> date:
    """First day of the month ``months`` after (or before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def latest_full_month(last_day: date) -> date:
    """The latest month fully covered by data ending on ``last_day``."""
    if (last_day + timedelta(days=1)).month != last_day.month:
        return date(last_day.year, last_day.month, 1)
    return add_months(date(last_day.year, last_day.month, 1), -1)


# --------------------------------------------------------------------------- calendars


def _holiday_calendar(calendar_id: str, years: list[int]) -> dict[date, str]:
    import holidays

    country, _, subdiv = calendar_id.upper().partition("-")
    if country in {"GB", "UK"} and not subdiv:
        subdiv = "ENG"  # bank holidays of England (the default NHS calendar)
    try:
        found = holidays.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError as exc:
        raise ValueError(f"no holiday calendar for {calendar_id!r} in the holidays package") from exc
    return {d: str(name) for d, name in sorted(found.items())}


def calendar_frame(calendar_id: str, first_year: int, last_year: int) -> pd.DataFrame:
    """A working-day calendar: one row per day of the years, weekends and public holidays off.

    ``calendar_id`` is a source's ``country`` (``GB`` = England, ``GB-SCT``, ``US``, ``US-CA``).
    ``working_day_index`` counts working days from the first day up to and including each day,
    so ``index(later) - index(earlier)`` is the number of working days after ``earlier`` up to
    and including ``later``.
    """
    years = list(range(first_year, last_year + 1))
    names = _holiday_calendar(calendar_id, years)
    days = pd.date_range(date(first_year, 1, 1), date(last_year, 12, 31), freq="D")
    frame = pd.DataFrame({"day": days.date})
    frame["holiday_name"] = [names.get(d) for d in frame["day"]]
    frame["is_working_day"] = (days.dayofweek < 5) & frame["holiday_name"].isna().to_numpy()
    frame["working_day_index"] = frame["is_working_day"].cumsum().astype("int32")
    frame.insert(0, "calendar_id", calendar_id)
    return frame[["calendar_id", "day", "is_working_day", "holiday_name", "working_day_index"]]


def working_days_between(calendar: pd.DataFrame, start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 on the same day)."""
    index = dict(zip(calendar["day"], calendar["working_day_index"], strict=True))
    return int(index[end] - index[start])


def _source_calendars(settings: Settings) -> dict[str, str]:
    from pipelines.sources.base import SourceError, load_source_configs

    try:
        return {c.name: (c.country or DEFAULT_CALENDAR).upper() for c in load_source_configs(settings.sources_dir)}
    except (SourceError, OSError) as exc:
        log.warning("source configs unreadable (%s); every source uses the %s calendar", exc, DEFAULT_CALENDAR)
        return {}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def prepare_kpi_inputs(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    resolution_target_working_days: int | None = None,
) -> bool:
    """Write what the KPI models need from Python: calendars, source calendars, KPI settings.

    Calendars cover every year of the data plus one either side. The resolution target is kept
    in ``ops.report_settings`` (so ``feedback report --resolution-target 40`` sticks) and the
    small-cell threshold k is synchronised with ``settings.min_cell``. Returns True when the
    SQL models must be rebuilt before the KPIs are read.
    """
    changed = False
    current = dict(warehouse.run_sql(con, settings, "ops/report_get_settings").fetchall())
    # Precedence: explicit argument > a Settings field (when configured) > the stored value > 25.
    target = (
        resolution_target_working_days
        or getattr(settings, "resolution_target_working_days", None)
        or _int(current.get("resolution_target_working_days"))
        or DEFAULT_RESOLUTION_TARGET_WD
    )
    wanted = {"resolution_target_working_days": str(int(target)), "default_calendar": DEFAULT_CALENDAR}
    if any(current.get(k) != v for k, v in wanted.items()):
        warehouse.run_sql(
            con,
            settings,
            "ops/report_set_settings",
            {"target": wanted["resolution_target_working_days"], "calendar": wanted["default_calendar"]},
        )
        changed = True
    if current.get("min_cell") != str(settings.min_cell) or current.get("timezone") != settings.timezone:
        # Reporting views read k at query time: updating the setting is enough, no rebuild.
        warehouse.run_sql(
            con, settings, "ops/set_settings", {"min_cell": settings.min_cell, "timezone": settings.timezone}
        )

    sources = _source_calendars(settings)
    existing_sources = dict(warehouse.run_sql(con, settings, "ops/report_source_calendars").fetchall())
    if sources and sources != {k: v for k, v in existing_sources.items() if k in sources}:
        frame = pd.DataFrame({"source": list(sources), "calendar_id": list(sources.values())})
        con.register("incoming_source_calendar", frame)
        try:
            warehouse.run_script(con, settings, "ops/report_replace_source_calendar")
        finally:
            con.unregister("incoming_source_calendar")
        changed = True

    first, last = warehouse.run_sql(con, settings, "ops/report_calendar_years").fetchone()
    if first is None:
        return changed
    first, last = int(first) - 1, int(last) + 1
    ids = sorted({DEFAULT_CALENDAR, *sources.values(), *existing_sources.values()})
    covered = {
        cid: (lo, hi) for cid, lo, hi in warehouse.run_sql(con, settings, "ops/report_calendar_coverage").fetchall()
    }
    for calendar_id in ids:
        lo, hi = covered.get(calendar_id, (None, None))
        if lo is not None and lo <= date(first, 1, 1) and hi >= date(last, 12, 31):
            continue
        try:
            frame = calendar_frame(
                calendar_id, min(first, lo.year if lo else first), max(last, hi.year if hi else last)
            )
        except ValueError as exc:
            log.warning("%s: complaints of sources on this calendar get no working-day KPIs", exc)
            continue
        con.register("incoming_calendar", frame)
        try:
            warehouse.run_sql(con, settings, "ops/report_delete_calendar", {"calendar_id": calendar_id})
            warehouse.run_sql(con, settings, "ops/report_insert_calendar")
        finally:
            con.unregister("incoming_calendar")
        log.info("calendar %s written for %d-%d", calendar_id, frame["day"].min().year, frame["day"].max().year)
        changed = True
    return changed
