"""Reading the reporting views: every query is a named file ``sql/queries/report/*.sql``.

Reports read ``reporting.*`` views only - never raw, staging or enrich tables - so everything a
report shows is also there for analysts in SQL, suppressed and redacted the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from pipelines import periods, warehouse
from pipelines.config import Settings

MAX_COMMENTS = 20000
TREND_MONTHS = 24


@dataclass(frozen=True)
class ReportContext:
    """What every report of one run shares."""

    settings: Settings
    con: duckdb.DuckDBPyConnection
    month: date
    run_id: str | None
    generated_at: datetime

    @property
    def period(self) -> str:
        """The report month as ``YYYY-MM``."""
        return f"{self.month:%Y-%m}"

    @property
    def month_to(self) -> date:
        """Last day of the report month."""
        return periods.add_months(self.month, 1) - timedelta(days=1)

    @property
    def trend_from(self) -> date:
        """First month of the trend window (the report month and the 23 before it)."""
        return periods.add_months(self.month, -(TREND_MONTHS - 1))

    @property
    def min_cell(self) -> int:
        """Small-cell threshold k."""
        return self.settings.min_cell

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run ``sql/queries/report/<name>.sql`` with named parameters; returns a DataFrame."""
        return warehouse.run_sql(self.con, self.settings, f"queries/report/{name}", params or None).df()


def data_end(settings: Settings, con: duckdb.DuckDBPyConnection) -> date | None:
    """Last day with feedback in the warehouse (local date), or None when it is empty."""
    row = warehouse.run_sql(con, settings, "queries/report/data_end").fetchone()
    return row[0] if row and row[0] is not None else None


def resolve_month(settings: Settings, con: duckdb.DuckDBPyConnection, month: date | None) -> date:
    """The report month: ``month`` when given, else the latest full month of data."""
    if month is not None:
        return month
    end = data_end(settings, con)
    if end is None:
        today = date.today()
        return periods.add_months(date(today.year, today.month, 1), -1)
    return periods.latest_full_month(end)


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
