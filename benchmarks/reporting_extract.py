"""Time and size of the PHI-free reporting extract (pipelines/report/extract.py).

Two warehouses: the synthetic report warehouse (``report_sample``, no ML stages, seconds to
build) with ``--records N``, or an existing warehouse (``--warehouse PATH``, e.g. one a
``feedback run`` on the 1000-record demo left behind; it is copied first, never written).
Writes the extract ``--repeat`` times and prints wall times, rows and sizes::

    python -m benchmarks.reporting_extract --records 1000
    python -m benchmarks.reporting_extract --warehouse data/warehouse.duckdb --scan
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.report.extract import write_extract

ROOT = Path(__file__).resolve().parents[1]


def measure(settings: Settings, repeat: int, scan: bool) -> dict[str, object]:
    """Write the extract ``repeat`` times on ``settings``' warehouse (through the privacy scan if ``scan``)."""
    times = []
    with warehouse.connect(settings) as con:
        for i in range(repeat):
            started = time.perf_counter()
            guard = None
            if scan:
                from pipelines.privacy.scan import ExportScan

                guard = ExportScan(settings, con, f"bench-{i}", record=False)
            (path,) = write_extract(settings, con, f"bench-{i}", guard=guard)
            times.append(round(time.perf_counter() - started, 2))
        rows = warehouse.run_sql(con, settings, "queries/report/extract_columns").fetchall()
    return {
        "views": len({r[0] for r in rows}),
        "seconds": times,
        "extract_bytes": path.stat().st_size,
        "warehouse_bytes": settings.warehouse.stat().st_size,
    }


def main() -> None:
    """Build or copy a warehouse into a temporary folder and measure the extract on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="records of the synthetic report warehouse")
    parser.add_argument("--warehouse", type=Path, help="measure on a copy of this warehouse instead")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scan", action="store_true", help="through the final privacy scan, as the report stage does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as folder:
        settings = Settings.from_env(
            {"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(Path(folder) / "warehouse.duckdb")}
        )
        if args.warehouse:
            shutil.copy(args.warehouse, settings.warehouse)
            what = f"copy of {args.warehouse}"
        else:
            from pipelines.demo import report_sample
            from pipelines.insights.kpis import prepare_reporting

            with warehouse.connect(settings) as con:
                report_sample.load_sample(settings, con, n_records=args.records)
                prepare_reporting(settings, con)
            what = f"synthetic report warehouse, {args.records} records"
        result = measure(settings, args.repeat, args.scan)
    print(f"reporting extract on the {what}: {result}")


if __name__ == "__main__":
    main()
