"""CSV and XLSX exports of every table a report shows.

Spreadsheet formula injection: patient text that starts with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return) would be run as a formula by Excel or LibreOffice when the export is
opened, and openpyxl itself stores such strings as formulas. Text cells are therefore prefixed
with an apostrophe, which spreadsheets show as plain text (OWASP "CSV injection").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import exports


def safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet will not evaluate (and that an XLSX file can hold)."""
    return exports.safe_cell(value, xlsx=True)


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
            out[column] = series.dt.tz_localize(None)  # Excel has no time zones; local times already
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            out[column] = series.map(lambda v: safe_cell(_flatten(v))).astype(object)
    return out


def write_exports(tables: dict[str, pd.DataFrame], folder: Path, workbook: str) -> list[Path]:
    """Write ``<folder>/<table>.csv`` for each table and one ``<folder>/<workbook>.xlsx``.

    Sheet names are the table names cut to Excel's 31 characters.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    cleaned = {name: _export_frame(frame) for name, frame in tables.items()}
    for name, frame in cleaned.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
        written.append(path)
    xlsx = folder / f"{workbook}.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        for name, frame in cleaned.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    written.append(xlsx)
    return written
