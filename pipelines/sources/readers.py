"""Read one file or extract of a source into canonical records, rejects and counts.

``read_source_file`` (files) and ``map_source_rows`` (rows already pulled, e.g. from SQL) are
what the ingest step calls; they dispatch on the source's ``format``. Rows that cannot even be
parsed (a truncated JSON line, a row with too many fields, a FHIR resource of the wrong type)
come back as rejects with a reason so that they are quarantined, not lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.sources.files import read_delimited, read_jsonl, read_xlsx
from pipelines.sources.mapping import Mapped, build_records, map_rows
from pipelines.sources.reshape import prepare_rows
from pipelines.sources.types import SourceConfig, SourceError, SourceRows


@dataclass
class SourceRead:
    """Everything one file/extract yields.

    ``rows_read`` = parsed rows + rejects + rows skipped by status (FHIR).
    """

    mapped: Mapped
    rows: SourceRows
    skipped: dict[str, int] = field(default_factory=dict)
    retracted: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Every source row or resource seen in the file."""
        return self.rows.rows_read + sum(self.skipped.values())

    @property
    def rows_skipped(self) -> int:
        """Rows deliberately not loaded (FHIR in-progress / entered-in-error)."""
        return sum(self.skipped.values())


def map_source_rows(config: SourceConfig, rows: SourceRows) -> SourceRead:
    """Map rows that are already read (CSV, Excel, JSON Lines or a SQL pull).

    A long export (one row per answer) is pivoted to one row per respondent first, and the
    source's placeholder answers ("Did not answer", "N/A") are blanked (``options.long``,
    ``options.placeholders``).
    """
    rows = prepare_rows(config, rows)
    return SourceRead(map_rows(config, rows), rows)


def read_source_file(config: SourceConfig, path: Path) -> SourceRead:
    """Read and map one file.

    Raises:
        SourceError: when the file as a whole cannot be read (unreadable workbook, a JSON
            document that does not parse, a required column missing).
    """
    if config.format == "csv":
        return map_source_rows(config, read_delimited(path, config.delimiter, config.encoding, config.header_row))
    if config.format == "jsonl":
        return map_source_rows(config, read_jsonl(path, config.encoding))
    if config.format == "xlsx":
        return map_source_rows(config, read_xlsx(path, config.sheet, config.header_row))
    if config.format == "fhir":
        from pipelines.sources.fhir import read_fhir

        read = read_fhir(config, path)
        return SourceRead(build_records(config, read.extract), read.rows, read.skipped, read.retracted)
    raise SourceError(f"source {config.name}: format {config.format!r} is not read from files")
