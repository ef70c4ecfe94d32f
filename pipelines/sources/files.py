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


# C0 control characters other than tab, line feed and carriage return: a NUL or an escape in a
# comment is never meant, and breaks reports and spreadsheets downstream. CR is a line break
# (alone in old Mac files, before LF in Windows ones) and is kept, like the rest of the text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINE_END = re.compile(r"\r\n|\r|\n")


def clean_text(text: str) -> tuple[str, int]:
    """``text`` without C0 control characters other than tab, line feed and carriage return.

    Returns:
        (the cleaned text, the number of control characters removed)
    """
    removed = len(_CONTROL.findall(text))
    return (_CONTROL.sub("", text), removed) if removed else (text, 0)


def clean_frame(frame: pd.DataFrame, skip: tuple[str, ...] = ("_raw",)) -> int:
    """:func:`clean_text` on every text column of ``frame`` (in place); returns the characters removed."""
    removed = 0
    for col in frame.columns:
        values = frame[col]
        if col in skip or col.startswith("_pos") or not pd.api.types.is_string_dtype(values):
            continue
        counts = values.str.count(_CONTROL.pattern)
        if counts.fillna(0).sum():
            removed += int(counts.sum())
            frame[col] = values.str.replace(_CONTROL.pattern, "", regex=True)
    return removed


def _control_note(name: str, removed: int) -> list[str]:
    if removed:
        return [f"{name}: {removed} control character(s) such as NUL removed from the text"]
    return []


def split_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text, split at CR, LF or CRLF only.

    Not ``str.splitlines``: that also splits at U+2028, U+2029, U+0085 and other separators
    JSON allows unescaped inside a string, so one valid line would become two broken ones. A
    raw CR or LF cannot be inside a JSON string, so splitting there never cuts a value.
    """
    return _LINE_END.split(text)


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
    text, removed = clean_text(text)
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
    rows, numbers, rejects = _delimited_rows(reader, header, offset, text, delimiter)
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(columns=header, dtype="string")
    frame["_row_number"] = pd.Series(numbers, dtype="int64")
    notes = _decode_note(path.name, used, repaired) + _control_note(path.name, removed)
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
    reader: Any, header: list[str], offset: int, text: str, delimiter: str
) -> tuple[list[list[str]], list[int], list[Reject]]:
    """Rows of the header's width with their line numbers, and every other non-blank row as a reject."""
    width = len(header)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejects: list[Reject] = []
    start = last_start = reader.line_num + 1  # first line of the next row / of the last row read
    try:
        for values in reader:
            number = reader.line_num + offset
            if not values or all(not v.strip() for v in values):
                start = reader.line_num + 1
                continue
            if len(values) != width:
                rejects.append(_field_count_reject(header, values, number))
            else:
                rows.append(values)
                numbers.append(number)
            last_start, start = start, reader.line_num + 1
    except csv.Error as exc:
        # A field over the size limit gets here: keep what was read, reject the rest.
        rejects.append(Reject(reader.line_num + offset, text[-10_000:], "parse:csv", f"CSV syntax error: {exc}"))
    else:
        if (rows or rejects) and _unclosed_quote(text, last_start, delimiter):
            _reject_unclosed(header, rows, numbers, rejects)
    return rows, numbers, rejects


def _unclosed_quote(text: str, line: int, delimiter: str) -> bool:
    """Whether the row starting on ``line`` opens a quote that is never closed.

    ``strict=False`` (which keeps a stray quote inside a field) reads such a row as a field
    running to the end of the file; only the last row can be one, so only it is read again,
    strictly.
    """
    rest = io.StringIO(text, newline="")
    for _ in range(line - 1):
        rest.readline()
    tail = rest.read()
    if '"' not in tail:
        return False
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _reject_unclosed(header: list[str], rows: list[list[str]], numbers: list[int], rejects: list[Reject]) -> None:
    """Move the last row read (loaded or rejected for its width) to the rejects as an unclosed quote."""
    if rejects and (not numbers or rejects[-1].row_number > numbers[-1]):
        number, record = rejects[-1].row_number, json.loads(rejects.pop().raw_row)
    else:
        number, record = numbers.pop(), dict(zip(header, rows.pop(), strict=True))
    reason = "unclosed quote: a quoted field runs to the end of the file (truncated export?)"
    rejects.append(Reject(number, json.dumps(record, ensure_ascii=False), "parse:csv", reason))


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


TOO_DEEP = "JSON nested too deeply to read (hundreds of levels of arrays or objects)"
LONE_SURROGATE = "text holds a lone surrogate (half of an escaped emoji?): not valid Unicode, cannot be stored"


