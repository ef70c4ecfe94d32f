"""Source configuration: parsing, checking and loading source YAMLs, and listing their files in order.

A *source* is one YAML file in ``config/sources/`` (the file stem is its name); every key is
described in ``docs/sources.md``::

    stream: survey            # survey | suggestion | complaint
    preset: fft               # fft | nps | hcahps | questionnaire | suggestion_box | complaints
    format: csv               # csv | xlsx | jsonl | fhir | sql
    path: demo/fft_survey.csv # file or glob, relative to FEEDBACK_DATA_DIR
    timezone: Europe/London   # IANA zone of the source's local timestamps (stored as UTC)
    country: GB               # ISO 3166 alpha-2, for working-day (holiday) calendars
    mapping: {}               # overrides of the preset's column names / FHIR linkIds

:func:`parse_source_config` checks every key, then the preset and mapping (through
:func:`pipelines.sources.presets.check_config`), and builds a
:class:`~pipelines.sources.types.SourceConfig`. The shared types live in
:mod:`pipelines.sources.types` (``SourceConfig`` and ``SourceError`` are importable from here too).

The readers of export files are in :mod:`pipelines.sources.files`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zoneinfo
from pathlib import Path
from typing import Any

import yaml

from pipelines.sources.presets import check_config
from pipelines.sources.types import SourceConfig, SourceError

STREAMS = ("survey", "suggestion", "complaint")
FORMATS = ("csv", "jsonl", "xlsx", "fhir", "sql")
# Keys that change how rows are mapped: editing one of them re-ingests the source's files.
MAPPING_KEYS = (
    "stream",
    "preset",
    "format",
    "timezone",
    "dayfirst",
    "encoding",
    "delimiter",
    "sheet",
    "mapping",
    "defaults",
    "options",
    "header_row",
)
KNOWN_KEYS = frozenset(
    {
        "name",
        "stream",
        "preset",
        "format",
        "path",
        "timezone",
        "country",
        "dayfirst",
        "encoding",
        "delimiter",
        "sheet",
        "header_row",
        "mapping",
        "defaults",
        "options",
        "url_env",
        "connection",
        "query",
        "table",
        "watermark_column",
        "date_column",
        "quarantine_max",
    }
)


# --- source configs ----------------------------------------------------------------------------


def load_source_config(path: Path) -> SourceConfig:
    """Load and check one source file (its stem is the default name; a relative query is beside it).

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
    return parse_source_config(raw, origin=str(path))


def parse_source_config(raw: dict[str, Any], origin: str = "<dict>") -> SourceConfig:
    """Build a config from a parsed mapping (what the YAML holds), checking every key.

    The checks run in a fixed order (keys, zone and country, shapes, header row, quarantine
    share, then preset and mapping), so a config with several faults names the first of them.

    Raises:
        SourceError: naming ``origin`` and what is wrong.
    """
    _check_keys(raw, origin)
    timezone = _timezone(raw, origin)
    country = _country(raw, origin)
    _check_shapes(raw, origin)
    header_row = _header_row(raw, origin)
    quarantine_max = raw.get("quarantine_max")
    if quarantine_max is not None and not 0 <= float(quarantine_max) <= 1:
        raise SourceError(f"{origin}: quarantine_max must be a share between 0 and 1")
    config = SourceConfig(
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
        connection=raw.get("connection"),
        query=raw.get("query"),
        table=raw.get("table"),
        watermark_column=raw.get("watermark_column"),
        date_column=raw.get("date_column"),
        quarantine_max=None if quarantine_max is None else float(quarantine_max),
        config_hash=_config_hash(raw, header_row),
    )
    check_config(config, origin)
    return config


def _check_keys(raw: dict[str, Any], origin: str) -> None:
    """Only known keys; name, stream, preset and format present; stream and format known."""
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


def _timezone(raw: dict[str, Any], origin: str) -> str:
    timezone = str(raw.get("timezone", "Europe/London"))
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SourceError(f"{origin}: unknown time zone {timezone!r} (an IANA name like Europe/London)") from exc
    return timezone


def _country(raw: dict[str, Any], origin: str) -> str:
    country = str(raw.get("country", "GB")).upper()
    if not re.fullmatch(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?", country):
        raise SourceError(
            f"{origin}: country must be an ISO 3166 code like GB or a subdivision like GB-SCT, got {country!r}"
        )
    return country


def _check_shapes(raw: dict[str, Any], origin: str) -> None:
    """Nested keys are mappings; a SQL source names its URL (variable or Airflow connection) and one query or table.

    A file source names a path.
    """
    for key in ("mapping", "defaults", "options"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise SourceError(f"{origin}: '{key}' must be a mapping")
    if raw["format"] == "sql":
        if not raw.get("url_env") and not raw.get("connection"):
            raise SourceError(
                f"{origin}: a sql source needs 'url_env' (the environment variable with its URL) "
                "or 'connection' (an Airflow connection id)"
            )
        if raw.get("connection") is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", str(raw["connection"])):
            raise SourceError(f"{origin}: connection must be an Airflow connection id, got {raw['connection']!r}")
        if bool(raw.get("query")) == bool(raw.get("table")):
            raise SourceError(f"{origin}: a sql source needs exactly one of 'query' (a .sql file) or 'table'")
    elif not raw.get("path"):
        raise SourceError(f"{origin}: a {raw['format']} source needs 'path' (file or glob)")
    for key in ("connection", "date_column"):
        if raw.get(key) and raw["format"] != "sql":
            raise SourceError(f"{origin}: '{key}' is for sql sources, not {raw['format']!r}")


def _header_row(raw: dict[str, Any], origin: str) -> int:
    header_row = raw.get("header_row", 1)
    if isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1:
        raise SourceError(
            f"{origin}: header_row must be the 1-based line (CSV) or row (Excel) of the column names, "
            f"got {header_row!r}"
        )
    if header_row != 1 and raw["format"] not in ("csv", "xlsx"):
        raise SourceError(f"{origin}: header_row is for csv and xlsx sources, not {raw['format']!r}")
    return header_row


def _config_hash(raw: dict[str, Any], header_row: int) -> str:
    """Hash of the keys that change how rows map (:data:`MAPPING_KEYS`): a new hash re-ingests the files."""
    # header_row 1 (the default) hashes like an absent key: adding it does not re-ingest.
    hashed = {k: raw.get(k) for k in MAPPING_KEYS if k != "header_row" or header_row != 1}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()[:16]


def source_files(config: SourceConfig, data_dir: Path) -> list[Path]:
    """Files a source currently matches, in the order to ingest them (see :func:`order_files`).

    ``config.path`` may hold environment variables, ``~`` and a glob; a relative path is under ``data_dir``.
    """
    pattern = os.path.expandvars(config.path)
    base = Path(pattern).expanduser()
    if not base.is_absolute():
        base = data_dir / pattern
    if any(ch in str(base) for ch in "*?["):
        anchor = Path(base.anchor)
        return order_files([p for p in anchor.glob(str(base.relative_to(anchor))) if p.is_file()], config.dayfirst)
    return [base] if base.is_file() else []


_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}
_MONTH_NAME = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
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
    configs = [load_source_config(p) for p in sorted(sources_dir.glob("*.y*ml"))]
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
