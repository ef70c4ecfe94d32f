"""``make reliability``: the hostile corpus, property tests, fuzzing, fault suite and a leak scan, in one table.

    python -m benchmarks.reliability            # full (make reliability)
    python -m benchmarks.reliability --short    # CI: the same parts with smaller budgets, under 3 minutes

Parts, each on throw-away folders (nothing is written to the checkout):

- ``hostile``: every file of tests/fixtures/hostile/ ingested by the real ingest stage and checked
  against its manifest (:mod:`benchmarks.hostile_corpus`); its planted NHS number must not be stored.
- ``properties``: tests/unit/test_reader_properties.py (hypothesis), examples counted.
- ``fuzz``: :mod:`benchmarks.fuzz_readers` (atheris), bounded by inputs and seconds.
- ``faults``: tests/unit/test_faults.py (kill -9, concurrent and repeated runs of ingest), when present.
- ``pipeline faults`` (:mod:`benchmarks.reliability_faults`): ``feedback run`` on a small demo
  warehouse killed with kill -9 at random points of every stage (ingest, redaction, scoring, themes,
  insights, reports, model rebuild), the same data run three times, two runs at once, overlapping
  deliveries, the disk filling mid-write, wrong and missing keys; every table and view counted
  against a clean run's. One row per fault; ``--short`` draws two kill trials, no theme fit.
- ``demo``: demo data with planted identifiers through the whole pipeline
  (:func:`pipelines.stages.run_all`); every reporting view, mart and report file is searched for
  each planted identifier.

One table follows: trials run, faults survived, inputs tried, rows lost, rows duplicated,
identifiers leaked by kind, and seconds per part. The exit status is 1 when rows were lost or
duplicated, an identifier leaked, or a part could not be measured; 0 otherwise (failed trials are
shown but only the must-be-0 columns decide the exit status).
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FAULTS = ROOT / "tests" / "unit" / "test_faults.py"
PROPERTIES = ROOT / "tests" / "unit" / "test_reader_properties.py"
REPORT_SUFFIXES = {".html", ".csv", ".json", ".txt", ".md", ".xlsx", ".svg"}


@dataclass(frozen=True)
class Budget:
    """How much each part does: ``--short`` (CI) or full."""

    hypothesis_profile: str
    fuzz_runs: int
    fuzz_seconds: float
    demo_rows: int
    faults_timeout: float
    short: bool


SHORT = Budget("reliability-short", fuzz_runs=2_000, fuzz_seconds=20, demo_rows=300, faults_timeout=180, short=True)
FULL = Budget("reliability", fuzz_runs=200_000, fuzz_seconds=600, demo_rows=1000, faults_timeout=3600, short=False)


@dataclass
class Part:
    """One row of the table; ``None`` means "not measured by this part"."""

    name: str
    trials: int | None = None
    survived: int | None = None
    inputs: int | None = None
    lost: int | None = None
    duplicated: int | None = None
    leaked: dict[str, int] | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the part could not run: nothing it should measure is known

    @property
    def clean(self) -> bool:
        """True when the part ran and its must-be-0 columns are 0."""
        leaks = sum((self.leaked or {}).values())
        return self.error is None and not (self.lost or self.duplicated or leaks)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GX_ANALYTICS_ENABLED="false",
        TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="",
        PYTHONHASHSEED="0",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def run_hostile(work: Path, budget: Budget) -> Part:
    """The hostile corpus through the real ingest stage, checked entry by entry."""
    from benchmarks import hostile_corpus

    run = hostile_corpus.run_corpus(work / "hostile")
    tally = hostile_corpus.tally(run)
    part = Part("hostile", tally.files, tally.files_ok, tally.rows_read, tally.rows_lost, tally.rows_duplicated)
    part.leaked = hostile_corpus.leaked_identifiers(run)
    part.notes = [f"{file}: {problems[0]}" for file, problems in tally.failures.items()]
    return part


def _pytest(target: Path, work: Path, extra_env: dict[str, str], timeout: float, args: list[str]) -> dict[str, Any]:
    """Run pytest on ``target`` in a child process group and read back the tally plugin's counts.

    At ``timeout`` the whole group (pytest and the runs it started) is killed and the tests done
    so far are reported, with ``finished`` false.
    """
    tally = work / f"{target.stem}.tally.json"
    env = {**_env(), **extra_env, "RELIABILITY_TALLY": str(tally)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "benchmarks.reliability_tally"]
    proc = subprocess.Popen(
        [*command, *args, str(target)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    if not tally.exists():
        tail = output.strip().splitlines()[-5:]
        raise RuntimeError(f"pytest exited {proc.returncode} before any test ran: {' | '.join(tail)}")
    return json.loads(tally.read_text(encoding="utf-8"))


def _stopped_note(tally: dict[str, Any], timeout: float) -> list[str]:
    return [] if tally.get("finished") else [f"stopped at its {timeout:.0f} s budget: only the tests above ran"]


def run_properties(work: Path, budget: Budget) -> Part:
    """The hypothesis property tests of the readers and normalisers."""
    timeout = 600 if budget.short else 3600
    tally = _pytest(PROPERTIES, work, {"FEEDBACK_HYPOTHESIS_PROFILE": budget.hypothesis_profile}, timeout, [])
    part = Part("properties", tally["passed"] + tally["failed"], tally["passed"], tally["examples"])
    part.notes = [f"{f['test'].split('::')[-1]}: {f['error']}" for f in tally["failures"]]
    part.notes += _stopped_note(tally, timeout)
    return part


def run_fuzz(work: Path, budget: Budget) -> Part:
    """The bounded fuzz target; every input reads or raises SourceError, anything else is a finding."""
    summary = work / "fuzz.json"
    command = [sys.executable, "-m", "benchmarks.fuzz_readers", "--summary", str(summary)]
    command += ["--runs", str(budget.fuzz_runs), "--seconds", str(budget.fuzz_seconds)]
    subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=budget.fuzz_seconds + 300)
    if not summary.exists():
        raise RuntimeError("the fuzz target wrote no summary (it crashed: run it alone to see why)")
    data = json.loads(summary.read_text(encoding="utf-8"))
    bad = sum(f["count"] for f in data["findings"])
    part = Part(f"fuzz ({data['engine']})", data["runs"], data["runs"] - bad, data["runs"])
    part.notes = [f"x{f['count']} {f['reader']}: {f['problem']}" for f in data["findings"]]
    return part


def run_faults(work: Path, budget: Budget) -> Part:
    """tests/unit/test_faults.py (kill -9 at random points, concurrent and repeated runs)."""
    if not FAULTS.exists():
        return Part("faults", notes=["tests/unit/test_faults.py is not there yet: not run"])
    extra = {"RELIABILITY_SHORT": "1"} if budget.short else {}
    args = ["-m", "not slow"] if budget.short else []
    tally = _pytest(FAULTS, work, extra, budget.faults_timeout, args)
    part = Part("faults", tally["passed"] + tally["failed"], tally["passed"])
    part.notes = [f"{f['test'].split('::')[-1]}: {f['error']}" for f in tally["failures"]]
    part.notes += _stopped_note(tally, budget.faults_timeout)
    return part


def run_pipeline_faults(work: Path, budget: Budget) -> list[Part]:
    """:mod:`benchmarks.reliability_faults`: one row per fault, rows lost/duplicated over every relation."""
    from benchmarks import reliability_faults as faults

    plan = faults.SHORT_PLAN if budget.short else faults.FULL_PLAN
    log = logging.getLogger("reliability.faults")
    return [part_of(check) for check in faults.run_suite(work / "pipeline-faults", plan, log=log.info)]


def part_of(check: Any) -> Part:
    """A row of the table from a :class:`benchmarks.reliability_faults.Check`."""
    part = Part(check.fault, check.trials, check.survived, lost=check.lost, duplicated=check.duplicated)
    part.seconds = check.seconds
    part.notes = list(check.notes)
    return part


def _demo_settings(root: Path) -> Any:
    """Settings on throw-away folders; models are read from the checkout, the theme model is built apart."""
    from pipelines.config import Settings

    models = root / "models"
    models.mkdir(parents=True)
    for sub in ("themes", "privacy"):
        shutil.copytree(ROOT / "models" / sub, models / sub, ignore=shutil.ignore_patterns("build"))
    (models / "sentiment").symlink_to(ROOT / "models" / "sentiment")
    (root / "sources").mkdir()
    for path in (ROOT / "config" / "sources").glob("demo_*.yaml"):
        shutil.copy(path, root / "sources" / path.name)
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_DATA_DIR": str(root / "data"),
            "FEEDBACK_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(root / "reports"),
            "FEEDBACK_SOURCES_DIR": str(root / "sources"),
            "FEEDBACK_GX_DIR": str(root / "gx"),
            "FEEDBACK_MODELS_DIR": str(models),
        }
    )


def _report_texts(folder: Path) -> dict[str, str]:
    """Every report file's text by name (XLSX: its XML parts, unescaped)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix not in REPORT_SUFFIXES or not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                xml = " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist() if n.endswith(".xml"))
            out[path.name] = html.unescape(xml)
        else:
            out[path.name] = html.unescape(path.read_text(encoding="utf-8", errors="replace"))
    return out


