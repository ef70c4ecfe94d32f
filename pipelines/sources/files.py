"""Read export files as strings: decoding, CSV/TSV/semicolon text, JSON Lines and Excel.

Readers return every row as strings (``pd.NA`` when absent) with its 1-based row number, and
rows that cannot be parsed at all as :class:`~pipelines.sources.types.Reject` s, so that nothing
is dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.sources.types import Reject, SourceError, SourceRows

# --- decoding ------------------------------------------------------------------------------

_REPAIRED = threading.local()


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    _REPAIRED.count = getattr(_REPAIRED, "count", 0) + len(bad)
    return bad.decode("cp1252", errors="replace"), err.end


def decode_bytes(data: bytes, encoding: str = "auto") -> tuple[str, str, int]:
    """Decode an export; never fails.

    ``auto``: UTF-16 when the file starts with its byte-order mark (Excel "Unicode text"),
    else UTF-8 with or without BOM, where any byte that is not valid UTF-8 is read as
    Windows-1252 (a UTF-8 file with one pasted "café" from Excel keeps its emoji intact).

    Returns:
        (text, encoding used, number of bytes that were not valid in that encoding)
    """
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding, 0
        except LookupError as exc:
            raise SourceError(f"unknown encoding {encoding!r}") from exc
        except UnicodeDecodeError:
            text = data.decode(encoding, errors="replace")
            return text, encoding, text.count("\ufffd")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16", 0
    try:
        return data.decode("utf-8-sig"), "utf-8", 0
    except UnicodeDecodeError:
        pass
    try:
        codecs.lookup_error("feedback-cp1252")
    except LookupError:
        codecs.register_error("feedback-cp1252", _cp1252_fallback)
    _REPAIRED.count = 0
    text = data.decode("utf-8-sig", errors="feedback-cp1252")
    return text, "utf-8+cp1252", _REPAIRED.count


def _decode_note(name: str, encoding: str, repaired: int) -> list[str]:
    if repaired:
        return [f"{name}: {repaired} byte(s) were not valid {encoding.split('+')[0]}; read as Windows-1252"]
    return []


# --- delimited text ------------------------------------------------------------------------

DELIMITERS = ",;\t|"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a header line: the candidate occurring most often outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(values: list[str]) -> list[str]:
    names, seen = [], {}
    for i, value in enumerate(values, start=1):
        name = value.strip().lstrip("\ufeff") or f"column_{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def read_delimited(path: Path, delimiter: str | None = None, encoding: str = "auto", header_row: int = 1) -> SourceRows:
    """Read a CSV/TSV/semicolon export as strings.

    The column names are on line ``header_row`` (1-based; the lines above it, such as a report
    title, are not rows). The delimiter is detected on the header line unless given. A row whose
    number of fields differs from the header (an unquoted delimiter or line break inside a
    comment) is rejected whole rather than loaded with shifted values - even when the extra
    fields are empty, since a comma inside an unquoted comment shifts every later column. Blank
    lines (and lines of delimiters only) are not rows. ``_row_number`` is the line of the file a
    row ends on.

    Raises:
        SourceError: if the header line itself cannot be parsed.
    """
    text, used, repaired = decode_bytes(path.read_bytes(), encoding)
    offset = header_row - 1
    text = _from_line(text, header_row)
    if delimiter is None:
        delimiter = sniff_delimiter(text.split("\n", 1)[0])
    # Large comment fields: lift the csv module's 128 KB field cap.
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = _header(next(reader))
    except StopIteration:
        where = f" at or after line {header_row}" if offset else ""
        return SourceRows(
            pd.DataFrame(columns=["_row_number"]), notes=[f"{path.name}: empty file{where}"], name=path.name
        )
    except csv.Error as exc:
        raise SourceError(f"{path.name}: cannot read the header line: {exc}") from exc
    rows, numbers, rejects = _delimited_rows(reader, header, offset, text)
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(columns=header, dtype="string")
    frame["_row_number"] = pd.Series(numbers, dtype="int64")
    notes = _decode_note(path.name, used, repaired)
    if len(header) == 1 and delimiter == ",":
        notes.append(
            f"{path.name}: the header (line {header_row}) has a single column; is the delimiter one of "
            f"{DELIMITERS!r}, or are the column names on a later line (set `header_row:`)?"
        )
    return SourceRows(frame, rejects, notes, path.name)


def _from_line(text: str, line: int) -> str:
    """The text from 1-based ``line`` on (empty when the file is shorter)."""
    offset = line - 1
    if not offset:
        return text
    lines = text.split("\n", offset)
    return lines[offset] if len(lines) > offset else ""


def _delimited_rows(
    reader: Any, header: list[str], offset: int, text: str
) -> tuple[list[list[str]], list[int], list[Reject]]:
    """Rows of the header's width with their line numbers, and every other non-blank row as a reject."""
    width = len(header)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    try:
        for values in reader:
            number = reader.line_num + offset
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != width:
                rejects.append(_field_count_reject(header, values, number))
                continue
            rows.append(values)
            numbers.append(number)
    except csv.Error as exc:
        # Only an unterminated quote at end of file gets here: keep what was read, reject the rest.
        rejects.append(Reject(reader.line_num + offset, text[-10_000:], "parse:csv", f"CSV syntax error: {exc}"))
    return rows, numbers, rejects


