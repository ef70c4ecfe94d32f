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

With ``--save-full DIR`` the work folder as it stands after run 1 (warehouse, theme model, GX
context, the source files without the held-back 1%) is copied to ``DIR``; ``--from-full DIR``
starts from such a copy and does runs 2-4 only, against run 1's recorded time, after one more
run that settles the move (the report and data folders are part of what the stages watch, so
the first run at the new path re-runs them with nothing new; it is shown, and not a no-op). That is how an
increment's cost is re-measured after a code change without repeating a full run of 100k records
(the full run's code is then older than the increment's: say so when quoting the share).

With ``--check``, the warehouse and theme model left by run 1 are copied aside; after run 4 the
copy gets the final files in one run with every stage forced (``feedback run --force``) and every
model rebuilt (``feedback init --force``): what each run did before stages were skipped and models
built incrementally. Its row counts and reporting views must equal the incremental warehouse's
(run bookkeeping aside). The theme model is the one fitted in run 1 in both: a refit on other
data finds other themes by design.

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
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
NO_OP_TARGET_SECONDS = 3.0
INCREMENT_TARGET_SHARE = 0.05
STAGES = ("ingest", "enrich", "themes", "report")
RUNS = ("full", "no-op", "1% increment", "no-op after")


@dataclass
class Step:
    """One ``feedback run`` and what its stages did."""

    name: str
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    returncode: int = 0
    peak_rss_mb: float = 0.0  # largest resident set of any child so far (the full run is the largest)


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
    link_sentiment_build(work)
    return hold_back(demo)


def link_sentiment_build(work: Path) -> None:
    """Point ``work``'s sentiment build at this checkout's (``make models``), replacing any older link.

    A saved state (``--save-full``) keeps the link of the checkout that made it; that checkout (a
    worktree) may be gone when the state is used again.
    """
    link = work / "models" / "sentiment" / "build"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(ROOT / "models" / "sentiment" / "build")


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
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    step = Step(name, time.perf_counter() - started, returncode=proc.returncode, peak_rss_mb=peak)
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


# Bookkeeping columns that differ between two histories of the same data by construction.
VOLATILE = {
    "run_id",
    "batch_id",
    "theme_run_id",
    "generated_at",
    "ingested_at",
    "scored_at",
    "redacted_at",
    "recorded_at",
}
# Views over the run log itself (stage runs, batches with their ids and times).
RUN_LOG_VIEWS = {"rpt_run_status", "rpt_model_versions", "rpt_ingest_reconciliation", "rpt_quarantine_batches"}
COUNTED = (
    "raw.feedback",
    "raw.feedback_history",
    "raw.quarantine",
    "enrich.redactions",
    "enrich.sentiment",
    "enrich.aspects",
    "enrich.theme_assignments",
    "enrich.theme_outliers",
    "enrich.themes",
    "enrich.theme_alerts",
    "enrich.key_drivers",
    "enrich.segment_lift",
    "marts.fct_feedback",
    "marts.fct_feedback_theme",
    "marts.fct_responses",
    "marts.fct_kpi_monthly",
)


def reporting_snapshot(warehouse: Path) -> dict[str, Any]:
    """Row counts of the main tables, and every reporting view's rows (volatile columns dropped), sorted."""
    out: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in COUNTED:
            out[table] = con.execute("select count(*) from query_table($t)", {"t": table}).fetchone()[0]
        views = con.execute(
            "select view_name from duckdb_views() where schema_name = 'reporting' order by view_name"
        ).fetchall()
        for (view,) in views:
            if view in RUN_LOG_VIEWS:
                continue
            cursor = con.execute("select * from query_table($v)", {"v": f"reporting.{view}"})
            columns = [d[0] for d in cursor.description]
            keep = [i for i, c in enumerate(columns) if c not in VOLATILE]
            rows = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
            out[view] = sorted(json.dumps(r, default=str) for r in rows)
    return out


def _theme_build(work: Path) -> Path:
    """The fitted theme model of the warehouse in ``work`` (it sits beside the warehouse)."""
    from pipelines.config import Settings

    return Settings.from_env(_env(work)).theme_build_dir


def _forced_copy(work: Path) -> Path:
    """A work folder holding run 1's warehouse and theme model with the final source files."""
    forced = work / "forced"
    shutil.copytree(work / "sources", forced / "sources")
    (forced / "models" / "themes").mkdir(parents=True)
    for name in ("config.yaml", "taxonomy.yaml", "insights.yaml"):
        shutil.copy(work / "models" / "themes" / name, forced / "models" / "themes" / name)
    link_sentiment_build(forced)
    shutil.copytree(work / "data" / "demo", forced / "data" / "demo")
    shutil.copy(work / "start" / "warehouse.duckdb", forced / "data" / "warehouse.duckdb")
    shutil.copytree(work / "start" / "themes-build", _theme_build(forced))  # the warehouse's fitted theme model
    return forced


