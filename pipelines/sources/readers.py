"""Read one source file into canonical records plus reader-level rejects.

``read_source_file`` is the single entry point the ingest step uses; it dispatches on the
source's ``format``. Rows that cannot even be parsed (a truncated JSON line, a FHIR resource of
the wrong type) come back as *rejects* with a reason so that they are quarantined, not lost.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.sources.base import SourceConfig, SourceError, read_delimited, read_jsonl
from pipelines.sources.presets import map_rows

REJECT_COLUMNS = ["row_number", "source_record_id", "raw_row", "failed_check", "reason"]


def _rejects(rows: list[tuple[int, str, str]], check: str) -> pd.DataFrame:
    return pd.DataFrame(
        [{"row_number": n, "source_record_id": None, "raw_row": raw, "failed_check": check, "reason": why} for n, raw, why in rows],
        columns=REJECT_COLUMNS,
    )


def read_source_file(config: SourceConfig, path: Path) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read and map one file.

    Returns:
        (mapped records with ``_row_number``/``_raw``, rejects, number of source rows read)

    Raises:
        SourceError: when the file as a whole cannot be read (wrong format, no header,
            required columns missing).
    """
    if config.format == "csv":
        rows = read_delimited(path, config.options.get("delimiter"))
        return map_rows(config, rows), _rejects([], "parse"), len(rows)
    if config.format == "jsonl":
        rows, bad = read_jsonl(path)
        mapped = map_rows(config, rows) if len(rows) else rows
        return mapped, _rejects(bad, "parse_json_line"), len(rows) + len(bad)
    if config.format == "xlsx":
        try:
            frame = pd.read_excel(path, dtype=str, sheet_name=config.options.get("sheet", 0), keep_default_na=False)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise SourceError(f"source {config.name}: cannot read workbook {path.name}: {exc}") from exc
        frame.columns = [str(c).strip() for c in frame.columns]
        frame = frame.astype("string")
        frame["_row_number"] = range(2, len(frame) + 2)
        frame["_raw"] = frame.drop(columns=["_row_number"]).to_json(orient="records", lines=True).splitlines() if len(frame) else []
        return map_rows(config, frame), _rejects([], "parse"), len(frame)
    raise SourceError(f"source {config.name}: format {config.format!r} has no reader yet")
