"""Spreadsheet-safe CSV/XLSX exports of text that came from patients.

The warehouse keeps every comment verbatim (``=HYPERLINK(...)`` included: escaping is the
job of whatever renders it). A spreadsheet, however, *executes* a cell that starts with
``=``, ``+``, ``-`` or ``@`` (and, in some versions, a tab or carriage return before one) -
the "CSV/formula injection" of OWASP. Every CSV or XLSX file we write passes its text cells
through :func:`safe_cell`, which prefixes such a cell with an apostrophe: spreadsheets then
show it as text, and the apostrophe is visibly not part of the comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

# ASCII triggers and their full-width forms (some spreadsheet locales evaluate those too).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_BLANKS = " \t\r\n\u00a0"
# Control characters that XLSX (XML 1.0) cannot hold; openpyxl raises on them.
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any, xlsx: bool = False) -> Any:
    """Return ``value`` so that no spreadsheet evaluates it; non-strings pass unchanged.

    Args:
        value: a cell value.
        xlsx: also drop the control characters an XLSX file cannot store.
    """
    if not isinstance(value, str):
        return value
    if xlsx:
        value = _ILLEGAL_XLSX.sub("", value)
    first = value.lstrip(_LEADING_BLANKS)[:1]
    if first in FORMULA_TRIGGERS or value[:1] in ("\t", "\r"):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame, xlsx: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell passed through :func:`safe_cell`."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            out[column] = series.map(lambda v: safe_cell(v, xlsx=xlsx), na_action="ignore").astype(object)
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a formula-safe UTF-8 CSV (with BOM, so Excel shows accents and emoji)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_xlsx(
    frames: Mapping[str, pd.DataFrame],
    path: Path,
    choices: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    widths: Mapping[str, Sequence[int]] | None = None,
) -> Path:
    """Write formula-safe sheets (name cut to Excel's 31 characters) into one workbook.

    Args:
        frames: sheet name -> table, in sheet order.
        path: the ``.xlsx`` file (its folder is created).
        choices: sheet -> column -> allowed values: a drop-down list on that column's cells
            (e.g. the label column of a reviewer sheet).
        widths: sheet -> column widths in characters, first column first.
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            out = safe_frame(frame, xlsx=True)
            for column in out.columns:
                if isinstance(out[column].dtype, pd.DatetimeTZDtype):
                    out[column] = out[column].dt.tz_localize(None)  # Excel has no time zones
            out.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for column, allowed in (choices or {}).get(name, {}).items():
                letter = get_column_letter(list(frame.columns).index(column) + 1)
                rule = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
                rule.error = "Use one of: " + ", ".join(allowed)
                sheet.add_data_validation(rule)
                rule.add(f"{letter}2:{letter}{max(len(frame) + 1, 2)}")
            for index, width in enumerate((widths or {}).get(name, ()), start=1):
                sheet.column_dimensions[get_column_letter(index)].width = width
    return path
