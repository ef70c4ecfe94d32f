"""The values every source module shares: a source's config, the rows read from it, and its errors.

The bottom of :mod:`pipelines.sources`: it imports no other module of the package, so every
other module (``files``, ``scales``, ``presets``, ``base``, ``mapping``, ``fhir``, ``sql``,
``readers``) can import it without a cycle. Parsing and checking a config lives in :mod:`pipelines.sources.base`
(:func:`~pipelines.sources.base.parse_source_config`), because checking a mapping needs the presets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


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
            out.append(
                json.dumps(
                    {c: (None if pd.isna(v) else v) for c, v in zip(columns, row, strict=True)},
                    ensure_ascii=False,
                    default=str,
                )
            )
        return out


@dataclass(frozen=True)
class SourceConfig:
    """One configured source (see ``docs/sources.md`` for every key).

    Build it with :func:`pipelines.sources.base.parse_source_config` (or ``load_source_config``),
    which checks every key; the constructor itself checks nothing.
    """

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
    connection: str | None = None  # an Airflow connection id, resolved by the DAG at run time
    query: str | None = None
    table: str | None = None
    watermark_column: str | None = None
    date_column: str | None = None  # what a backfill window filters on (default: the received_at column)
    quarantine_max: float | None = None
    config_hash: str = ""