def _view_texts(settings: Any) -> dict[str, str]:
    """Every reporting view and mart, dumped as text by name."""
    import duckdb

    out = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('reporting', 'marts')"
        ).fetchall()
        for (name,) in names:
            rows = con.execute("select * from query_table($v)", {"v": name}).fetchall()
            out[name] = json.dumps(rows, default=str, ensure_ascii=False)
    return out


def _demo_accounting(settings: Any, counts: dict[str, int]) -> tuple[int, int]:
    """Rows lost and duplicated: batches that do not reconcile, rows written but not read, marts twice."""
    import duckdb

    lost = duplicated = 0
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        batches = con.execute(
            "select source, sum(rows_read), sum(rows_loaded + rows_quarantined + rows_duplicate + "
            "coalesce(rows_skipped, 0)) from raw.ingest_batches where status = 'success' group by source"
        ).fetchall()
        twice = con.execute("select count(*) - count(distinct feedback_id) from marts.fct_feedback").fetchone()[0]
    files = {
        "demo_fft": "fft",
        "demo_nps": "nps",
        "demo_suggestion_box": "suggestions",
        "demo_complaints": "complaints",
    }
    read = {source: (int(r or 0), int(a or 0)) for source, r, a in batches}
    for source, key in files.items():
        rows_read, accounted = read.get(source, (0, 0))
        lost += max(0, counts.get(key, 0) - rows_read) + max(0, rows_read - accounted)
        duplicated += max(0, rows_read - counts.get(key, 0)) + max(0, accounted - rows_read)
    return lost, duplicated + int(twice)


