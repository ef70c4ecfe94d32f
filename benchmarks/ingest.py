"""Ingestion throughput on a large FFT CSV: ``python -m benchmarks.ingest --rows 100000``.

Writes an FFT export of ``--rows`` responses (with the demo generator when it is installed),
ingests it into a throw-away warehouse and GX context, and prints seconds and rows/s for each
step: read (CSV -> strings), map (canonical records, local time -> UTC, ratings), Great
Expectations validation, load (one DuckDB transaction) and the whole batch; then GX again on
the same rows with 5% of them broken (failures cost more: their indices are collected) and a
re-ingest of the same rows (every row a duplicate). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.config import Settings
from pipelines.ingest import load as ingest
from pipelines.ingest import quality
from pipelines.sources.base import load_source_config
from pipelines.sources.files import read_delimited
from pipelines.sources.mapping import map_rows

FFT_SHARE = 0.62  # share of FFT rows in pipelines.demo.generator.generate


def write_fft(folder: Path, rows: int, seed: int) -> Path:
    """An FFT export of about ``rows`` responses in the preset's layout."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        from pipelines.demo import generator as demo_data
    except ImportError:
        return _fallback_fft(folder / "fft_survey.csv", rows, seed)
    demo_data.generate(folder, rows=math.ceil(rows / FFT_SHARE), seed=seed)
    return folder / "fft_survey.csv"


def _fallback_fft(path: Path, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    answers = ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"]
    good = ["Kind staff", "Seen quickly", "Clean ward", "", "", "Clear explanations"]
    improve = ["", "Parking", "Waiting time", "", "Food was cold", "Nobody told us what was happening"]
    start = np.datetime64("2025-11-01T00:00")
    minutes = np.sort(rng.integers(0, 365 * 24 * 60, rows))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "response_id",
                "submitted_at",
                "site",
                "service",
                "fft_rating",
                "what_was_good",
                "what_could_improve",
                "age_band",
            ]
        )
        for i in range(rows):
            stamp = str(start + np.timedelta64(int(minutes[i]), "m")).replace("T", " ")
            writer.writerow(
                [
                    f"FFT-{i:07d}",
                    stamp,
                    f"Site {i % 3}",
                    "Outpatients",
                    answers[rng.integers(6)],
                    good[rng.integers(6)],
                    improve[rng.integers(6)],
                    "35-44",
                ]
            )
    return path


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


class _Timer:
    def __enter__(self) -> _Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run(rows: int, seed: int = 42, keep: Path | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the measurements (also printed)."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    out: dict[str, Any] = {"rows_requested": rows}
    try:
        path = write_fft(work / "data" / "bench", rows, seed)
        sources = work / "sources"
        sources.mkdir(parents=True, exist_ok=True)
        (sources / "bench_fft.yaml").write_text(
            f"stream: survey\npreset: fft\nformat: csv\npath: {path}\ntimezone: Europe/London\ncountry: GB\n"
        )
        settings = Settings.from_env(
            {
                "FEEDBACK_DATA_DIR": str(work / "data"),
                "FEEDBACK_SOURCES_DIR": str(sources),
                "FEEDBACK_WAREHOUSE": str(work / "warehouse.duckdb"),
                "FEEDBACK_GX_DIR": str(work / "gx"),
                "FEEDBACK_QUARANTINE_MAX": "1",
            }
        )
        config = load_source_config(sources / "bench_fft.yaml")
        steps: dict[str, tuple[float, float]] = {}

        with _Timer() as t:
            gx, context = quality._context(settings.gx_dir)
            quality._checkpoint(gx, context, settings.gx_dir, "survey")
        steps["gx_start"] = (t.wall, t.cpu)
        with _Timer() as t:
            raw = read_delimited(path)
        steps["read"] = (t.wall, t.cpu)
        with _Timer() as t:
            mapped = map_rows(config, raw)
        steps["map"] = (t.wall, t.cpu)
        with _Timer() as t:
            (batch,) = ingest.ingest_source(settings, config)
        steps["batch"] = (t.wall, t.cpu)
        for step in ("read_map", "validate", "conform", "load"):
            steps[f"batch_{step}"] = (batch.timings[step], batch.timings[f"{step}_cpu"])

        broken = mapped.records.copy()
        bad = broken.sample(frac=0.05, random_state=seed).index
        broken.loc[bad, "_rating_key"] = "excellent"
        with _Timer() as t:
            outcome = quality.validate(broken, "survey", settings.gx_dir)
        steps["gx_5pct_bad"] = (t.wall, t.cpu)
        with _Timer() as t:
            (again,) = ingest.ingest_source(settings, config, force=True)
        steps["reingest"] = (t.wall, t.cpu)
        out.update(
            rows=raw.rows_read,
            records=len(mapped.records),
            steps=steps,
            batch=batch.as_dict(),
            gx_5pct_bad_failures=len(outcome.failures),
            reingest_duplicates=again.rows_duplicate,
            python=platform.python_version(),
            cpus=os.cpu_count(),
            load_average=os.getloadavg(),
        )
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    _print(out)
    return out


def _print(out: dict[str, Any]) -> None:
    rows, batch, steps = out["rows"], out["batch"], out["steps"]
    print(
        f"\ningest benchmark: {rows:,} FFT rows -> {out['records']:,} records (one per free-text answer); "
        f"{out['cpus']} CPUs, load average {out['load_average'][0]:.1f}\n"
    )
    print(f"{'step':<44}{'wall s':>8}{'rows/s':>11}{'CPU s':>8}{'rows/CPU-s':>12}")
    lines = [
        ("GX context + checkpoint (once per process)", "gx_start", 0),
        ("read CSV -> strings", "read", rows),
        ("map -> canonical records (UTC, ratings)", "map", rows),
        ("batch: read + map", "batch_read_map", rows),
        ("batch: GX validation (COMPLETE, clean)", "batch_validate", rows),
        ("batch: conform (ids, record hashes)", "batch_conform", rows),
        ("batch: load (one DuckDB transaction)", "batch_load", rows),
        ("batch: total", "batch", rows),
        (f"GX validation, 5% bad ({out['gx_5pct_bad_failures']:,} failing)", "gx_5pct_bad", rows),
        (f"re-ingest, all {out['reingest_duplicates']:,} duplicates", "reingest", rows),
    ]
    for label, key, n in lines:
        wall, cpu = steps[key]
        print(f"{label:<44}{wall:>8.2f}{_rate(n, wall) if n else '':>11}{cpu:>8.2f}{_rate(n, cpu) if n else '':>12}")
    print(
        f"\nreconciliation: read {batch['rows_read']:,} = loaded {batch['rows_loaded']:,} + quarantined "
        f"{batch['rows_quarantined']:,} + duplicate {batch['rows_duplicate']:,}"
    )
    if out["load_average"][0] > (out["cpus"] or 1):
        print("note: the machine was busy (load average above the CPU count); CPU seconds are the steadier measure")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="FFT responses in the CSV")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, default=None, help="keep the files in this folder")
    parser.add_argument("--json", action="store_true", help="also print the measurements as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out = run(args.rows, args.seed, args.keep)
    if args.json:
        print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
