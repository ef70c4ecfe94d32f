"""The physical shape of an export: format, encoding, delimiter, header row and sheet.

Each is decided from the bytes of every file PATH names (an encoding must fit all of them) and
returned as a :class:`~pipelines.sources.sniff_columns.Guess` with its reason. The header row
is the first row that is as full as the rows below it and holds names rather than values, so a
report title, a "Report period: ..." line and blank lines above the column names are skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.sources.files import decode_bytes
from pipelines.sources.sniff_columns import Guess
from pipelines.sources.types import SourceError

SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_BYTES = 256 * 1024
_SAMPLE_ROWS = 60
_VALUE = re.compile(r"^\s*[-+]?[\d.,/:\s-]+\s*$")  # a number, date or time, not a name


@dataclass
class FileShape:
    """How to read the files: what the YAML's format keys will say."""

    format: str
    encoding: Guess | None = None
    delimiter: Guess | None = None
    header_row: Guess | None = None
    sheet: Guess | None = None
    title: str | None = None  # the first line above the header (a report title)
    fhir_layout: str | None = None


def sniff_shape(files: list[Path]) -> FileShape:
    """Format, encoding, delimiter, header row and sheet of the files (the first decides the layout).

    Raises:
        SourceError: when the files are of different formats or cannot be read.
    """
    formats = {_format(p) for p in files}
    if len(formats) > 1:
        raise SourceError(f"the files are of different formats ({sorted(formats)}): give one kind at a time")
    fmt = formats.pop()
    shape = FileShape(format=fmt)
    if fmt in ("csv", "jsonl", "fhir"):
        shape.encoding = sniff_encoding([p.read_bytes()[: 4 * _SAMPLE_BYTES] for p in files])
    if fmt == "csv":
        _csv_shape(shape, files[0])
    elif fmt == "xlsx":
        _xlsx_shape(shape, files[0])
    elif fmt == "fhir":
        shape.fhir_layout = "ndjson" if files[0].suffix.lower() in (".ndjson", ".jsonl") else "json"
    return shape


def _format(path: Path) -> str:
    """The format by suffix (csv, xlsx, jsonl); JSON holding QuestionnaireResponses is fhir."""
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SourceError(f"{path.name}: not an export this pipeline reads (.csv, .xlsx, .json, .jsonl, .ndjson)")
    if fmt != "jsonl":
        return fmt
    head = path.read_bytes()[:_SAMPLE_BYTES].decode("utf-8", errors="replace")
    return "fhir" if re.search(r'"resourceType"\s*:\s*"(QuestionnaireResponse|Bundle)"', head) else "jsonl"