def run_demo(work: Path, budget: Budget) -> Part:
    """Demo data with planted identifiers through the whole pipeline; search every output for them."""
    from pipelines import stages
    from pipelines.demo import generator

    settings = _demo_settings(work / "demo")
    manifest = generator.generate(settings.data_dir / "demo", rows=budget.demo_rows, seed=42)
    if budget.short:
        # A BERTopic fit takes minutes on two cores: CI skips the theme stage (its views stay empty).
        run_id = stages.new_run_id()
        stages.ingest_stage(settings, run_id)
        stages.enrich_stage(settings, run_id)
        stages.report_stage(settings, run_id)
    else:
        stages.run_all(settings)
    planted: dict[str, set[str]] = {}
    for record in manifest["planted_identifier_records"]:
        if len(record["value"]) >= 4:
            planted.setdefault(record["type"], set()).add(record["value"])
    places = {**_view_texts(settings), **_report_texts(settings.reports_dir)}
    leaked = {
        kind: {v for v in values if any(v in text for text in places.values())} for kind, values in planted.items()
    }
    name = "demo pipeline (no themes)" if budget.short else "demo pipeline"
    part = Part(name, trials=1, survived=1, inputs=sum(manifest.get("counts", {}).values()))
    part.lost, part.duplicated = _demo_accounting(settings, manifest.get("counts", {}))
    part.leaked = {kind: len(values) for kind, values in leaked.items()}
    for kind, values in leaked.items():
        for value in sorted(values)[:3]:
            where = sorted(name for name, text in places.items() if value in text)
            part.notes.append(f"{kind} {value!r} in {', '.join(where[:4])}")
    part.notes.insert(
        0, f"searched {len(places)} views and report files for {sum(map(len, planted.values()))} identifiers"
    )
    return part


PARTS: tuple[tuple[str, Callable[[Path, Budget], Part | list[Part]]], ...] = (
    ("hostile", run_hostile),
    ("properties", run_properties),
    ("fuzz", run_fuzz),
    ("faults", run_faults),
    ("pipeline faults", run_pipeline_faults),
    ("demo pipeline", run_demo),
)


