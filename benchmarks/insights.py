"""What the fixed costs of a run cost on a big warehouse: key drivers, and each reporting view.

Both read a copy of an existing warehouse (``--warehouse PATH``, e.g. the one
``python -m benchmarks.incremental --rows 100000 --keep DIR`` leaves in ``DIR/data``); the
original is never written::

    python -m benchmarks.insights drivers --warehouse DIR/data/warehouse.duckdb --threads 1 2
    python -m benchmarks.insights views --warehouse DIR/data/warehouse.duckdb

``drivers`` times ``pipelines.insights.drivers.key_drivers`` on the warehouse's driver inputs
(the queries the theme stage runs), once per thread count. ``views`` materialises every
``reporting`` view once, as the reporting extract reads them, and prints the slowest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from pipelines import warehouse
from pipelines.config import Settings


def _settings(path: Path) -> Settings:
    return Settings.from_env({**os.environ, "FEEDBACK_WAREHOUSE": str(path)})


def drivers(path: Path, threads: list[int]) -> None:
    """Time key_drivers on the warehouse's inputs for each thread count."""
    from pipelines.insights.config import config_path, load_config
    from pipelines.insights.drivers import key_drivers

    settings = _settings(path)
    with warehouse.connect(settings, read_only=True) as con:
        responses = warehouse.run_sql(con, settings, "queries/insights/driver_responses").df()
        mentions = warehouse.run_sql(con, settings, "queries/insights/driver_mentions").df()
    cfg = load_config(config_path(settings))["drivers"]
    print(f"{len(responses)} responses, {len(mentions)} theme mentions, {cfg['bootstrap_reps']} bootstrap resamples")
    for count in threads:
        started = time.perf_counter()
        rows, skipped = key_drivers(responses, mentions, cfg, seed=settings.seed, threads=count)
        print(
            f"threads {count}: {time.perf_counter() - started:.2f} s, {len(rows)} driver rows, {len(skipped)} skipped"
        )


def views(path: Path, top: int) -> None:
    """Materialise every reporting view once; print the slowest ``top`` with their rows."""
    settings = _settings(path)
    timed = []
    with warehouse.connect(settings) as con:
        names = warehouse.run_sql(con, settings, "queries/report/extract_columns").fetchall()
        for view in sorted({v for v, _ in names}):
            started = time.perf_counter()
            rows = len(
                warehouse.run_sql(
                    con, settings, "queries/report/extract_read", {"relation": f"reporting.{view}"}
                ).fetchall()
            )
            timed.append((time.perf_counter() - started, rows, view))
    for seconds, rows, view in sorted(timed, reverse=True)[:top]:
        print(f"{seconds:7.2f} s {rows:>9} rows  reporting.{view}")
    print(f"{sum(t[0] for t in timed):7.2f} s all {len(timed)} views")


def main(argv: list[str] | None = None) -> int:
    """Command line (see ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["drivers", "views"])
    parser.add_argument("--warehouse", type=Path, required=True, help="warehouse to measure (a copy is used)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="drivers: thread counts to time")
    parser.add_argument("--top", type=int, default=10, help="views: how many of the slowest to print")
    args = parser.parse_args(argv)
    if not args.warehouse.is_file():
        parser.error(f"no warehouse at {args.warehouse}")
    with tempfile.TemporaryDirectory(prefix="bench-insights-") as folder:
        copy = Path(folder) / "warehouse.duckdb"
        shutil.copy(args.warehouse, copy)
        if args.what == "drivers":
            drivers(copy, args.threads)
        else:
            views(copy, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
