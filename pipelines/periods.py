"""Report periods: months as first-of-month dates, parsed once where a user's input enters."""

from __future__ import annotations

from datetime import date, timedelta


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