def parse_json_line(number: int, line: str) -> tuple[Any, Reject | None]:
    """One JSON value of a JSON Lines file, or the reject that says why the line is not one.

    A line nested deeper than the parser's recursion limit is rejected like a truncated one,
    so that one hostile line costs that line, not its file.
    """
    try:
        value = json.loads(line, parse_constant=_not_json)
    except ValueError:  # JSONDecodeError, and NaN / Infinity, which Python reads but JSON does not have
        return None, Reject(number, line, "parse:json_line", "invalid JSON (truncated or malformed line)")
    except RecursionError:
        return None, Reject(number, line, "parse:json_depth", TOO_DEEP)
    if "\\u" in line and _lone_surrogate(value):
        return None, Reject(number, line, "parse:unicode", LONE_SURROGATE)
    return value, None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _lone_surrogate(value: Any) -> bool:
    """Whether a parsed value holds half of a surrogate pair (an escaped emoji cut in two)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_jsonl(path: Path, encoding: str = "auto") -> SourceRows:
    """Read JSON Lines (one object per line); a JSON array of objects is accepted too.

    A line that is not a JSON object (truncated, garbage, nested too deeply) is rejected with
    its text and the reason; the raw line of every row is kept in ``_raw``. Control characters
    are removed from the values (see :func:`clean_text`) and counted in a note.

    Raises:
        SourceError: when the file is a JSON array that does not parse.
    """
    text, used, repaired = decode_bytes(path.read_bytes(), encoding)
    text, removed = clean_text(text)
    entries, rejects = _json_entries(path, text)
    records = []
    for number, raw, obj in entries:
        if not isinstance(obj, dict):
            rejects.append(Reject(number, raw, "parse:json_line", "JSON value is not an object"))
            continue
        try:
            row = {str(k): _cell(v) for k, v in obj.items()}
        except RecursionError:
            rejects.append(Reject(number, raw, "parse:json_depth", TOO_DEEP))
            continue
        row["_row_number"] = number
        row["_raw"] = raw
        records.append(row)
    rejects.sort(key=lambda r: r.row_number or 0)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=["_row_number", "_raw"])
    for col in frame.columns:
        if col != "_row_number":
            frame[col] = frame[col].astype("string")
    frame["_row_number"] = frame["_row_number"].astype("int64")
    removed += clean_frame(frame)
    notes = _decode_note(path.name, used, repaired) + _control_note(path.name, removed)
    return SourceRows(frame, rejects, notes, path.name)


def _json_entries(path: Path, text: str) -> tuple[list[tuple[int, str, Any]], list[Reject]]:
    """(line number, raw text, value) of every non-blank line (or array element), and the lines rejected."""
    if text.lstrip().startswith("["):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path.name}: a JSON array that does not parse ({exc.msg}, line {exc.lineno})") from exc
        except RecursionError as exc:
            raise SourceError(f"{path.name}: a JSON array that does not parse ({TOO_DEEP})") from exc
        try:
            return [(i, json.dumps(obj, ensure_ascii=False), obj) for i, obj in enumerate(document, start=1)], []
        except RecursionError as exc:
            raise SourceError(f"{path.name}: {TOO_DEEP}") from exc
    entries: list[tuple[int, str, Any]] = []
    rejects: list[Reject] = []
    for number, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        value, reject = parse_json_line(number, line)
        if reject is None:
            entries.append((number, line, value))
        else:
            rejects.append(reject)
    return entries, rejects


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
    if frame.isna().any(axis=None):  # pandas reads an error cell (#REF!) as NaN, empty ones as ""
        for row, column, error in _error_cells(path, sheet, header_row):
            if row < len(frame) and column < len(frame.columns):
                frame.iat[row, column] = error
    blank = frame.apply(lambda col: col.str.strip().eq("")).all(axis=1) if len(frame.columns) else None
    first = header_row + 1
    frame["_row_number"] = pd.Series(range(first, len(frame) + first), index=frame.index, dtype="int64")
    if blank is not None:
        frame = frame[~blank].reset_index(drop=True)
    return SourceRows(frame, notes=_control_note(path.name, clean_frame(frame)), name=path.name)


def _error_cells(path: Path, sheet: str | int, header_row: int) -> list[tuple[int, int, str]]:
    """(frame row, frame column, text) of each error cell ("#REF!", "#DIV/0!") below the header.

    Kept as their text so that an error in a rating is quarantined as not an answer instead of
    being read as no answer.
    """
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet_ = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
        return [
            (cell.row - header_row - 1, cell.column - 1, str(cell.value))
            for cells in sheet_.iter_rows(min_row=header_row + 1)
            for cell in cells
            if cell.data_type == "e"
        ]
    finally:
        book.close()