# Parts that run in a child process; they run in a thread beside the in-process ones (two cores).
CHILD_PARTS = {"properties", "fuzz", "faults", "pipeline faults"}


def _timed(name: str, runner: Callable[[Path, Budget], Part | list[Part]], work: Path, budget: Budget) -> list[Part]:
    """One part (or its rows) with its wall time; a part that raises is shown with its error instead of numbers."""
    started = time.perf_counter()
    try:
        out = runner(work, budget)
    except Exception as exc:  # reported in the table: one broken part must not hide the others
        out = Part(name, error=f"{type(exc).__name__}: {str(exc)[:300]}")
    if isinstance(out, list):  # rows that timed themselves
        return out
    out.seconds = time.perf_counter() - started
    return [out]


def run_parts(work: Path, budget: Budget, only: list[str] | None = None) -> list[Part]:
    """Every part: child-process parts one after another in a thread, in-process parts meanwhile."""
    chosen = [(n, r) for n, r in PARTS if not only or n.split()[0] in only]
    children = [(n, r) for n, r in chosen if n in CHILD_PARTS]
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(lambda: [_timed(n, r, work, budget) for n, r in children])
        local = {n: _timed(n, r, work, budget) for n, r in chosen if n not in CHILD_PARTS}
        done = dict(zip([n for n, _ in children], future.result(), strict=True)) | local
    return [part for n, _ in chosen for part in done[n]]


def _cell(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def print_table(parts: list[Part], budget: Budget, wall: float) -> None:
    """The one table, then what went wrong in each part."""
    from rich.console import Console
    from rich.table import Table

    console = Console(width=200)
    table = Table(title=f"make reliability{' --short' if budget.short else ''}")
    for column in ("part", "trials run", "faults survived", "inputs tried", "rows lost", "rows duplicated"):
        table.add_column(column, justify="left" if column == "part" else "right")
    table.add_column("identifiers leaked (by kind)")
    table.add_column("time (s)", justify="right")
    for p in parts:
        leaked = "-" if p.leaked is None else ", ".join(f"{k} {v}" for k, v in sorted(p.leaked.items())) or "0"
        if p.error:
            table.add_row(p.name, "ERROR", "", "", "?", "?", "?", f"{p.seconds:.0f}")
            continue
        row = [_cell(p.trials), _cell(p.survived), _cell(p.inputs), _cell(p.lost), _cell(p.duplicated), leaked]
        table.add_row(p.name, *row, f"{p.seconds:.0f}")
    total_leaks = sum(sum((p.leaked or {}).values()) for p in parts)
    total = [sum(p.lost or 0 for p in parts), sum(p.duplicated or 0 for p in parts)]
    table.add_row(
        "total",
        "",
        "",
        "",
        _cell(total[0]),
        _cell(total[1]),
        _cell(total_leaks),
        f"{sum(p.seconds for p in parts):.0f}",
    )
    console.print(table)
    for p in parts:
        if p.error:
            console.print(f"[bold red]{p.name}: could not run[/]: {p.error}", markup=True, highlight=False)
        for note in p.notes[:25]:
            console.print(f"  {p.name}: {note}", markup=False, highlight=False)
        if len(p.notes) > 25:
            console.print(f"  {p.name}: ... and {len(p.notes) - 25} more", markup=False)


def main(argv: list[str] | None = None) -> int:
    """Run the parts, print the table; exit 1 unless nothing was lost, duplicated or leaked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="CI budget (under 3 minutes)")
    parser.add_argument("--only", nargs="*", choices=[n.split()[0] for n, _ in PARTS], help="run only these parts")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (warehouses, reports, logs)")
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    args = parser.parse_args(argv)
    os.environ.update({k: v for k, v in _env().items() if k not in os.environ or k == "PYTHONHASHSEED"})
    budget = SHORT if args.short else FULL
    work = Path(tempfile.mkdtemp(prefix="reliability-"))
    logging.basicConfig(filename=work / "reliability.log", level=logging.INFO, force=True)
    try:
        started = time.perf_counter()
        parts = run_parts(work, budget, args.only)
        print_table(parts, budget, time.perf_counter() - started)
        if args.json:
            args.json.write_text(json.dumps([p.__dict__ for p in parts], indent=2, default=str), encoding="utf-8")
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if all(p.clean for p in parts) else 1


if __name__ == "__main__":
    sys.exit(main())
