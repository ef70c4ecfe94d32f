"""Which period a report covers, and why: the default is the latest month with enough responses.

A trust's export often ends a few days into a month, and its last full month can be nearly
empty; a report of it says nothing. So the default period is the latest *complete* month with
at least ``min_responses`` responses, and the page says which month it chose and why. A period
asked for explicitly is reported as asked, with a warning (and a link to the last adequate
month) when it holds too few responses or runs past the end of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines import periods, warehouse
from pipelines.config import Settings
from pipelines.periods import MIN_RESPONSES, Period, PeriodRequest, Rolling

__all__ = ["MIN_RESPONSES", "AvailablePeriod", "PeriodChoice", "Volumes", "available", "choose", "month_volumes"]


@dataclass(frozen=True)
class MonthVolume:
    """One month of data: responses, informative comments, complete or not."""

    month: date
    responses: int
    comments: int
    is_complete: bool


@dataclass(frozen=True)
class Volumes:
    """Every month with data (oldest first) and the last day with data."""

    months: tuple[MonthVolume, ...]
    last_day: date | None

    def responses(self, period: Period) -> int:
        """Responses received in ``period``."""
        return sum(m.responses for m in self.months if period.start <= m.month <= period.end)

    def comments(self, period: Period) -> int:
        """Informative comments received in ``period``."""
        return sum(m.comments for m in self.months if period.start <= m.month <= period.end)

    @property
    def first_month(self) -> date | None:
        """First month with data."""
        return self.months[0].month if self.months else None

    def latest_complete(self) -> date | None:
        """The latest complete month (or the latest month, when none is complete yet)."""
        complete = [m.month for m in self.months if m.is_complete]
        return complete[-1] if complete else (self.months[-1].month if self.months else None)

    def latest_adequate(self, min_responses: int) -> date | None:
        """The latest complete month with at least ``min_responses`` responses."""
        ok = [m.month for m in self.months if m.is_complete and m.responses >= min_responses]
        return ok[-1] if ok else None


@dataclass(frozen=True)
class PeriodChoice:
    """The report period with the sentence saying why, and a warning when it is thin.

    Attributes:
        period: the period reported on.
        reason: one or two sentences: how the period was chosen.
        responses: responses received in the period.
        min_responses: the minimum a period needs to be reported without a warning.
        warning: why the figures are thin or partial (None when the period is adequate).
        adequate: the last month with enough responses, linked from the warning (None when the
            period is adequate, or when no month is).
    """

    period: Period
    reason: str
    responses: int
    min_responses: int
    warning: str | None = None
    adequate: Period | None = None


@dataclass(frozen=True)
class AvailablePeriod:
    """A month or quarter the warehouse holds data for, as listed on the index page."""

    period: Period
    responses: int
    comments: int
    complete: bool
    adequate: bool


def month_volumes(settings: Settings, con: duckdb.DuckDBPyConnection) -> Volumes:
    """Responses and comments of every month with data (``reporting.rpt_report_months``)."""
    rows = warehouse.run_sql(con, settings, "queries/report/report_months").fetchall()
    months = tuple(MonthVolume(r[0], int(r[1]), int(r[2]), bool(r[3])) for r in rows)
    return Volumes(months, rows[-1][4] if rows else None)


def choose(
    request: PeriodRequest | None, volumes: Volumes, min_responses: int = MIN_RESPONSES, today: date | None = None
) -> PeriodChoice:
    """The period to report on, the reason, and a warning when it holds too few responses.

    Args:
        request: the period asked for (parsed at the edge), or None for the default.
        volumes: the months with data.
        min_responses: responses a period needs to be reported without a warning.
        today: for an empty warehouse only (the default is then last month); defaults to today.
    """
    if request is None or isinstance(request, Rolling):
        period, reason = _default(request, volumes, min_responses, today or date.today())
    else:
        period, reason = request, f"Asked for explicitly (--period {request.key})."
    responses = volumes.responses(period)
    warning = _warning(period, responses, volumes, min_responses)
    adequate = None
    if warning:
        month = volumes.latest_adequate(min_responses)
        adequate = Period.month(month) if month and Period.month(month) != period else None
    return PeriodChoice(period, reason, responses, min_responses, warning, adequate)


def _default(request: Rolling | None, volumes: Volumes, min_responses: int, today: date) -> tuple[Period, str]:
    """The default month, or a rolling window anchored on the latest complete month."""
    latest = volumes.latest_complete()
    if latest is None:
        last_month = periods.add_months(date(today.year, today.month, 1), -1)
        period = request.ending(last_month) if request else Period.month(last_month)
        return period, "The warehouse holds no feedback yet, so this is the last calendar month."
    if request is not None:
        period = request.ending(latest)
        return period, f"The {request.months} months up to {latest:%B %Y}, the latest complete month of data."
    adequate = volumes.latest_adequate(min_responses)
    if adequate is None:
        return Period.month(latest), (
            f"No complete month has {min_responses} or more responses, so this is the latest complete month "
            f"of data ({latest:%B %Y})."
        )
    skipped = [_skipped(m, min_responses, volumes.last_day) for m in volumes.months if m.month > adequate]
    reason = (
        f"Chosen automatically: {adequate:%B %Y} is the latest complete month with at least {min_responses} "
        f"responses ({volumes.responses(Period.month(adequate)):,})."
    )
    if skipped:
        reason += " Later months were skipped: " + "; ".join(skipped) + "."
    return Period.month(adequate), reason


def _skipped(month: MonthVolume, min_responses: int, last_day: date | None) -> str:
    if not month.is_complete and last_day is not None:
        return f"{month.month:%B %Y} (incomplete: the data ends on {last_day:%-d %B %Y})"
    return f"{month.month:%B %Y} ({month.responses:,} responses, fewer than {min_responses})"


def _warning(period: Period, responses: int, volumes: Volumes, min_responses: int) -> str | None:
    """Why the period's figures are thin or partial, or None."""
    if not volumes.months:
        return f"The warehouse holds no feedback: nothing to report for {period.label}."
    first, last_day = volumes.months[0].month, volumes.last_day
    if responses == 0:
        return f"There is no feedback in {period.label}: the data covers {first:%B %Y} to {last_day:%-d %B %Y}."
    parts = []
    if responses < min_responses:
        parts.append(
            f"{period.label} has only {responses:,} responses, fewer than the {min_responses} needed for reliable "
            "figures: most cells are suppressed and changes are rarely significant."
        )
    if last_day is not None and period.end > last_day:
        parts.append(f"The period is not complete: the data ends on {last_day:%-d %B %Y}.")
    return " ".join(parts) or None


def available(
    volumes: Volumes, min_responses: int = MIN_RESPONSES, also: Period | None = None
) -> list[AvailablePeriod]:
    """Every month and calendar quarter with data (and ``also``, a rolling window), newest first."""
    months = [Period.month(m.month) for m in volumes.months]
    quarters = sorted({Period.quarter(p.start.year, (p.start.month + 2) // 3) for p in months})
    extra = [also] if also is not None and also not in months + quarters else []
    out = []
    for period in months + quarters + extra:
        responses = volumes.responses(period)
        is_complete = (
            bool(volumes.months) and volumes.months[0].month <= period.start and period.end <= volumes.last_day
        )
        out.append(
            AvailablePeriod(
                period, responses, volumes.comments(period), is_complete, is_complete and responses >= min_responses
            )
        )
    return sorted(out, key=lambda a: (a.period.end, a.period.months), reverse=True)  # a quarter above its months
