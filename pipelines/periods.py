"""Report periods, parsed once where a user's input enters (CLI, DAG params) and passed down.

A :class:`Period` is a run of whole calendar months: one month (``2026-10``), a calendar
quarter (``2026-Q3``) or a rolling window (``last-3-months``). A rolling window is relative to
the data, so parsing gives a :class:`Rolling` request that the report anchors on the latest
full month of data (:meth:`Rolling.ending`). Months are first-of-month dates throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["month", "quarter", "rolling"]
MAX_ROLLING_MONTHS = 12
# Responses a period needs to be the default report period and to be reported without a
# warning (``feedback report --min-responses``; pipelines/report/choice.py).
MIN_RESPONSES = 30
FORMATS = "YYYY-MM (e.g. 2026-10), YYYY-Qn (e.g. 2026-Q3) or last-N-months (e.g. last-3-months)"

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_ROLLING = re.compile(r"^last-(\d{1,2})-months?$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    """Whole calendar months from ``start`` (a first of month) to ``end`` (a last day of month).

    Attributes:
        start: first day of the first month.
        end: last day of the last month.
        label: the period in words, for page titles ("October 2026", "2026 Q3 (July to September)").
        kind: month, quarter or rolling.
    """

    start: date
    end: date
    label: str
    kind: PeriodKind

    @classmethod
    def month(cls, month: date) -> Period:
        """The calendar month containing ``month``."""
        first = date(month.year, month.month, 1)
        return cls(first, add_months(first, 1) - timedelta(days=1), f"{first:%B %Y}", "month")

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """Calendar quarter ``quarter`` (1-4) of ``year``."""
        first = date(year, 3 * quarter - 2, 1)
        last = add_months(first, 2)
        return cls(
            first, add_months(first, 3) - timedelta(days=1), f"{year} Q{quarter} ({first:%B} to {last:%B})", "quarter"
        )

    @classmethod
    def rolling(cls, last_month: date, months: int) -> Period:
        """The ``months`` months ending with ``last_month`` (a one-month window is that month)."""
        if months == 1:
            return cls.month(last_month)
        last = date(last_month.year, last_month.month, 1)
        first = add_months(last, -(months - 1))
        label = f"last {months} months ({first:%B %Y} to {last:%B %Y})"
        return cls(first, add_months(last, 1) - timedelta(days=1), label, "rolling")

    @property
    def months(self) -> int:
        """How many calendar months the period spans."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def last_month(self) -> date:
        """First day of the period's last month (the month its KPIs are anchored on)."""
        return date(self.end.year, self.end.month, 1)

    @property
    def key(self) -> str:
        """Short key for file names and exports: ``2026-10``, ``2026-Q3``, ``2026-08-to-2026-10``."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month + 2) // 3}"
        return f"{self.start:%Y-%m}-to-{self.end:%Y-%m}"

    def month_starts(self) -> list[date]:
        """First day of every month in the period, oldest first."""
        return [add_months(self.start, i) for i in range(self.months)]

    def shifted(self, months: int) -> Period:
        """The period of the same kind and length ``months`` later (earlier if negative)."""
        last = add_months(self.last_month, months)
        if self.kind == "quarter":
            return Period.quarter(last.year, (last.month + 2) // 3)
        return Period.rolling(last, self.months) if self.kind == "rolling" else Period.month(last)

    def previous(self) -> Period:
        """The period of equal length just before this one (the month before, the quarter before)."""
        return self.shifted(-self.months)


@dataclass(frozen=True)
class Rolling:
    """A rolling window of the last ``months`` months, to be anchored on the data's last full month."""

    months: int

    def ending(self, last_month: date) -> Period:
        """The window ending with ``last_month``."""
        return Period.rolling(last_month, self.months)


PeriodRequest = Period | Rolling


def parse_period(text: str) -> PeriodRequest:
    """Parse a report period as given by a user: ``YYYY-MM``, ``YYYY-Qn`` or ``last-N-months``.

    Raises:
        ValueError: for anything else, naming the accepted formats.
    """
    value = str(text).strip()
    try:
        if m := _MONTH.match(value):
            return Period.month(date(int(m[1]), int(m[2]), 1))
        if m := _QUARTER.match(value):
            return Period.quarter(int(m[1]), int(m[2]))
        if (m := _ROLLING.match(value)) and 1 <= int(m[1]) <= MAX_ROLLING_MONTHS:
            return Rolling(int(m[1]))
    except ValueError:
        pass  # a month of 13 and the like: the message below names the formats
    raise ValueError(f"period must be {FORMATS}; rolling windows up to {MAX_ROLLING_MONTHS} months; got {text!r}")


def add_months(month: date, months: int) -> date:
    """First day of the month ``months`` after (or before, if negative) ``month``."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def latest_full_month(last_day: date) -> date:
    """The latest month fully covered by data ending on ``last_day``."""
    if (last_day + timedelta(days=1)).month != last_day.month:
        return date(last_day.year, last_day.month, 1)
    return add_months(date(last_day.year, last_day.month, 1), -1)


@dataclass(frozen=True)
class DateWindow:
    """Feedback dated from ``start`` to ``end``, both days included; either end may be open (None).

    A backfill's window (the ``start``/``end`` params of the Airflow DAGs), parsed once at the edge.

    Raises:
        ValueError: when ``start`` is after ``end``.
    """

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"window start {self.start} is after its end {self.end}")

    @property
    def bounded(self) -> bool:
        """True when at least one end is set (an unbounded window asks for no restriction)."""
        return self.start is not None or self.end is not None

    @property
    def end_exclusive(self) -> date | None:
        """The day after ``end`` (compare timestamps with ``< end_exclusive``)."""
        return None if self.end is None else self.end + timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start or '...'} to {self.end or '...'}"


def window_period(window: DateWindow) -> Period:
    """The report period of a backfill window of whole calendar months.

    One month gives that month, a calendar quarter that quarter, anything else the run of months.

    Raises:
        ValueError: when an end is open, the start is not a first of month or the end not a last
            day of month (a report covers whole months: name them, rather than get other days).
    """
    if window.start is None or window.end is None:
        raise ValueError(f"a report window needs both start and end, got {window}")
    first, last = window.start, window.end
    last_month = date(last.year, last.month, 1)
    if first.day != 1 or add_months(last_month, 1) - timedelta(days=1) != last:
        raise ValueError(
            f"a report covers whole months: start on a first of month and end on a last day of month, got {window}"
        )
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months == 3 and first.month % 3 == 1:
        return Period.quarter(first.year, (first.month + 2) // 3)
    if months > MAX_ROLLING_MONTHS:
        raise ValueError(f"a report window spans at most {MAX_ROLLING_MONTHS} months, got {months}")
    return Period.rolling(last_month, months)
