"""Reading the reporting views: every query is a named file ``sql/queries/report/*.sql``.

Reports read ``reporting.*`` views only - never raw, staging or enrich tables - so everything a
report shows is also there for analysts in SQL, suppressed and redacted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from pipelines import periods, warehouse
from pipelines.config import Settings
from pipelines.periods import Period
from pipelines.report.choice import PeriodChoice

MAX_COMMENTS = 20000
EXPLORER_MONTHS = 12


@dataclass(frozen=True)
class ReportContext:
    """What every report of one period shares.

    Attributes:
        choice: the report period and why it was chosen (with its warning, if any).
        first_month: first month with data: trends start there (None when the warehouse is empty).
    """

    settings: Settings
    con: duckdb.DuckDBPyConnection
    choice: PeriodChoice
    run_id: str | None
    generated_at: datetime
    first_month: date | None

    @property
    def period(self) -> Period:
        """The report period."""
        return self.choice.period

    @property
    def key(self) -> str:
        """The period's key in file names: ``2026-10``, ``2026-Q3``, ``2026-08-to-2026-10``."""
        return self.period.key

    @property
    def window(self) -> dict[str, Any]:
        """The period as the parameters of the windowed views (``window_end``, ``window_months``)."""
        return {"window_end": self.period.last_month, "window_months": self.period.months}

    @property
    def trend_from(self) -> date:
        """First month of every trend: the first month with data (trends use all of it)."""
        return min(self.first_month or self.period.start, self.period.start)

    @property
    def explorer_from(self) -> date:
        """First month of the comment explorer: the last 12 months, or the whole period if longer."""
        return min(self.period.start, periods.add_months(self.period.last_month, -(EXPLORER_MONTHS - 1)))

    @property
    def min_cell(self) -> int:
        """Small-cell threshold k."""
        return self.settings.min_cell

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run ``sql/queries/report/<name>.sql`` with named parameters; returns a DataFrame."""
        return warehouse.run_sql(self.con, self.settings, f"queries/report/{name}", params or None).df()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with None for every kind of missing value."""
    from pipelines.report.html import clean

    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _clean_deep(clean, v) for k, v in row.items()})
    return out


def _clean_deep(clean: Any, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_clean_deep(clean, v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):
        return [_clean_deep(clean, v) for v in value.tolist()]
    return clean(value)
