"""Source configuration and the file readers shared by every stream.

A *source* is one YAML file in ``config/sources/`` (the file stem is its name); every key is
described in ``docs/sources.md``::

    stream: survey            # survey | suggestion | complaint
    preset: fft               # fft | nps | hcahps | questionnaire | suggestion_box | complaints
    format: csv               # csv | xlsx | jsonl | fhir | sql
    path: demo/fft_survey.csv # file or glob, relative to FEEDBACK_DATA_DIR
    timezone: Europe/London   # IANA zone of the source's local timestamps (stored as UTC)
    country: GB               # ISO 3166 alpha-2, for working-day (holiday) calendars
    mapping: {}               # overrides of the preset's column names / FHIR linkIds

Readers return every row as strings (``pd.NA`` when absent) with its 1-based row number, and
rows that cannot be parsed at all as :class:`Reject` s, so that nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import threading
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

STREAMS = ("survey", "suggestion", "complaint")
FORMATS = ("csv", "jsonl", "xlsx", "fhir", "sql")
# Keys that change how rows are mapped: editing one of them re-ingests the source's files.
MAPPING_KEYS = ("stream", "preset", "format", "timezone", "dayfirst", "encoding", "delimiter", "sheet", "mapping",
                "defaults", "options", "header_row")
KNOWN_KEYS = frozenset(
    {
        "name", "stream", "preset", "format", "path", "timezone", "country", "dayfirst", "encoding", "delimiter",
        "sheet", "header_row", "mapping", "defaults", "options", "url_env", "query", "table", "watermark_column",
        "quarantine_max",
    }
)


class SourceError(ValueError):
    """A source is misconfigured or its file cannot be read at all."""


@dataclass(frozen=True)
class Reject:
    """A source row that could not be parsed into fields; it is quarantined verbatim."""

    row_number: int | None
    raw_row: str
    failed_check: str
    reason: str
    source_record_id: str | None = None


@dataclass
class SourceRows:
    """Rows of one file or extract as read, before mapping.

    ``frame`` holds the source's own column names as strings plus ``_row_number``; readers
    that see the verbatim text of each row (JSON Lines, FHIR) also set ``_raw``.
    """

    frame: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    name: str = ""

    @property
    def rows_read(self) -> int:
        """Every row seen: parsed rows plus rejects."""
        return len(self.frame) + len(self.rejects)

    def raw_rows(self, positions: list[int]) -> list[str]:
        """The raw text of the rows at ``positions`` (JSON of the row when no verbatim text)."""
        if "_raw" in self.frame:
            return [str(v) for v in self.frame["_raw"].iloc[positions]]
        columns = [c for c in self.frame.columns if not c.startswith("_")]
        out = []
        for row in self.frame.iloc[positions][columns].itertuples(index=False):
            out.append(json.dumps({c: (None if pd.isna(v) else v) for c, v in zip(columns, row, strict=True)},
                                  ensure_ascii=False, default=str))
        return out


@dataclass(frozen=True)
class SourceConfig:
    """One configured source (see ``docs/sources.md`` for every key)."""

    name: str
    stream: str
    preset: str
    format: str
    path: str = ""
    timezone: str = "Europe/London"
    country: str = "GB"
    dayfirst: bool = True
    encoding: str = "auto"
    delimiter: str | None = None
    sheet: str | int = 0
    header_row: int = 1
    mapping: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    url_env: str | None = None
    query: str | None = None
    table: str | None = None
    watermark_column: str | None = None
    quarantine_max: float | None = None
    config_hash: str = ""

    @classmethod
    def from_yaml(cls, path: Path) -> SourceConfig:
        """Load and check one source file.

        Raises:
            SourceError: with the file name and what is wrong.
        """
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SourceError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise SourceError(f"{path}: expected a mapping of keys, got {type(raw).__name__}")
        raw.setdefault("name", path.stem)
        if raw.get("query") and not Path(str(raw["query"])).is_absolute():
            raw["query"] = str(path.parent / str(raw["query"]))
        return cls.from_dict(raw, origin=str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], origin: str = "<dict>") -> SourceConfig:
        """Build a config from a parsed mapping (what the YAML holds), checking every key.

        Raises:
            SourceError: naming ``origin`` and what is wrong.
        """
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            raise SourceError(f"{origin}: unknown keys {sorted(unknown)}; allowed: {sorted(KNOWN_KEYS)}")
        for key in ("name", "stream", "preset", "format"):
            if not raw.get(key):
                raise SourceError(f"{origin}: missing required key '{key}'")
        if raw["stream"] not in STREAMS:
            raise SourceError(f"{origin}: stream must be one of {STREAMS}, got {raw['stream']!r}")
        if raw["format"] not in FORMATS:
            raise SourceError(f"{origin}: format must be one of {FORMATS}, got {raw['format']!r}")
        timezone = str(raw.get("timezone", "Europe/London"))
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise SourceError(f"{origin}: unknown time zone {timezone!r} (an IANA name like Europe/London)") from exc
        country = str(raw.get("country", "GB")).upper()
        if not re.fullmatch(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?", country):
            raise SourceError(
                f"{origin}: country must be an ISO 3166 code like GB or a subdivision like GB-SCT, got {country!r}"
            )
        for key in ("mapping", "defaults", "options"):
            if raw.get(key) is not None and not isinstance(raw[key], dict):
                raise SourceError(f"{origin}: '{key}' must be a mapping")
        if raw["format"] == "sql":
            if not raw.get("url_env"):
                raise SourceError(f"{origin}: a sql source needs 'url_env' (the environment variable with its URL)")
            if bool(raw.get("query")) == bool(raw.get("table")):
                raise SourceError(f"{origin}: a sql source needs exactly one of 'query' (a .sql file) or 'table'")
        elif not raw.get("path"):
            raise SourceError(f"{origin}: a {raw['format']} source needs 'path' (file or glob)")
        header_row = raw.get("header_row", 1)
        if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
            raise SourceError(
                f"{origin}: header_row must be the 1-based line (CSV) or row (Excel) of the column names, "
                f"got {header_row!r}"
            )
        if header_row != 1 and raw["format"] not in ("csv", "xlsx"):
            raise SourceError(f"{origin}: header_row is for csv and xlsx sources, not {raw['format']!r}")
        quarantine_max = raw.get("quarantine_max")
        if quarantine_max is not None and not 0 <= float(quarantine_max) <= 1:
            raise SourceError(f"{origin}: quarantine_max must be a share between 0 and 1")
        # header_row 1 (the default) hashes like an absent key: adding it does not re-ingest.
        hashed = {k: raw.get(k) for k in MAPPING_KEYS if k != "header_row" or header_row != 1}
        config = cls(
            name=str(raw["name"]),
            stream=raw["stream"],
            preset=str(raw["preset"]),
            format=raw["format"],
            path=str(raw.get("path") or ""),
            timezone=timezone,
            country=country,
            dayfirst=bool(raw.get("dayfirst", True)),
            encoding=str(raw.get("encoding") or "auto"),
            delimiter=raw.get("delimiter"),
            sheet=raw.get("sheet", 0),
            header_row=header_row,
            mapping=dict(raw.get("mapping") or {}),
            defaults={k: str(v) for k, v in (raw.get("defaults") or {}).items()},
            options=dict(raw.get("options") or {}),
            url_env=raw.get("url_env"),
            query=raw.get("query"),
            table=raw.get("table"),
            watermark_column=raw.get("watermark_column"),
            quarantine_max=None if quarantine_max is None else float(quarantine_max),
            config_hash=hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()[:16],
        )
        # Imported here: presets imports this module.
        from pipelines.sources.presets import check_config

        check_config(config, origin)
        return config

    def files(self, data_dir: Path) -> list[Path]:
        """Files this source currently matches, in the order to ingest them (see :func:`order_files`)."""
        pattern = os.path.expandvars(self.path)
        base = Path(pattern).expanduser()
        if not base.is_absolute():
            base = data_dir / pattern
        if any(ch in str(base) for ch in "*?["):
            anchor = Path(base.anchor)
            return order_files([p for p in anchor.glob(str(base.relative_to(anchor))) if p.is_file()], self.dayfirst)
        return [base] if base.is_file() else []


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH_NAME = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
               r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_NAME_DATES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2026-11-03, 2026_11, 20261103, 202611
    ("ymd", re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]?(0[1-9]|1[0-2])(?:[-_.]?(0[1-9]|[12]\d|3[01]))?(?!\d)")),
    # 03-11-2026, 03.11.2026 (day first unless the source says dayfirst: false)
    ("dmy", re.compile(r"(?<!\d)(\d{1,2})[-_.](\d{1,2})[-_.]((?:19|20)\d\d)(?!\d)")),
    # Nov2026, November 2026, nov_26, 3 Nov 2026
    ("my", re.compile(r"(?<![a-z])" + _MONTH_NAME + r"(?![a-z])[-_ .]?((?:19|20)\d\d|\d\d)(?!\d)")),
    # 2026-Nov, 2026 November
    ("ym", re.compile(r"(?<!\d)((?:19|20)\d\d)[-_ .]?" + _MONTH_NAME + r"(?![a-z])")),
)


def name_date(name: str, dayfirst: bool = True) -> tuple[int, int, int] | None:
    """The date written in a file or folder name (``fft_Nov2026.csv`` -> (2026, 11, 0)), if any."""
    text = name.lower()
    for kind, pattern in _NAME_DATES:
        for m in pattern.finditer(text):
            if kind == "ymd":
                return int(m[1]), int(m[2]), int(m[3] or 0)
            if kind == "dmy":
                day, month = (int(m[1]), int(m[2])) if dayfirst else (int(m[2]), int(m[1]))
                if 1 <= month <= 12 and 1 <= day <= 31:
                    return int(m[3]), month, day
                continue
            if kind == "my":
                year = int(m[2]) if len(m[2]) == 4 else 2000 + int(m[2])
                return year, _MONTHS[m[1][:3]], 0
            return int(m[1]), _MONTHS[m[2][:3]], 0
    return None


def order_files(paths: list[Path], dayfirst: bool = True) -> list[Path]:
    """Order a source's files for ingestion: by the date in their names when every name has one, else by name.

    A later file may update records of an earlier one (cumulative exports, complaint statuses), so
    ``fft_Dec2026.csv`` must come after ``fft_Nov2026.csv`` although "D" sorts before "N". Dates are
    looked for in the part of the path that differs between the files (name and sub-folders).
    """
    paths = sorted(paths)
    if len(paths) < 2:
        return paths
    common = Path(os.path.commonpath([str(p.parent) for p in paths]))
    dates = [name_date(str(p.relative_to(common)), dayfirst) for p in paths]
    if any(d is None for d in dates):
        return paths
    return [p for _, p in sorted(zip(dates, paths, strict=True), key=lambda dp: (dp[0], str(dp[1])))]


def load_source_configs(sources_dir: Path, names: list[str] | None = None) -> list[SourceConfig]:
    """All source configs in ``sources_dir`` (or just ``names``), sorted by name.

    Raises:
        SourceError: if a config is invalid, two share a name, or a requested name is unknown.
    """
    configs = [SourceConfig.from_yaml(p) for p in sorted(sources_dir.glob("*.y*ml"))]
    seen: dict[str, int] = {}
    for c in configs:
        seen[c.name] = seen.get(c.name, 0) + 1
    clashes = sorted(n for n, k in seen.items() if k > 1)
    if clashes:
        raise SourceError(f"source names must be unique in {sources_dir}: {clashes}")
    if names:
        missing = set(names) - set(seen)
        if missing:
            raise SourceError(f"no source config named {sorted(missing)} in {sources_dir}")
        configs = [c for c in configs if c.name in names]
    return configs


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


def read_delimited(path: Path, delimiter: str | None = None, encoding: str = "auto",
                   header_row: int = 1) -> SourceRows:
    """Read a CSV/TSV/semicolon export as strings.

    The column names are on line ``header_row`` (1-based; the lines above it, such as a report
    title, are not rows). The delimiter is detected on the header line unless given. A row whose
    number of fields differs from the header (an unquoted delimiter or line break inside a
    comment) is rejected whole rather than loaded with shifted values - even when the extra
    fields are empty, since a comma inside an unquoted comment shifts every later column. Blank
    lines (and lines of delimiters only) are not rows. ``_row_number`` is the line of the file a
    row ends on.
    """
    text, used, repaired = decode_bytes(path.read_bytes(), encoding)
    offset = header_row - 1
    if offset:
        lines = text.split("\n", offset)
        text = lines[offset] if len(lines) > offset else ""
    if delimiter is None:
        delimiter = sniff_delimiter(text.split("\n", 1)[0])
    # Large comment fields: lift the csv module's 128 KB field cap.
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        header = _header(next(reader))
    except StopIteration:
        where = f" at or after line {header_row}" if offset else ""
        return SourceRows(pd.DataFrame(columns=["_row_number"]), notes=[f"{path.name}: empty file{where}"],
                          name=path.name)
    except csv.Error as exc:
        raise SourceError(f"{path.name}: cannot read the header line: {exc}") from exc
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
                record = dict(zip(header, values, strict=False))
                if len(values) > width:
                    record["_extra_fields"] = values[width:]
                rejects.append(
                    Reject(
                        number,
                        json.dumps(record, ensure_ascii=False),
                        "parse:field_count",
                        "row has more or fewer fields than the header (unquoted delimiter or line break in a field?)",
                    )
                )
                continue
            rows.append(values)
            numbers.append(number)
    except csv.Error as exc:
        # Only an unterminated quote at end of file gets here: keep what was read, reject the rest.
        rejects.append(Reject(reader.line_num + offset, text[-10_000:], "parse:csv", f"CSV syntax error: {exc}"))
    frame = pd.DataFrame(rows, columns=header, dtype="string") if rows else pd.DataFrame(columns=header, dtype="string")
    frame["_row_number"] = pd.Series(numbers, dtype="int64")
    notes = _decode_note(path.name, used, repaired)
    if width == 1 and delimiter == ",":
        notes.append(
            f"{path.name}: the header (line {header_row}) has a single column; is the delimiter one of "
            f"{DELIMITERS!r}, or are the column names on a later line (set `header_row:`)?"
        )
    return SourceRows(frame, rejects, notes, path.name)


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
        frame = pd.read_excel(path, dtype=str, sheet_name=sheet, keep_default_na=False, engine="openpyxl",
                              header=header_row - 1)
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