def sniff_encoding(samples: list[bytes]) -> Guess:
    """``auto`` for UTF-8/UTF-16 (and UTF-8 with a few stray Windows-1252 bytes); ``cp1252`` when no UTF-8 at all."""
    if all(s.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) for s in samples):
        return Guess("auto", "UTF-16 (byte-order mark): Excel 'Unicode text'")
    invalid, multibyte, example = 0, 0, ""
    for data in samples:
        text, _, bad = decode_bytes(data, "auto")
        invalid += bad
        if bad and not example:
            example = next((ch for ch in text if ord(ch) >= 0x80 and ch != "\ufeff"), "")
        multibyte += len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", data))
    if not invalid:
        return Guess("auto", "UTF-8" + (" (with non-ASCII letters)" if multibyte else " (plain ASCII)"))
    if multibyte and multibyte > invalid:
        return Guess("auto", f"UTF-8 with {invalid} stray Windows-1252 bytes: `auto` repairs them (and says so)")
    shown = f" such as {example!r}" if example else ""
    return Guess(
        "cp1252",
        f"{invalid} bytes{shown} are not UTF-8 and no UTF-8 letter is: Windows-1252 (latin-1 plus ’ “ – €)",
    )


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """The first records of a delimited text with the line each starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    out: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for fields in reader:
            out.append((line, fields))
            line = reader.line_num + 1
            if len(out) >= _SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    return out


def header_index(rows: list[list[str]]) -> int | None:
    """The first row as full as the rows below it whose cells are names, not values."""
    filled = [sum(bool(str(v).strip()) for v in row) for row in rows]
    for i, row in enumerate(rows):
        if filled[i] < 2:
            continue
        below = [n for n in filled[i + 1 : i + 21] if n]
        if below and filled[i] < 0.5 * statistics.median(below):
            continue
        names = [str(v).strip() for v in row if str(v).strip()]
        if sum(bool(_VALUE.match(v)) for v in names) <= 0.2 * len(names) and len(set(names)) >= 0.8 * len(names):
            return i
    return None


def _csv_shape(shape: FileShape, path: Path) -> None:
    text, _, _ = decode_bytes(path.read_bytes()[:_SAMPLE_BYTES], shape.encoding.value)
    best: tuple[float, int, str, int, list[tuple[int, list[str]]]] | None = None
    for delimiter in DELIMITERS:
        records = _records(text, delimiter)
        index = header_index([fields for _, fields in records])
        if index is None:
            continue
        width = len(records[index][1])
        below = [fields for _, fields in records[index + 1 :] if any(f.strip() for f in fields)]
        consistent = sum(len(f) == width for f in below) / len(below) if below else 0.5
        score = (consistent if width >= 2 else 0.0, width, delimiter, index, records)
        if best is None or score[:2] > best[:2]:
            best = score
    if best is None or best[0] == 0:
        raise SourceError(f"{path.name}: no header line with two or more column names found in its first lines")
    consistent, width, delimiter, index, records = best
    line = records[index][0]
    shape.delimiter = Guess(
        delimiter,
        f"{DELIMITERS[delimiter]}: {width} columns on the header line and on {consistent:.0%} of the rows below it",
    )
    shape.header_row = _header_guess(line, [fields for _, fields in records[:index]], "line")
    shape.title = _title([fields for _, fields in records[:index]])


def _header_guess(number: int, above: list[list[str]], unit: str) -> Guess:
    if number == 1:
        return Guess(1, f"the column names are on {unit} 1")
    title = _title(above)
    what = f"a title block ({title!r} ...)" if title else "blank lines"
    return Guess(number, f"{unit}s 1-{number - 1} are {what}, not rows")


def _title(above: list[list[Any]]) -> str | None:
    for row in above:
        cells = [str(v).strip() for v in row if v is not None and str(v).strip()]
        if cells:
            return cells[0][:100]
    return None


def _xlsx_shape(shape: FileShape, path: Path) -> None:
    """The sheet with the widest header, and the row it is on (a title block above is skipped)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise SourceError(f"cannot open workbook {path.name}: {type(exc).__name__}: {exc}") from exc
    best: tuple[int, int, str, list[list[str]]] | None = None
    try:
        for name in workbook.sheetnames:
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in workbook[name].iter_rows(min_row=1, max_row=_SAMPLE_ROWS, values_only=True)
            ]
            index = header_index(rows)
            if index is not None:
                width = sum(bool(v.strip()) for v in rows[index])
                if best is None or width > best[0]:
                    best = (width, index, name, rows)
    finally:
        workbook.close()
    if best is None:
        raise SourceError(f"{path.name}: no sheet has a row of two or more column names in its first rows")
    width, index, name, rows = best
    several = len(workbook.sheetnames) > 1
    shape.sheet = Guess(
        name if several else 0,
        f"the sheet with the widest header ({width} columns) of {len(workbook.sheetnames)}"
        if several
        else "the only sheet",
    )
    shape.header_row = _header_guess(index + 1, rows[:index], "row")
    shape.title = _title(rows[:index])


# --- FHIR: one column per linkId ----------------------------------------------------------------


def _fhir_resources(path: Path) -> list[dict]:
    text, _, _ = decode_bytes(path.read_bytes(), "auto")
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        found = []
        for line in text.splitlines():
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path.name}: not valid JSON ({exc.msg})") from exc
        if isinstance(document, dict) and document.get("resourceType") == "Bundle":
            found = [e.get("resource") for e in document.get("entry") or [] if isinstance(e, dict)]
        else:
            found = document if isinstance(document, list) else [document]
    return [r for r in found if isinstance(r, dict) and r.get("resourceType") == "QuestionnaireResponse"]


def _fhir_answers(items: Any, row: dict[str, str], labels: dict[str, str]) -> None:
    """First answer of every linkId (nested groups and answers' child items walked), as text; item texts."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        labels.setdefault(str(item.get("linkId")), f"{item.get('linkId')} {item.get('text') or ''}".strip())
        for answer in item.get("answer") or []:
            if not isinstance(answer, dict):
                continue
            coding = answer.get("valueCoding")
            value = next((answer[k] for k in answer if k.startswith("value") and k != "valueCoding"), None)
            if isinstance(coding, dict):
                value = coding.get("display") or coding.get("code")
            if value is not None:
                row.setdefault(str(item.get("linkId")), str(value))
            _fhir_answers(answer.get("item"), row, labels)
        _fhir_answers(item.get("item"), row, labels)


def fhir_frame(path: Path, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per QuestionnaireResponse, one string column per linkId (its first answer).

    ``labels`` (when given) collects "linkId item text" per linkId, for matching on what was asked.
    """
    rows = []
    labels = {} if labels is None else labels
    for resource in _fhir_resources(path):
        row: dict[str, str] = {}
        _fhir_answers(resource.get("item"), row, labels)
        rows.append(row)
    return pd.DataFrame(rows, dtype="string")
