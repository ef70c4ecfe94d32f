"""Spreadsheet-safe CSV/XLSX exports of text that came from patients.

The warehouse keeps every comment verbatim (``=HYPERLINK(...)`` included: escaping is the
job of whatever renders it). A spreadsheet, however, *executes* a cell that starts with
``=``, ``+``, ``-`` or ``@`` (and, in some versions, a tab or carriage return before one) -
the "CSV/formula injection" of OWASP. Every CSV or XLSX file we write passes its text cells
through :func:`safe_cell`, which prefixes such a cell with an apostrophe: spreadsheets then
show it as text, and the apostrophe is visibly not part of the comment.

Before a file is written, a guard may look at every cell about to go into it (the report stage
passes the final privacy scan, :class:`pipelines.privacy.scan.ExportScan`): when it finds an
identifier the file is not written at all (an older file of that name is removed, so nothing
stale stands in for it) and :class:`ExportBlocked` says which file, column and kind of
identifier, and how many, never the value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pandas as pd

# ASCII triggers and their full-width forms (some spreadsheet locales evaluate those too).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_BLANKS = " \t\r\n\u00a0"
# Control characters that XLSX (XML 1.0) cannot hold; openpyxl raises on them.
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Finding(NamedTuple):
    """What a final privacy scan found in a file about to be written (never the value itself)."""

    file: str
    column: str
    kind: str
    count: int


class ExportGuard(Protocol):
    """Looks at what is about to be written to a file; any finding blocks the file."""

    def check(self, path: Path, cells: Mapping[str, Iterable[Any]]) -> list[Finding]:
        """Findings in ``cells`` (column or field -> values) bound for ``path``; [] lets it through."""
        ...


class ExportBlocked(RuntimeError):
    """Files were not written because the final privacy scan found identifiers in them.

    The message names each file, column, kind and count (never a value); ``findings`` holds them.
    """

    def __init__(self, findings: Sequence[Finding], written: int | None = None) -> None:
        self.findings = list(findings)
        files: dict[str, list[str]] = {}
        for f in self.findings:
            files.setdefault(f.file, []).append(f"{f.column} {f.kind} x{f.count}")
        held = "; ".join(f"{name} ({', '.join(parts)})" for name, parts in files.items())
        others = f"; the other {written} file(s) were written" if written is not None else ""
        super().__init__(
            f"the final privacy scan held back {len(files)} file(s) holding identifiers: {held}{others}. "
            "The text reached the export unredacted: see the run status page or `feedback status`."
        )


def withhold(path: Path, guard: ExportGuard | None, cells: Mapping[str, Iterable[Any]]) -> None:
    """Let ``guard`` look at ``cells`` before ``path`` is written; on a finding, block the file.

    Raises:
        ExportBlocked: with the findings; ``path`` then does not exist (an older copy is removed).
    """
    if guard is None:
        return
    findings = guard.check(path, cells)
    if findings:
        path.unlink(missing_ok=True)
        raise ExportBlocked(findings)


def frame_cells(frame: pd.DataFrame, prefix: str = "") -> dict[str, list[Any]]:
    """Column -> values of ``frame`` and its header row, for a guard (``prefix`` names the sheet)."""
    cells: dict[str, list[Any]] = {f"{prefix}(header)": [str(c) for c in frame.columns]}
    for index, column in enumerate(frame.columns):
        cells[f"{prefix}{column}"] = frame.iloc[:, index].tolist()
    return cells


def text_cells(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every string inside ``value`` (dicts, lists, dataclasses, DataFrames), by where it sits.

    Used on a page's template context: ``{"themes.label": [...], "comments.text": [...]}``.
    List positions are left out of the key, so a key is a "column" of the page.
    """
    out: dict[str, list[str]] = {}
    for key, text in _strings(value, path, 0):
        out.setdefault(key, []).append(text)
    return out


# A text-bearing element of inline markup (an SVG label, tooltip or description).
_TEXT_ELEMENT = re.compile(r"<(text|title|desc)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)


def markup_texts(markup: Any) -> list[str]:
    """The texts of ``markup`` (a ``markupsafe.Markup``), one per text element, then the rest.

    Each ``<text>``, ``<title>`` and ``<desc>`` is one text (its ``<tspan>`` lines joined by
    spaces): run together, as ``striptags`` does, two labels read as one ("... Staff Nurse NAME"
    then "We saw ..." became "NAMEWe", a name after a title).
    """
    source = str(markup)
    pieces = [m.group(2) for m in _TEXT_ELEMENT.finditer(source)]
    pieces.append(_TEXT_ELEMENT.sub(" ", source))
    texts = (type(markup)(re.sub(r"<", " <", piece)).striptags() for piece in pieces)
    return [t for t in texts if t]


def _strings(value: Any, path: str, depth: int) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if hasattr(value, "striptags"):  # Markup (an inline SVG chart): its text, not its coordinates
            yield from ((path, text) for text in markup_texts(value))
        else:
            yield path, value
        return
    if depth > 12 or value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, pd.DataFrame):
        for column in value.columns:
            yield from ((f"{path}.{column}", v) for v in value[column].tolist() if isinstance(v, str))
        return
    if isinstance(value, Mapping):
        if "bdata" in value and "dtype" in value:
            return  # a chart's numbers as a base64 typed array (Plotly), not text
        items: Iterable[tuple[Any, Any]] = value.items()
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, list | tuple | set | frozenset) or hasattr(value, "tolist"):
        seq = value.tolist() if hasattr(value, "tolist") else value
        for item in seq if isinstance(seq, list | tuple | set | frozenset) else [seq]:
            yield from _strings(item, path, depth + 1)
        return
    else:
        return
    for key, item in items:
        yield from _strings(item, f"{path}.{key}" if path else str(key), depth + 1)


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