SAVED = "saved-full.json"


def save_full(work: Path, target: Path, held: dict[str, list[str]], full: Step, rows: int, seed: int) -> None:
    """Copy ``work`` after the full run to ``target``, with the held-back records and the run's times."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(work, target, symlinks=True)
    record = {"held": held, "rows": rows, "seed": seed, "full": asdict(full)}
    (target / SAVED).write_text(json.dumps(record), encoding="utf-8")


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
    parser.add_argument("--check", action="store_true", help="also force a full run from run 1's state and compare")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument(
        "--save-full", type=Path, metavar="DIR", help="copy the work folder to DIR after the full run (for --from-full)"
    )
    parser.add_argument(
        "--from-full",
        type=Path,
        metavar="DIR",
        help="start from a --save-full copy: no full run, the increment is measured against the saved one",
    )
    args = parser.parse_args(argv)
    if args.from_full and not (args.from_full / SAVED).is_file():
        parser.error(f"--from-full {args.from_full}: no {SAVED} there (make one with --save-full)")
    if args.from_full and args.check:
        parser.error("--check needs run 1's state at the time of the run: use it without --from-full")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    if work.exists():
        shutil.rmtree(work)
    try:
        steps: list[Step] = []
        if args.from_full:
            shutil.copytree(args.from_full, work, symlinks=True)
            link_sentiment_build(work)
            saved = json.loads((work / SAVED).read_text(encoding="utf-8"))
            held, args.rows, args.seed = saved["held"], saved["rows"], saved["seed"]
            steps.append(Step(**saved["full"]))
            print(f"full (saved in {args.from_full}): {steps[0].seconds:.1f} s {steps[0].stages}", flush=True)
        else:
            work.mkdir(parents=True)
            held = prepare(work, args.rows, args.seed)
        # A copy lives at another path: the stages whose fingerprint holds paths (the data and
        # report folders) run once more there, so the first run after a move is not a no-op.
        names = ("settle (moved)", "no-op", "1% increment", "no-op after") if args.from_full else RUNS
        for name in names:
            if name == "1% increment":
                added = append(work / "data" / "demo", held)
            steps.append(run(work, name))
            last = steps[-1]
            print(
                f"{name}: {last.seconds:.1f} s {last.stages} {last.outcomes} peak RSS so far {last.peak_rss_mb:.0f} MB",
                flush=True,
            )
            if name == "full" and args.save_full:
                save_full(work, args.save_full, held, last, args.rows, args.seed)
            if name == "full" and args.check:
                start = work / "start"
                start.mkdir()
                shutil.copy(work / "data" / "warehouse.duckdb", start / "warehouse.duckdb")
                shutil.copytree(_theme_build(work), start / "themes-build")
        print(f"demo rows {args.rows} (seed {args.seed}); increment: {added} source lines appended")
        print(_table(steps))
        failed = [s.name for s in steps if s.returncode != 0]
        by_name = {step.name: step for step in steps}
        no_op = max(by_name["no-op"].seconds, by_name["no-op after"].seconds)
        share = by_name["1% increment"].seconds / steps[0].seconds
        print(f"no-op run: {no_op:.2f} s (target <= {NO_OP_TARGET_SECONDS:.0f} s)")
        print(f"1% increment: {100 * share:.1f}% of the full run (target <= {100 * INCREMENT_TARGET_SHARE:.0f}%)")
        if args.check:
            forced = _forced_copy(work)
            step = run(forced, "forced full", "--force")
            init = subprocess.run(
                [str(Path(sys.executable).parent / "feedback"), "init", "--force"],
                env=_env(forced),
                capture_output=True,
                text=True,
                timeout=3600,
            )
            ours, theirs = (reporting_snapshot(w / "data" / "warehouse.duckdb") for w in (work, forced))
            different = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
            print(f"forced full run on the final files: {step.seconds:.1f} s; init --force rc {init.returncode}")
            print(f"row counts and reporting views identical: {not different} {different or ''}")
            failed += [] if step.returncode == 0 and init.returncode == 0 and not different else ["check"]
        if failed:
            print(f"runs that failed: {', '.join(failed)}")
            return 1
        return 0 if no_op <= NO_OP_TARGET_SECONDS and share <= INCREMENT_TARGET_SHARE else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
