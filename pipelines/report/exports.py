"""CSV and XLSX exports of every table a report shows.

The files are written by the one formula-guarded writer, :func:`pipelines.exports.write_csv` and
:func:`pipelines.exports.write_xlsx` (patient text that starts with ``=``, ``+``, ``-`` or ``@``
is prefixed with an apostrophe so no spreadsheet runs it). This module only shapes the report's
tables for a spreadsheet first: list cells become one comma-separated string, and time-zoned
timestamps (already local times) lose their zone, which Excel cannot store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import exports


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if hasattr(value, "tolist") and not isinstance(value, str):
        return ", ".join(map(str, value.tolist()))
    return value


def _export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_localize(None)  # local times already; the CSV matches the workbook
        elif series.dtype == object:
            out[column] = series.map(_flatten).astype(object)
    return out


def write_exports(tables: dict[str, pd.DataFrame], folder: Path, workbook: str) -> list[Path]:
    """Write ``<folder>/<table>.csv`` for each table and one ``<folder>/<workbook>.xlsx``.

    Sheet names are the table names cut to Excel's 31 characters.

    Returns:
        The CSV files in the order of ``tables``, then the workbook.
    """
    shaped = {name: _export_frame(frame) for name, frame in tables.items()}
    written = [exports.write_csv(frame, folder / f"{name}.csv") for name, frame in shaped.items()]
    written.append(exports.write_xlsx(shaped, folder / f"{workbook}.xlsx"))
    return written