def joined(value: Any) -> Any:
    """A list cell (a comment's theme labels) as one string, items joined by "; " (labels hold commas)."""
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    if hasattr(value, "tolist") and not isinstance(value, str):
        items = value.tolist()
        return "; ".join(map(str, items)) if isinstance(items, list) else value
    return value


def safe_frame(frame: pd.DataFrame, xlsx: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with list cells :func:`joined` and every text cell passed through :func:`safe_cell`.

    The writers scan ``frame`` itself (a guard reads a list cell item by item) and write this copy:
    joined, the items of a list would run together into text no one wrote ("Main issue; Moved,
    family" reads to the name rules as a sign-off).
    """
    out = frame.copy()
    out.columns = [safe_cell(c, xlsx=xlsx) for c in out.columns]  # a header is a cell too
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            flat = series.map(joined) if series.dtype == object else series
            out[column] = flat.map(lambda v: safe_cell(v, xlsx=xlsx), na_action="ignore").astype(object)
    return out


def write_csv(frame: pd.DataFrame, path: Path, guard: ExportGuard | None = None) -> Path:
    """Write a formula-safe UTF-8 CSV (with BOM, so Excel shows accents and emoji).

    Raises:
        ExportBlocked: when ``guard`` finds an identifier in a cell (the file is not written).
    """
    out = safe_frame(frame)
    withhold(path, guard, frame_cells(frame))  # list cells scanned item by item, before joining
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_xlsx(
    frames: Mapping[str, pd.DataFrame],
    path: Path,
    choices: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    widths: Mapping[str, Sequence[int]] | None = None,
    guard: ExportGuard | None = None,
    ranges: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write formula-safe sheets (name cut to Excel's 31 characters) into one workbook.

    Args:
        frames: sheet name -> table, in sheet order.
        path: the ``.xlsx`` file (its folder is created).
        choices: sheet -> column -> allowed values: a drop-down list on that column's cells
            (e.g. the label column of a reviewer sheet).
        widths: sheet -> column widths in characters, first column first.
        guard: looks at every cell first (columns named ``sheet/column``).
        ranges: sheet -> column -> a cell range holding the allowed values (e.g.
            ``categories!$A$2:$A$31``): a drop-down for lists too long for ``choices`` (Excel
            keeps at most 255 characters of an inline list).

    Raises:
        ExportBlocked: when ``guard`` finds an identifier in any sheet (no workbook is written).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheets = {name: safe_frame(frame, xlsx=True) for name, frame in frames.items()}
    # List cells are scanned item by item, before safe_frame joins them ("A, B" reads as a name list).
    withhold(path, guard, {k: v for name, frame in frames.items() for k, v in frame_cells(frame, f"{name}/").items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    # Streamed (openpyxl's write-only mode): rows go straight to the file, without a cell object
    # per value or pandas' styled-cell conversion (the 100k demo's theme report, 20,000 comments: 7.8 -> 5.4 s).
    book = Workbook(write_only=True)
    for name, frame in frames.items():
        out = sheets[name]
        sheet = book.create_sheet(name[:31])
        for index, width in enumerate((widths or {}).get(name, ()), start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        rules = [(column, _list_rule(allowed)) for column, allowed in (choices or {}).get(name, {}).items()]
        rules += [(column, _range_rule(cells)) for column, cells in (ranges or {}).get(name, {}).items()]
        for column, rule in rules:
            letter = get_column_letter(list(frame.columns).index(column) + 1)
            rule.add(f"{letter}2:{letter}{max(len(frame) + 1, 2)}")
            sheet.data_validations.append(rule)
        header = []
        for title in out.columns:
            cell = WriteOnlyCell(sheet, value=str(title))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in _sheet_rows(out):
            sheet.append(row)
    book.save(path)
    return path


def _sheet_rows(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """The rows of ``frame`` for a sheet (the writer's own copy, changed in place): no time zones, missing = empty."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_localize(None)  # Excel has no time zones
    values = frame.astype(object)  # numpy scalars become Python ones (a bool stays a bool)
    return values.where(frame.notna(), None).itertuples(index=False, name=None)


def _list_rule(allowed: Sequence[str]) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
    rule.error = "Use one of: " + ", ".join(allowed)
    return rule


def _range_rule(cells: str) -> Any:
    from openpyxl.worksheet.datavalidation import DataValidation

    rule = DataValidation(type="list", formula1=cells, allow_blank=True)
    rule.error = f"Use one of the values in {cells}"
    return rule
