"""``make bench-incremental``: what a run costs when nothing, or 1%, is new (issue 16, item 4).

    python -m benchmarks.incremental --rows 2000            # full, no-op, 1% increment, no-op
    python -m benchmarks.incremental --rows 2000 --check    # and a full rebuild to compare with

Demo data (``feedback demo-data``) is generated in a throw-away folder; the newest 1% of every
source file's records (the files are in time order) are held back. Then ``feedback run`` runs
as a user runs it, in a fresh process each time (imports included):

1. **full**: the first run, on the other 99% (fresh warehouse, no theme model yet);
2. **no-op**: the same again, nothing new;
3. **1% increment**: the held-back records appended to the source files, then a run;
4. **no-op after**: nothing new again.

With ``--check`` a fifth run builds a fresh warehouse from the final files in one go, and every
reporting view and table count is compared with the incremental warehouse (theme ids and
BERTopic fits differ by construction between a refit and daily assignment, so the comparison
is made with ``--refit never`` semantics: see ``tests/e2e/test_incremental.py`` for the strict
test on a pipeline without a refit in between).

Printed: wall seconds per run and per stage (from ``ops.stage_runs``), what each stage did
(ran, or skipped with no change), and the targets: a no-op run <= 3 s, the 1% increment <= 5% of
the full run. Nothing is written to the checkout: the theme model goes to the temporary models
folder, the warehouse, reports and GX context to the temporary data folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
NO_OP_TARGET_SECONDS = 3.0
INCREMENT_TARGET_SHARE = 0.05
STAGES = ("ingest", "enrich", "themes", "report")


@dataclass
class Step:
    """One ``feedback run`` and what its stages did."""

    name: str
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    returncode: int = 0


def _env(work: Path) -> dict[str, str]:
    """The environment of every run: all writable paths in ``work``, offline."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(work / "data"),
        "FEEDBACK_WAREHOUSE": str(work / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(work / "reports"),
        "FEEDBACK_SOURCES_DIR": str(work / "sources"),
        "FEEDBACK_GX_DIR": str(work / "gx"),
        "FEEDBACK_MODELS_DIR": str(work / "models"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "PYTHONHASHSEED": "0",
    }


def prepare(work: Path, rows: int, seed: int) -> dict[str, list[str]]:
    """Demo data, sources and a models folder in ``work``; returns the held-back 1% per file."""
    from pipelines.demo import generator

    demo = work / "data" / "demo"
    generator.generate(demo, rows=rows, seed=seed)
    (work / "sources").mkdir(parents=True)
    for yaml in sorted((ROOT / "config" / "sources").glob("demo_*.yaml")):
        shutil.copy(yaml, work / "sources" / yaml.name)
    themes = work / "models" / "themes"
    themes.mkdir(parents=True)
    for name in ("config.yaml", "taxonomy.yaml", "insights.yaml"):
        shutil.copy(ROOT / "models" / "themes" / name, themes / name)
    (work / "models" / "sentiment").mkdir()
    (work / "models" / "sentiment" / "build").symlink_to(ROOT / "models" / "sentiment" / "build")
    return hold_back(demo)


def hold_back(demo: Path, share: float = 0.01) -> dict[str, list[str]]:
    """Rewrite every demo source file without its newest ``share`` of records; returns them per file."""
    held: dict[str, list[str]] = {}
    for path in sorted(demo.iterdir()):
        if path.suffix == ".csv":
            held[path.name] = _hold_back_csv(path, share)
        elif path.suffix == ".jsonl":
            held[path.name] = _hold_back_lines(path, share)
    return held


def _hold_back_csv(path: Path, share: float) -> list[str]:
    """Rewrite ``path`` without its newest ``share`` of records; return those records as CSV text."""
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    header, body = records[0], records[1:]
    keep = len(body) - max(1, round(len(body) * share))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body[:keep])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(body[keep:])
    return [out.getvalue()]


def _hold_back_lines(path: Path, share: float) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = len(lines) - max(1, round(len(lines) * share))
    path.write_text("".join(lines[:keep]), encoding="utf-8")
    return ["".join(lines[keep:])]


