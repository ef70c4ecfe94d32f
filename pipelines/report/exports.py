"""CSV and XLSX exports of every table a report shows.

The files are written by the one formula-guarded writer, :func:`pipelines.exports.write_csv` and
:func:`pipelines.exports.write_xlsx` (patient text that starts with ``=``, ``+``, ``-`` or ``@``
is prefixed with an apostrophe so no spreadsheet runs it). This module only shapes the report's
tables for a spreadsheet first: time-zoned timestamps (already local times) lose their zone, which
Excel cannot store. List cells (a comment's theme labels) stay lists here: the guard scans them item
by item, and the writers join them with "; " only after the scan.

With a guard (the final privacy scan, given by the report stage) each file is scanned just
before it is written; a file the guard blocks is left out and the others are still written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd

from pipelines import exports


def _export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_localize(None)  # local times already; the CSV matches the workbook
    return out


def write_exports(
    tables: dict[str, pd.DataFrame], folder: Path, workbook: str, guard: exports.ExportGuard | None = None
) -> list[Path]:
    """Write ``<folder>/<table>.csv`` for each table and one ``<folder>/<workbook>.xlsx``.

    Sheet names are the table names cut to Excel's 31 characters. A file ``guard`` blocks is
    not written (the guard has recorded why); the others are.

    Returns:
        The files written: the CSV files in the order of ``tables``, then the workbook.
    """
    shaped = {name: _export_frame(frame) for name, frame in tables.items()}
    jobs: list[Callable[[], Path]] = [
        partial(exports.write_csv, frame, folder / f"{name}.csv", guard=guard) for name, frame in shaped.items()
    ]
    jobs.append(partial(exports.write_xlsx, shaped, folder / f"{workbook}.xlsx", guard=guard))
    written = []
    for job in jobs:
        try:
            written.append(job())
        except exports.ExportBlocked:
            continue  # recorded by the guard; the stage ends non-zero once every other file is written
    return written
