"""KPI inputs that SQL cannot make alone: working-day calendars and KPI settings.

The KPIs themselves are SQL models (``sql/marts/fct_kpi_*.sql``, ``sql/reporting/rpt_kpi_*.sql``).
This module writes the ``ops.calendar`` working-day calendars from the ``holidays`` package and
the KPI settings the models read, then rebuilds the models when those changed
(:func:`prepare_reporting`, run by the pipeline before the report stage reads the views).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings

log = logging.getLogger(__name__)

DEFAULT_CALENDAR = "GB"
DEFAULT_RESOLUTION_TARGET_WD = 25
ACK_TARGET_WD = 3
_REQUIRED_VIEW = "reporting.rpt_kpi_period_change"


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


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def prepare_kpi_inputs(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    resolution_target_working_days: int | None = None,
    source_calendars: Mapping[str, str] | None = None,
) -> bool:
    """Write what the KPI models need from Python: calendars, source calendars, KPI settings.

    Calendars cover every year of the data plus one either side. The resolution target is kept
    in ``ops.report_settings`` (so ``feedback report --resolution-target 40`` sticks) and the
    small-cell threshold k is synchronised with ``settings.min_cell``. Returns True when the
    SQL models must be rebuilt before the KPIs are read.
    """
    changed = False
    current = dict(warehouse.run_sql(con, settings, "queries/insights/get_settings").fetchall())
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
            "queries/insights/set_settings",
            {"target": wanted["resolution_target_working_days"], "calendar": wanted["default_calendar"]},
        )
        changed = True
    if current.get("min_cell") != str(settings.min_cell) or current.get("timezone") != settings.timezone:
        # Reporting views read k at query time: updating the setting is enough, no rebuild.
        warehouse.run_sql(
            con,
            settings,
            "queries/pipeline/set_settings",
            {"min_cell": settings.min_cell, "timezone": settings.timezone},
        )

    sources = {name: (cid or DEFAULT_CALENDAR).upper() for name, cid in (source_calendars or {}).items()}
    existing_sources = dict(warehouse.run_sql(con, settings, "queries/insights/source_calendars").fetchall())
    if sources and sources != {k: v for k, v in existing_sources.items() if k in sources}:
        frame = pd.DataFrame({"source": list(sources), "calendar_id": list(sources.values())})
        with warehouse.registered(con, incoming_source_calendar=frame):
            warehouse.run_script(con, settings, "queries/insights/replace_source_calendar")
        changed = True

    first, last = warehouse.run_sql(con, settings, "queries/insights/calendar_years").fetchone()
    if first is None:
        return changed
    first, last = int(first) - 1, int(last) + 1
    ids = sorted({DEFAULT_CALENDAR, *sources.values(), *existing_sources.values()})
    covered = {
        cid: (lo, hi)
        for cid, lo, hi in warehouse.run_sql(con, settings, "queries/insights/calendar_coverage").fetchall()
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
        with warehouse.registered(con, incoming_calendar=frame):
            warehouse.run_sql(con, settings, "queries/insights/delete_calendar", {"calendar_id": calendar_id})
            warehouse.run_sql(con, settings, "queries/insights/insert_calendar")
        log.info("calendar %s written for %d-%d", calendar_id, frame["day"].min().year, frame["day"].max().year)
        changed = True
    return changed


def prepare_reporting(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    resolution_target_working_days: int | None = None,
    source_calendars: Mapping[str, str] | None = None,
) -> None:
    """Make the reporting views current: calendars and KPI settings, then rebuild if needed.

    Args:
        settings: ``min_cell`` (k) and ``timezone`` are synchronised into ``ops.report_settings``.
        con: an open read-write warehouse connection.
        resolution_target_working_days: complaint resolution target (default: stored, else 25).
        source_calendars: holiday calendar id (e.g. ``GB``, ``US``) per source name.
    """
    warehouse.apply_schema(con, settings)
    changed = prepare_kpi_inputs(settings, con, resolution_target_working_days, source_calendars)
    missing = (
        warehouse.run_sql(con, settings, "queries/insights/view_exists", {"name": _REQUIRED_VIEW}).fetchone()[0] == 0
    )
    if changed or missing:
        warehouse.build_models(con, settings)