def append(demo: Path, held: dict[str, list[str]]) -> int:
    """Append the held-back records to their source files; returns how many lines were added."""
    added = 0
    for name, chunks in held.items():
        with (demo / name).open("a", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
                added += chunk.count("\n")
    return added


def run(work: Path, name: str, *extra: str) -> Step:
    """One ``feedback run`` in a fresh process, timed; its stages read back from ops.stage_runs."""
    feedback = Path(sys.executable).parent / "feedback"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(feedback), "run", "--no-progress", *extra],
        env=_env(work),
        capture_output=True,
        text=True,
        timeout=7200,
    )
    step = Step(name, time.perf_counter() - started, returncode=proc.returncode)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        return step
    with duckdb.connect(str(work / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select stage, epoch(finished_at - started_at), message from ops.stage_runs "
            "where run_id = (select run_id from ops.stage_runs order by started_at desc limit 1)"
        ).fetchall()
    for stage, seconds, message in rows:
        step.stages[stage] = float(seconds or 0.0)
        step.outcomes[stage] = _outcome(message)
    return step


def _outcome(message: str | None) -> str:
    if (message or "").startswith('{"outcome": "skipped'):
        return "skipped"  # the message may be cut at 2000 characters (a report lists its files)
    try:
        parsed = json.loads(message or "{}")
    except json.JSONDecodeError:
        return "ran"
    if not isinstance(parsed, dict):
        return "?"
    if parsed.get("outcome"):
        return "skipped"
    if "rows_out" in parsed:
        return f"ran ({parsed.get('rows_in')} in, {parsed.get('rows_out')} out)"
    return "ran"


def reporting_snapshot(warehouse: Path) -> dict[str, Any]:
    """Row counts of the main tables and the sorted contents of every reporting view."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        views = [
            r[0]
            for r in con.execute(
                "select view_name from duckdb_views() where schema_name = 'reporting' order by view_name"
            ).fetchall()
        ]
        out: dict[str, Any] = {}
        for table in ("raw.feedback", "enrich.redactions", "enrich.sentiment", "enrich.aspects", "marts.fct_feedback"):
            out[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
        for view in views:
            if view in {"rpt_run_status", "rpt_model_versions", "rpt_ingest_reconciliation"}:
                continue  # run bookkeeping: differs by construction between two histories
            rows = con.execute(f"select * from reporting.{view}").fetchall()
            out[view] = sorted(repr(r) for r in rows)
    return out


def _table(steps: list[Step]) -> str:
    full = steps[0].seconds
    lines = [
        f"{'run':<16}{'wall s':>8}{'% full':>8}  " + "".join(f"{s + ' s':>10}" for s in STAGES) + "  what ran",
    ]
    for step in steps:
        ran = ", ".join(f"{s}: {step.outcomes.get(s, '-')}" for s in STAGES)
        lines.append(
            f"{step.name:<16}{step.seconds:>8.1f}{100 * step.seconds / full:>7.1f}%  "
            + "".join(f"{step.stages.get(s, float('nan')):>10.1f}" for s in STAGES)
            + f"  {ran}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the four (or five) runs and print the table; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="demo records (the full run gets 99%% of them)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--check", action="store_true", help="also rebuild from scratch and compare the views")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        held = prepare(work, args.rows, args.seed)
        steps: list[Step] = []
        for name in ("full", "no-op", "1% increment", "no-op after"):
            if name == "1% increment":
                added = append(work / "data" / "demo", held)
            steps.append(run(work, name))
            print(f"{name}: {steps[-1].seconds:.1f} s {steps[-1].stages} {steps[-1].outcomes}", flush=True)
        print(f"demo rows {args.rows} (seed {args.seed}); increment: {added} source lines appended")
        print(_table(steps))
        failed = [s.name for s in steps if s.returncode != 0]
        no_op = max(steps[1].seconds, steps[3].seconds)
        share = steps[2].seconds / steps[0].seconds
        print(f"no-op run: {no_op:.2f} s (target <= {NO_OP_TARGET_SECONDS:.0f} s)")
        print(f"1% increment: {100 * share:.1f}% of the full run (target <= {100 * INCREMENT_TARGET_SHARE:.0f}%)")
        if args.check:
            fresh = work / "fresh"
            fresh.mkdir()
            for name in ("sources", "models"):
                shutil.copytree(work / name, fresh / name, symlinks=True, ignore=shutil.ignore_patterns("build"))
            (fresh / "models" / "sentiment" / "build").symlink_to(ROOT / "models" / "sentiment" / "build")
            shutil.copytree(work / "data" / "demo", fresh / "data" / "demo")
            full = run(fresh, "fresh rebuild")
            same = reporting_snapshot(work / "data" / "warehouse.duckdb") == reporting_snapshot(
                fresh / "data" / "warehouse.duckdb"
            )
            print(f"fresh rebuild on the final files: {full.seconds:.1f} s; reporting views identical: {same}")
        if failed:
            print(f"runs that failed: {', '.join(failed)}")
            return 1
        return 0 if no_op <= NO_OP_TARGET_SECONDS and share <= INCREMENT_TARGET_SHARE else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
