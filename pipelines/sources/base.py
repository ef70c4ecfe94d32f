"""Source configuration and file reading shared by every stream.

A *source* is one YAML file in ``config/sources/`` (the file stem is its name)::

    stream: survey            # survey | suggestion | complaint
    preset: fft               # how columns map to the canonical record (see presets)
    format: csv               # csv | jsonl | xlsx | fhir | sql
    path: demo/fft_survey.csv # file or glob, relative to FEEDBACK_DATA_DIR
    timezone: Europe/London   # local time zone of the source's timestamps
    country: GB               # for working-day calendars
    mapping: {}               # overrides of the preset's column names

Readers return every row as strings, with its 1-based row number and the raw row (JSON) so a
row that fails later can be quarantined verbatim.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

STREAMS = ("survey", "suggestion", "complaint")
FORMATS = ("csv", "jsonl", "xlsx", "fhir", "sql")


class SourceError(ValueError):
    """A source is misconfigured or its file cannot be read at all."""


@dataclass(frozen=True)
class SourceConfig:
    """One configured source."""

    name: str
    stream: str
    preset: str
    format: str
    path: str = ""
    timezone: str = "Europe/London"
    country: str = "GB"
    dayfirst: bool = True
    mapping: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

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
        known = {"stream", "preset", "format", "path", "timezone", "country", "dayfirst", "mapping", "options", "name"}
        unknown = set(raw) - known
        if unknown:
            raise SourceError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        for key in ("stream", "preset", "format"):
            if key not in raw:
                raise SourceError(f"{path}: missing required key '{key}'")
        if raw["stream"] not in STREAMS:
            raise SourceError(f"{path}: stream must be one of {STREAMS}, got {raw['stream']!r}")
        if raw["format"] not in FORMATS:
            raise SourceError(f"{path}: format must be one of {FORMATS}, got {raw['format']!r}")
        return cls(
            name=raw.get("name", path.stem),
            stream=raw["stream"],
            preset=raw["preset"],
            format=raw["format"],
            path=str(raw.get("path", "")),
            timezone=raw.get("timezone", "Europe/London"),
            country=raw.get("country", "GB"),
            dayfirst=bool(raw.get("dayfirst", True)),
            mapping=dict(raw.get("mapping") or {}),
            options=dict(raw.get("options") or {}),
        )

    def files(self, data_dir: Path) -> list[Path]:
        """Files this source currently matches, oldest name first."""
        pattern = os.path.expandvars(self.path)
        base = Path(pattern)
        if not base.is_absolute():
            base = data_dir / pattern
        if any(ch in base.name for ch in "*?["):
            return sorted(p for p in base.parent.glob(base.name) if p.is_file())
        return [base] if base.is_file() else []


def load_source_configs(sources_dir: Path, names: list[str] | None = None) -> list[SourceConfig]:
    """All source configs in ``sources_dir`` (or just ``names``), sorted by name."""
    configs = [SourceConfig.from_yaml(p) for p in sorted(sources_dir.glob("*.y*ml"))]
    if names:
        missing = set(names) - {c.name for c in configs}
        if missing:
            raise SourceError(f"no source config named {sorted(missing)} in {sources_dir}")
        configs = [c for c in configs if c.name in names]
    return configs


def file_checksum(path: Path) -> str:
    """sha256 of a file's bytes: the same export is never ingested twice."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode an export: UTF-8 (with or without BOM), else Windows-1252 (never fails)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def read_delimited(path: Path, delimiter: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/semicolon export as strings, sniffing the delimiter.

    Returns a frame with the file's columns (names stripped) plus ``_row_number`` and
    ``_raw`` (the row as JSON). Rows with too many fields keep the extras in ``_raw``.
    """
    text, _ = decode_bytes(path.read_bytes())
    if delimiter is None:
        sample = text[:65536]
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    # Large comment fields: lift the csv module's 128 KB field cap.
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return pd.DataFrame(columns=["_row_number", "_raw"])
    rows, raws, numbers = [], [], []
    width = len(header)
    for number, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        record = dict(zip(header, values, strict=False))
        if len(values) > width:
            record["_extra_fields"] = values[width:]
        raws.append(json.dumps(record, ensure_ascii=False))
        rows.append(values[:width] + [""] * (width - len(values)))
        numbers.append(number)
    df = pd.DataFrame(rows, columns=header, dtype="string")
    df["_row_number"] = numbers
    df["_raw"] = raws
    return df


def read_jsonl(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Read JSON Lines; returns (rows, bad lines as (row_number, raw, error))."""
    text, _ = decode_bytes(path.read_bytes())
    records, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append((number, line[:10000], f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            bad.append((number, line[:10000], "JSON line is not an object"))
            continue
        row = {k: (None if v is None else str(v)) for k, v in obj.items()}
        row["_row_number"] = number
        row["_raw"] = line
        records.append(row)
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=["_row_number", "_raw"])
    return df, bad