def _field_count_reject(header: list[str], values: list[str], number: int) -> Reject:
    """A row of the wrong width, kept as JSON of header -> value plus ``_extra_fields``."""
    record: dict[str, Any] = dict(zip(header, values, strict=False))
    if len(values) > len(header):
        record["_extra_fields"] = values[len(header) :]
    return Reject(
        number,
        json.dumps(record, ensure_ascii=False),
        "parse:field_count",
        "row has more or fewer fields than the header (unquoted delimiter or line break in a field?)",
    )


# --- JSON Lines ------------------------------------------------------------------------------


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def read_jsonl(path: Path, encoding: str = "auto") -> SourceRows:
    """Read JSON Lines (one object per line); a JSON array of objects is accepted too.

    A line that is not a JSON object (truncated, garbage) is rejected with its text and the
    parser's message; the raw line of every row is kept in ``_raw``.
    """
    text, used, repaired = decode_bytes(path.read_bytes(), encoding)
    entries: list[tuple[int, str, Any]] = []
    rejects: list[Reject] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path.name}: a JSON array that does not parse ({exc.msg}, line {exc.lineno})") from exc
        entries = [(i, json.dumps(obj, ensure_ascii=False), obj) for i, obj in enumerate(document, start=1)]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append((number, line, json.loads(line)))
            except json.JSONDecodeError:
                rejects.append(Reject(number, line, "parse:json_line", "invalid JSON (truncated or malformed line)"))
    records = []
    for number, raw, obj in entries:
        if not isinstance(obj, dict):
            rejects.append(Reject(number, raw, "parse:json_line", "JSON value is not an object"))
            continue
        row = {str(k): _cell(v) for k, v in obj.items()}
        row["_row_number"] = number
        row["_raw"] = raw
        records.append(row)
    rejects.sort(key=lambda r: r.row_number or 0)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=["_row_number", "_raw"])
    for col in frame.columns:
        if col != "_row_number":
            frame[col] = frame[col].astype("string")
    frame["_row_number"] = frame["_row_number"].astype("int64")
    return SourceRows(frame, rejects, _decode_note(path.name, used, repaired), path.name)


# --- Excel -----------------------------------------------------------------------------------


def read_xlsx(path: Path, sheet: str | int = 0, header_row: int = 1) -> SourceRows:
    """Read one sheet of an .xlsx workbook as strings (formula cells give their cached value).

    The column names are in spreadsheet row ``header_row`` (rows above it, such as a title, are
    not rows); ``_row_number`` is the spreadsheet row.

    Raises:
        SourceError: if the workbook or sheet cannot be opened.
    """
    try:
        frame = pd.read_excel(
            path, dtype=str, sheet_name=sheet, keep_default_na=False, engine="openpyxl", header=header_row - 1
        )
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise SourceError(f"cannot read workbook {path.name} (sheet {sheet!r}): {type(exc).__name__}: {exc}") from exc
    # pandas names empty header cells "Unnamed: N": name them column_N like the CSV reader does.
    frame.columns = _header(["" if re.fullmatch(r"Unnamed: \d+", str(c)) else str(c) for c in frame.columns])
    frame = frame.astype("string")
    blank = frame.apply(lambda col: col.str.strip().eq("")).all(axis=1) if len(frame.columns) else None
    first = header_row + 1
    frame["_row_number"] = pd.Series(range(first, len(frame) + first), index=frame.index, dtype="int64")
    if blank is not None:
        frame = frame[~blank].reset_index(drop=True)
    return SourceRows(frame, name=path.name)
