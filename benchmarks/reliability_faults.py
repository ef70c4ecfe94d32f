"""The fault part of ``make reliability``: ``feedback run`` on a small demo warehouse, under faults.

    python -m benchmarks.reliability_faults [--short] [--trials N] [--rows 300] [--only overlap,repeat ...]

Every run is the real command (``feedback run --no-progress``) in a child process. The child is
started through :func:`child_main`, which wraps the function of each stage (ingest, redaction,
scoring, themes, insights, reports, and the model rebuild after each stage) to write a trace
line on entry and exit; nothing else changes. Faults:

- ``kill``: per stage and trial, the parent waits for the child to enter that stage (a random one
  of its calls, for the model rebuild), sleeps a random fraction of the time the stage took in
  the clean run, and sends SIGKILL to the child's process group (kill -9). A stage that ends
  before the delay holds at its exit until killed, so every kill lands inside or at the end of
  its stage. After each kill: the warehouse opens; the killed stage row is "running" (what
  the kill left) and every content reporting view shows a complete state: nothing yet, or the
  clean run's final counts (they read the marts published when a run completes, so no stage
  boundary in between shows: no comments loaded but unscored); a rerun ends with every table and
  view counting exactly as the clean run's, the killed stage shown failed (interrupted), nothing
  left running.
- ``kill2``: a complete first run on two thirds of the records, then the last third's run killed
  with kill -9 in a stage drawn at random: meanwhile every content reporting view still counts as
  after the first run (the reporting views read the marts published when a run completes), and
  the rerun counts exactly as the same two deliveries with no kill.
- ``repeat``: the same data run three times: no table or view grows.
- ``concurrent``: two ``feedback run`` started at once: both succeed, one waited for the other.
- ``overlap``: overlapping deliveries (first two thirds of each file, then the last two thirds):
  the overlap loads once: every relation counts as after the same records delivered without the
  overlap (two thirds, then the last third), and that differs from the clean run only in ingest
  bookkeeping and themes (a model fitted on the first delivery; see :func:`run_overlap`).
- ``diskfull``: the warehouse on a small tmpfs (or, without mount rights, RLIMIT_FSIZE) that fills
  mid-run: a clear error, the warehouse still opens, a rerun with room restores the clean counts.
- ``keys``: an encrypted warehouse opened with a wrong, missing or unreadable key, and a key given
  for an unencrypted one: a clear error, no traceback, and the file is neither changed nor replaced.

Rows lost and duplicated are per relation: ``max(0, clean - observed)`` and ``max(0, observed - clean)``
summed over every table and view in every schema (run logs excepted: :data:`RUN_LOGS`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import importlib
import io
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Stage name -> (module, function) wrapped in the child. ``models`` is the rebuild after each stage.
TARGETS: dict[str, tuple[str, str]] = {
    "ingest": ("pipelines.ingest.load", "ingest_all"),
    "redaction": ("pipelines.privacy.stage", "redact_pending"),
    "scoring": ("pipelines.sentiment.stage", "score_pending"),
    "themes": ("pipelines.themes.stage", "run_themes"),
    "insights": ("pipelines.insights.stage", "run_insights"),
    "reports": ("pipelines.report", "write_reports"),
    "models": ("pipelines.warehouse", "refresh_models"),  # what every stage (and build_models) calls
}
# Logs that gain rows with every run by design (one row per stage or run), and the scan's memory of
# clean texts (every report a run wrote, earlier deliveries' too); every other relation must count
# exactly as in a clean run.
RUN_LOGS = frozenset(
    {
        "ops.stage_runs",
        "ops.scan_clean",
        "enrich.theme_runs",
        "enrich.insight_runs",
        "reporting.rpt_run_status",
        "reporting.rpt_model_versions",
    }
)
# Reporting views that show ingest and run progress straight from raw/ops tables (a file's batch
# row is committed with its rows), by design live; the others read marts and must never be partial.
STATUS_VIEWS = frozenset(
    {
        "reporting.rpt_run_status",
        "reporting.rpt_model_versions",
        "reporting.rpt_ingest_reconciliation",
        "reporting.rpt_quarantine",
        "reporting.rpt_quarantine_batches",
    }
)
# Ingest bookkeeping: one batch row per file and delivery, so two deliveries give two per file.
INGEST_BOOKKEEPING = frozenset({"raw.ingest_batches", "raw.source_state", "reporting.rpt_ingest_reconciliation"})
# Relations that read theme assignments without "theme" in their name (insights by theme).
THEME_READERS = frozenset(
    {
        "key_drivers",
        "fct_key_drivers",
        "rpt_key_drivers",
        "segment_lift",
        "fct_segment_lift",
        "rpt_segment_lift",
        "rpt_comments_needing_response",  # negative comments on a complaint theme
        "rpt_category_window_ranking",  # comments per category of their themes
    }
)
# The child's pseudo-command for the short suite: `feedback run` without the theme stage.
SHORT_RUN = "short-run"
# Who is told each trial's outcome as it happens (set by run_suite).
_PROGRESS: list[Callable[[str], None] | None] = [None]
RELATIONS_SQL = "queries/benchmarks/reliability_relations"
COUNT_SQL = "queries/pipeline/count_rows"


# ---------------------------------------------------------------------------------------------
# Counting every relation
# ---------------------------------------------------------------------------------------------


def relation_counts(con: Any, settings: Any, schemas: tuple[str, ...] | None = None) -> dict[str, int]:
    """Rows of every table and view in every schema of the warehouse open on ``con`` (or only ``schemas``)."""
    from pipelines import warehouse

    names = warehouse.run_sql(con, settings, RELATIONS_SQL).fetchall()
    out = {}
    for schema, name in names:
        if schemas is None or schema in schemas:
            relation = f"{schema}.{name}"
            out[relation] = warehouse.run_sql(con, settings, COUNT_SQL, {"relation": relation}).fetchone()[0]
    return out


def snapshot(settings: Any) -> dict[str, int]:
    """:func:`relation_counts` of the warehouse, opened read-only the way the library opens it."""
    from pipelines import warehouse

    with warehouse.connect(settings, read_only=True) as con:
        return relation_counts(con, settings)


def compare(clean: dict[str, int], seen: dict[str, int]) -> tuple[int, int, list[str]]:
    """Rows lost, rows duplicated and the differing relations (run logs ignored)."""
    lost = duplicated = 0
    diffs = []
    for relation in sorted((set(clean) | set(seen)) - RUN_LOGS):
        a, b = clean.get(relation), seen.get(relation)
        if a == b:
            continue
        lost += max(0, (a or 0) - (b or 0))
        duplicated += max(0, (b or 0) - (a or 0))
        diffs.append(f"{relation} {'missing' if a is None else a} -> {'missing' if b is None else b}")
    return lost, duplicated, diffs


def content_views(counts: dict[str, int]) -> dict[str, int]:
    """The reporting views that read marts (the ones a report is made of), with their counts."""
    return {k: v for k, v in counts.items() if k.startswith("reporting.") and k not in STATUS_VIEWS}


# ---------------------------------------------------------------------------------------------
# The child: `feedback run` with a trace of stage entries and exits
# ---------------------------------------------------------------------------------------------


def child_main(argv: list[str]) -> None:
    """Run the ``feedback`` CLI with every stage of :data:`TARGETS` traced.

    Environment: ``RELIABILITY_TRACE`` (JSON lines are appended there), ``RELIABILITY_HOLD``
    (``stage:n``: after the n-th call of that stage returns, sleep until killed) and
    ``RELIABILITY_STATES=1`` (after each model rebuild, write the counts of the reporting views,
    read on the rebuild's own connection: the stage boundaries a reader may see).
    """
    trace = open(os.environ["RELIABILITY_TRACE"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives as long as the child)
    hold = os.environ.get("RELIABILITY_HOLD", "")
    states = os.environ.get("RELIABILITY_STATES") == "1"
    calls: Counter[str] = Counter()

    def emit(event: str, stage: str, n: int, **extra: Any) -> None:
        trace.write(json.dumps({"event": event, "stage": stage, "n": n, "t": time.time(), **extra}) + "\n")

    def wrap(stage: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def traced(*args: Any, **kwargs: Any) -> Any:
            calls[stage] += 1
            n = calls[stage]
            emit("enter", stage, n)
            result = original(*args, **kwargs)
            emit("exit", stage, n)
            if states and stage == "models":  # after "exit": the counting is not part of the stage's time
                con, settings = args[0], args[1]
                emit("state", stage, n, counts=relation_counts(con, settings, ("reporting", "published")))
            if hold == f"{stage}:{n}":
                time.sleep(3600)  # the parent kills us here: a kill at the very end of the stage
            return result

        return traced

    for stage, (module_name, attribute) in TARGETS.items():
        module = importlib.import_module(module_name)
        setattr(module, attribute, wrap(stage, getattr(module, attribute)))
    if argv == [SHORT_RUN]:
        _short_run()
        return
    from pipelines.cli import main

    sys.argv = ["feedback", *argv]
    main()


def _short_run() -> None:
    """Ingest, enrich and report under one run lock, as ``feedback run`` does, without the theme fit.

    The short (CI) suite uses it: a BERTopic fit takes minutes on two cores.
    """
    from pipelines import stages, warehouse
    from pipelines.config import Settings

    settings = Settings.from_env()
    run_id = stages.new_run_id()
    try:
        with warehouse.run_lock(settings):
            stages.ingest_stage(settings, run_id)
            stages.enrich_stage(settings, run_id)
            stages.report_stage(settings, run_id)
    except warehouse.WarehouseError as exc:
        print(f"warehouse: {exc}")
        sys.exit(2)


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The trace lines written so far (a torn last line, from a kill mid-write, is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            out.append(json.loads(line))
    return out


# ---------------------------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------------------------


@dataclass
class Workspace:
    """A throw-away project: demo data, source configs, models (theme model built apart), warehouse."""

    root: Path
    key: str | None = None
    run_args: tuple[str, ...] = ("run", "--no-progress")

    @property
    def warehouse(self) -> Path:
        """The warehouse file (alone in its folder, so a small disk can be mounted there)."""
        return self.root / "wh" / "warehouse.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a ``feedback`` child on this workspace, plus ``extra``."""
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GX_ANALYTICS_ENABLED": "false",
            "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
            "PYTHONHASHSEED": "0",
            "TOKENIZERS_PARALLELISM": "false",
            "COLUMNS": "200",
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_DATA_DIR": str(self.root / "data"),
            "FEEDBACK_WAREHOUSE": str(self.warehouse),
            "FEEDBACK_SOURCES_DIR": str(self.root / "sources"),
            "FEEDBACK_REPORTS_DIR": str(self.root / "reports"),
            "FEEDBACK_GX_DIR": str(self.root / "gx"),
            "FEEDBACK_MODELS_DIR": str(self.root / "models"),
        }
        env.pop("FEEDBACK_ENCRYPTION_KEY", None)
        env.pop("FEEDBACK_ENCRYPTION_KEY_FILE", None)
        if self.key:
            env["FEEDBACK_ENCRYPTION_KEY"] = self.key
        env.update(extra)
        return env

    def settings(self) -> Any:
        """The library settings of this workspace (as the child builds them)."""
        from pipelines.config import Settings

        return Settings.from_env(self.env())


def make_template(root: Path, rows: int, run_args: tuple[str, ...]) -> Path:
    """Demo data (seed 42), the demo source configs and the run command, once; trials copy it."""
    from pipelines.demo import generator

    generator.generate(root / "data" / "demo", rows=rows, seed=42)
    (root / "sources").mkdir(parents=True)
    for path in (ROOT / "config" / "sources").glob("demo_*.yaml"):
        shutil.copy(path, root / "sources" / path.name)
    (root / "run_args.json").write_text(json.dumps(list(run_args)), encoding="utf-8")
    return root


def workspace(template: Path, root: Path, key: str | None = None) -> Workspace:
    """A fresh copy of the template with an empty warehouse; sentiment and privacy models linked."""
    shutil.copytree(template, root)
    models = root / "models"
    models.mkdir()
    shutil.copytree(ROOT / "models" / "themes", models / "themes", ignore=shutil.ignore_patterns("build"))
    for sub in ("sentiment", "privacy"):
        (models / sub).symlink_to(ROOT / "models" / sub)
    (root / "wh").mkdir()
    run_args = tuple(json.loads((template / "run_args.json").read_text(encoding="utf-8")))
    return Workspace(root, key, run_args)


@dataclass
class Run:
    """One ``feedback`` child: its process, trace and output files."""

    proc: subprocess.Popen
    trace: Path
    log: Path
    started: float

    def output(self) -> str:
        """What the child printed (stdout and stderr)."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def start(
    ws: Workspace, name: str, args: list[str] | None = None, *, preexec: Callable[[], None] | None = None, **env: str
) -> Run:
    """Start ``feedback <args>`` (default ``run --no-progress``) traced, in its own process group."""
    trace = ws.root / f"{name}.trace"
    log = ws.root / f"{name}.log"
    trace.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.reliability_faults", "child", *(args or ws.run_args)]
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=ws.env(RELIABILITY_TRACE=str(trace), **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509 (only resource limits, set before exec)
        )
    return Run(proc, trace, log, time.time())


def finish(run: Run, timeout: float = 1800) -> int:
    """Wait for the child; on timeout kill its group and fail."""
    try:
        return run.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(run)
        raise RuntimeError(f"feedback child did not finish in {timeout:.0f} s: {run.output()[-500:]}") from None


def kill(run: Run) -> None:
    """Kill -9 the child and everything it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(run.proc.pid, signal.SIGKILL)
    run.proc.wait(timeout=120)


def complete(ws: Workspace, name: str, **env: str) -> Run:
    """A whole ``feedback run`` that must succeed."""
    run = start(ws, name, **env)
    rc = finish(run)
    if rc != 0:
        raise RuntimeError(f"{name}: feedback run exited {rc}: {run.output()[-1500:]}")
    return run


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class Check:
    """One fault scenario's outcome (a row of the detail table)."""

    fault: str
    trials: int = 0
    survived: int = 0
    lost: int = 0
    duplicated: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    progress: Callable[[str], None] | None = field(default_factory=lambda: _PROGRESS[0], repr=False)

    def trial(self, ok: bool, lost: int = 0, duplicated: int = 0, note: str | None = None) -> None:
        """Count one trial: survived when ``ok`` and nothing was lost or duplicated."""
        self.trials += 1
        self.survived += int(ok and not lost and not duplicated)
        self.lost += lost
        self.duplicated += duplicated
        if note:
            self.notes.append(note)
            if self.progress:
                self.progress(f"  {self.fault} #{self.trials}: {'ok' if ok else 'FAILED'}: {note}")


@dataclass
class Clean:
    """The clean run: final counts, reporting counts at each stage boundary, stage windows."""

    counts: dict[str, int]
    boundaries: list[dict[str, int]]  # content views after each model rebuild
    unpublished: list[dict[str, int]]  # the boundaries at which no mart had been published yet
    windows: dict[tuple[str, int], float]  # (stage, call) -> seconds
    seconds: float
    warehouse_bytes: int


def clean_run(template: Path, work: Path) -> Clean:
    """A full run with nothing injected; measures what the faults are compared with."""
    ws = workspace(template, work / "clean")
    started = time.perf_counter()
    run = complete(ws, "clean", RELIABILITY_STATES="1")
    seconds = time.perf_counter() - started
    trace = read_trace(run.trace)
    entered = {(e["stage"], e["n"]): e["t"] for e in trace if e["event"] == "enter"}
    windows = {(e["stage"], e["n"]): e["t"] - entered[(e["stage"], e["n"])] for e in trace if e["event"] == "exit"}
    states = [e["counts"] for e in trace if e["event"] == "state"]
    boundaries = [{}] + [content_views(c) for c in states]
    unpublished = [{}] + [content_views(c) for c in states if not _published_rows(c)]
    size = sum(p.stat().st_size for p in ws.warehouse.parent.iterdir())
    return Clean(snapshot(ws.settings()), boundaries, unpublished, windows, seconds, size)


def _published_rows(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k.startswith("published."))


def _boundary_name(clean: Clean, seen: dict[str, int]) -> str | None:
    """Which complete state the reporting views show: none yet, or the clean run's (None: partial).

    The views read the published marts, which move once, when the run is complete: a stage
    boundary in between (comments loaded but not scored, scored but not themed) is partial too.
    """
    if seen in clean.unpublished:
        return "as before any complete run (nothing published)"
    if seen == content_views(clean.counts):
        return "as after the complete clean run"
    return None


def _wait_enter(run: Run, stage: str, n: int, timeout: float) -> dict[str, Any] | None:
    """Poll the trace until ``stage`` call ``n`` is entered (None if the child ended first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in read_trace(run.trace):
            if event["event"] == "enter" and event["stage"] == stage and event["n"] == n:
                return event
        if run.proc.poll() is not None:
            return None
        time.sleep(0.02)
    return None


def _exited(run: Run, stage: str, n: int) -> bool:
    return any(e["event"] == "exit" and e["stage"] == stage and e["n"] == n for e in read_trace(run.trace))


def kill_trial(
    template: Path, work: Path, clean: Clean, stage: str, trial: int, rng: random.Random
) -> tuple[bool, int, int, str]:
    """One kill -9 in ``stage``; returns (survived, rows lost, rows duplicated, note)."""
    from pipelines import warehouse

    calls = sorted(n for s, n in clean.windows if s == stage)
    if not calls:
        return False, 0, 0, f"{stage}: the clean run never entered this stage"
    n = rng.choice(calls)
    delay = rng.uniform(0, clean.windows[(stage, n)])
    ws = workspace(template, work / f"kill-{stage}-{trial}")
    run = start(ws, "killed", RELIABILITY_HOLD=f"{stage}:{n}")
    entered = _wait_enter(run, stage, n, timeout=1800)
    if entered is None:
        kill(run)
        return (
            False,
            0,
            0,
            f"{stage}#{n}: the run ended (rc {run.proc.returncode}) before the stage: {run.output()[-300:]}",
        )
    while time.time() < entered["t"] + delay and not _exited(run, stage, n):
        time.sleep(0.01)
    at = time.time() - entered["t"]
    kill(run)
    where = f"{stage}#{n} at {at:.2f}s of {clean.windows[(stage, n)]:.2f}s"
    problems = []
    settings = ws.settings()
    try:
        after_kill = snapshot(settings)
    except Exception as exc:  # the warehouse must open: anything else is the finding
        return False, 0, 0, f"{where}: the warehouse did not open after the kill: {type(exc).__name__}: {exc}"
    with warehouse.connect(settings, read_only=True) as con:
        running = (
            con.execute("select stage from ops.stage_runs where status = 'running'").fetchall()
            if "ops.stage_runs" in after_kill
            else []
        )
    boundary = _boundary_name(clean, content_views(after_kill))
    if boundary is None:
        partial = _partial_views(clean, content_views(after_kill))
        problems.append(f"partial reporting views after the kill: {', '.join(partial[:4])}")
    rerun = start(ws, "rerun")
    rc = finish(rerun)
    if rc != 0:
        return False, 0, 0, f"{where}: the rerun failed (rc {rc}): {rerun.output()[-400:]}"
    final = snapshot(settings)
    lost, duplicated, diffs = compare(clean.counts, final)
    if diffs:
        problems.append("after rerun: " + "; ".join(diffs[:5]))
    with warehouse.connect(settings, read_only=True) as con:
        statuses = con.execute("select stage, status, message from ops.stage_runs").fetchall()
        view_running = con.execute("select count(*) from reporting.rpt_run_status where status = 'running'").fetchone()[
            0
        ]
    still = [s for s, status, _ in statuses if status == "running"]
    interrupted = [s for s, status, m in statuses if status == "failed" and (m or "").startswith("interrupted")]
    if still or view_running:
        problems.append(f"stages still shown running after the rerun: {still}")
    if running and not interrupted:
        problems.append(f"the killed stage ({running[0][0]}) is not shown failed (interrupted) after the rerun")
    note = f"{where} -> views {boundary or 'PARTIAL'}"
    if problems:
        note += ": " + " | ".join(problems)
    return not problems, lost, duplicated, note


def _partial_views(clean: Clean, seen: dict[str, int]) -> list[str]:
    """The views that differ from the nearest stage boundary."""
    best = min(clean.boundaries, key=lambda b: sum(b.get(k) != v for k, v in seen.items()) + len(set(b) - set(seen)))
    return [f"{k} {best.get(k)}->{seen.get(k)}" for k in sorted(set(best) | set(seen)) if best.get(k) != seen.get(k)]


def run_kills(template: Path, work: Path, clean: Clean, plan: Plan) -> Check:
    """``plan.kill_trials`` kill -9 trials in each of ``plan.kill_stages`` (or in one drawn per trial)."""
    check = Check(f"kill -9 ({', '.join(plan.kill_stages)})")
    rng = random.Random(plan.seed)
    for trial in range(plan.kill_trials):
        chosen = [rng.choice(plan.kill_stages)] if plan.draw_stage else list(plan.kill_stages)
        for stage in chosen:
            ok, lost, duplicated, note = kill_trial(template, work, clean, stage, trial, rng)
            check.trial(ok, lost, duplicated, note)
            shutil.rmtree(work / f"kill-{stage}-{trial}", ignore_errors=True)
    return check


def run_repeat(template: Path, work: Path, clean: Clean) -> Check:
    """The same data run three times on one warehouse: nothing grows."""
    check = Check("same data run 3 times")
    ws = workspace(template, work / "repeat")
    for n in range(3):
        complete(ws, f"run-{n}")
        lost, duplicated, diffs = compare(clean.counts, snapshot(ws.settings()))
        check.trial(
            not diffs, lost, duplicated, f"run {n + 1}: " + ("; ".join(diffs[:5]) or "counts equal the clean run's")
        )
    return check


def run_concurrent(template: Path, work: Path, clean: Clean) -> Check:
    """Two ``feedback run`` started at once on one warehouse: both succeed, the second waited."""
    check = Check("two runs at once")
    ws = workspace(template, work / "concurrent")
    runs = [start(ws, "first"), start(ws, "second")]
    codes = [finish(r) for r in runs]
    outputs = [r.output() for r in runs]
    waited = sum("waiting for the warehouse held by another run" in o for o in outputs)
    lost, duplicated, diffs = compare(clean.counts, snapshot(ws.settings()))
    ok = codes == [0, 0] and waited == 1 and not diffs and not any("Traceback" in o for o in outputs)
    detail = f"exit codes {codes}, {waited} waited"
    if codes != [0, 0]:
        detail += ": " + " | ".join(o.strip().splitlines()[-1] if o.strip() else "" for o in outputs)
    check.trial(ok, lost, duplicated, detail + ("; " + "; ".join(diffs[:5]) if diffs else ""))
    return check


def _split(path: Path, part: int) -> None:
    """Keep the first two thirds (part 0), the last two thirds (1) or the last third (2) of a file's records."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        header, *body = list(csv.reader(io.StringIO(text, newline="")))
    else:
        header, body = None, text.splitlines(keepends=True)
    cut = len(body) // 3
    keep = {0: body[: len(body) - cut], 1: body[cut:], 2: body[len(body) - cut :]}[part]
    if header is None:
        path.write_text("".join(keep), encoding="utf-8")
        return
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([header, *keep])
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _deliveries(template: Path, root: Path, parts: tuple[int, ...]) -> tuple[dict[str, int], int]:
    """``feedback run`` after each delivery of ``parts`` (see :func:`_split`); final counts, files split."""
    ws = workspace(template, root)
    demo = ws.root / "data" / "demo"
    splittable = [p for p in sorted(demo.iterdir()) if p.suffix in {".csv", ".jsonl"}]
    originals = {p: p.read_bytes() for p in splittable}
    for part in parts:
        _deliver(originals, part)
        run = start(ws, f"delivery-{part}")
        if finish(run) != 0:
            raise RuntimeError(f"{root.name} delivery {part}: feedback run failed: {run.output()[-1500:]}")
    return snapshot(ws.settings()), len(splittable)


def _theme_history(relation: str) -> bool:
    """Does the relation count themes, which depend on what the model saw when (:func:`run_overlap`)?"""
    name = relation.split(".", 1)[1]
    return "theme" in name or name in THEME_READERS


def run_overlap(template: Path, work: Path, clean: Clean) -> Check:
    """Two deliveries overlapping by a third: the overlap is loaded once.

    Reference: the same records delivered without the overlap (the first two thirds, then only the
    last third), with the same commands. Every table and view (run logs excepted) must count
    exactly as there: the re-delivered third adds nothing anywhere. Against the clean run (all
    records in one delivery) only ingest bookkeeping (one batch per file and delivery) and the
    theme relations may differ, and only as the reference differs: the theme model is fitted on
    the first delivery and the second one's clauses join its themes; even a refit keeps the
    registry's ids, holds each clause on its previous theme within ``sticky_margin``, carries and
    retires registry themes (``pipelines.themes.registry``), so a history of two deliveries gives
    other themes than one fit on all the data, by design.
    """
    check = Check("overlapping deliveries")
    overlap, files = _deliveries(template, work / "overlap", (0, 1))
    disjoint, _ = _deliveries(template, work / "overlap-reference", (0, 2))
    lost, duplicated, diffs = compare(disjoint, overlap)
    by_design = compare(clean.counts, disjoint)[2]
    unexplained = [d for d in by_design if d.split()[0] not in INGEST_BOOKKEEPING and not _theme_history(d.split()[0])]
    problems = [f"against the same records delivered without overlap: {'; '.join(diffs[:5])}"] if diffs else []
    if unexplained:
        problems.append(f"the reference differs from the clean run outside themes: {'; '.join(unexplained[:5])}")
    themes = [d for d in by_design if _theme_history(d.split()[0])]
    note = f"{files} files delivered as two overlapping parts: " + (
        " | ".join(problems)
        or f"counts equal the non-overlapping deliveries' in all {len(overlap)} relations; "
        + f"{len(themes)} theme relations differ from one clean delivery by design ({'; '.join(themes[:3]) or '-'})"
    )
    check.trial(not problems, lost, duplicated, note)
    return check


def _deliver(originals: dict[Path, bytes], part: int) -> None:
    """Put delivery ``part`` of every demo file in place (see :func:`_split`)."""
    for path, data in originals.items():
        path.write_bytes(data)
        _split(path, part)


def second_delivery_kill(
    template: Path, work: Path, clean: Clean, reference: dict[str, int], stage: str, rng: random.Random
) -> tuple[bool, int, int, str]:
    """A complete first run (two thirds of the records), then the last third's run killed in ``stage``.

    Meanwhile every content reporting view must still count as after the first run (or, killed in
    the reports after the publish, as after both); the rerun must count as ``reference`` (the
    same two deliveries, neither killed).
    """
    root = work / f"second-kill-{stage}"
    ws = workspace(template, root)
    demo = sorted((ws.root / "data" / "demo").iterdir())
    originals = {p: p.read_bytes() for p in demo if p.suffix in {".csv", ".jsonl"}}
    _deliver(originals, 0)
    complete(ws, "first")
    first = content_views(snapshot(ws.settings()))
    _deliver(originals, 2)
    calls = sorted(n for s, n in clean.windows if s == stage)
    n = rng.choice(calls)
    delay = rng.uniform(0, clean.windows[(stage, n)])
    run = start(ws, "second", RELIABILITY_HOLD=f"{stage}:{n}")
    entered = _wait_enter(run, stage, n, timeout=1800)
    if entered is None:
        kill(run)
        return False, 0, 0, f"{stage}#{n}: the second run ended (rc {run.proc.returncode}) before the stage"
    while time.time() < entered["t"] + delay and not _exited(run, stage, n):
        time.sleep(0.01)
    at = time.time() - entered["t"]
    kill(run)
    seen = content_views(snapshot(ws.settings()))
    if seen == first:
        state = "as after the first run"
    elif seen == content_views(reference):
        state = "as after both runs"
    else:
        changed = [k for k in sorted(set(first) | set(seen)) if first.get(k) != seen.get(k)]
        state = f"PARTIAL ({', '.join(f'{k} {first.get(k)}->{seen.get(k)}' for k in changed[:4])})"
    rerun = start(ws, "rerun")
    if (rc := finish(rerun)) != 0:
        return False, 0, 0, f"{stage}#{n}: the rerun failed (rc {rc}): {rerun.output()[-400:]}"
    lost, duplicated, diffs = compare(reference, snapshot(ws.settings()))
    note = f"{stage}#{n} at {at:.2f}s -> views {state}" + (f" | after rerun: {'; '.join(diffs[:5])}" if diffs else "")
    shutil.rmtree(root, ignore_errors=True)
    return not state.startswith("PARTIAL") and not diffs, lost, duplicated, note


def run_second_kills(template: Path, work: Path, clean: Clean, plan: Plan) -> Check:
    """Kill -9 in the run of a second delivery, on a warehouse a complete first run has published."""
    check = Check("kill -9 in a second delivery's run")
    reference, _ = _deliveries(template, work / "second-reference", (0, 2))
    rng = random.Random(plan.seed + 1)
    stages = [rng.choice(plan.kill_stages) for _ in range(plan.second_kill_trials)]
    for stage in stages:
        check.trial(*second_delivery_kill(template, work, clean, reference, stage, rng))
    return check


@contextlib.contextmanager
def small_disk(folder: Path, size: int) -> Iterator[str]:
    """``folder`` as a tmpfs of ``size`` bytes (yields "tmpfs"), or "rlimit" when mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield "tmpfs" if mounted else "rlimit"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def run_diskfull(template: Path, work: Path, clean: Clean, trials: int, seed: int) -> Check:
    """The warehouse's disk fills mid-run: a clear error, the file still opens, a rerun with room restores it."""
    check = Check("disk full mid-write")
    rng = random.Random(seed)
    for trial in range(trials):
        ws = workspace(template, work / f"disk-{trial}")
        size = int(clean.warehouse_bytes * rng.uniform(0.3, 0.8))
        wh_dir = ws.warehouse.parent
        shutil.rmtree(wh_dir)
        with small_disk(wh_dir, size) as how:
            preexec = None
            if how == "rlimit":

                def preexec(limit: int = size) -> None:
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a silent death
                    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

            run = start(ws, "full", preexec=preexec)
            rc = finish(run)
            output = run.output()
            problems = []
            if rc == 0:
                problems.append(f"the run succeeded on a {size:,}-byte disk (the fault never happened)")
            if "Traceback" in output:
                problems.append("a traceback instead of a clear error")
            said = output.strip().splitlines()[-1][:160] if output.strip() else "(nothing)"
            saved = work / f"disk-{trial}-saved"
            shutil.copytree(wh_dir, saved)
        # The disk is roomy again: the same files, moved to a folder with space.
        shutil.rmtree(wh_dir, ignore_errors=True)
        shutil.copytree(saved, wh_dir)
        try:
            snapshot(ws.settings())
        except Exception as exc:
            problems.append(f"the warehouse did not open afterwards: {type(exc).__name__}: {exc}")
        else:
            rerun = start(ws, "rerun")
            if finish(rerun) != 0:
                problems.append(f"the rerun failed: {rerun.output()[-300:]}")
        lost = duplicated = 0
        if not any("did not open" in p or "rerun failed" in p for p in problems):
            lost, duplicated, diffs = compare(clean.counts, snapshot(ws.settings()))
            if diffs:
                problems.append("after rerun: " + "; ".join(diffs[:5]))
        note = f"{how} {size:,} B: said {said!r}" + (": " + " | ".join(problems) if problems else "")
        check.trial(not problems, lost, duplicated, note)
        shutil.rmtree(ws.root, ignore_errors=True)
    return check


def _files(folder: Path) -> dict[str, tuple[int, float]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime) for p in folder.iterdir() if not p.name.endswith(".lock")}


def run_keys(template: Path, work: Path) -> Check:
    """Wrong, missing and unreadable keys: a clear error, the warehouse neither changed nor replaced."""
    check = Check("wrong or missing key")
    ws = workspace(template, work / "keys", key="right-key")
    init = start(ws, "init", ["init"])
    if finish(init, timeout=600) != 0:
        check.trial(False, note=f"could not make an encrypted warehouse: {init.output()[-300:]}")
        return check
    cases = {
        "wrong key": {"FEEDBACK_ENCRYPTION_KEY": "wrong-key"},
        "no key": {"FEEDBACK_ENCRYPTION_KEY": ""},
        "key file missing": {"FEEDBACK_ENCRYPTION_KEY": "", "FEEDBACK_ENCRYPTION_KEY_FILE": str(ws.root / "nope.key")},
        "key file empty": {"FEEDBACK_ENCRYPTION_KEY": "", "FEEDBACK_ENCRYPTION_KEY_FILE": str(ws.root / "empty.key")},
    }
    (ws.root / "empty.key").write_text("\n", encoding="utf-8")
    before = _files(ws.warehouse.parent)
    for name, env in cases.items():
        for command in (["run", "--no-progress"], ["status"]):
            run = start(ws, "key", command, **env)
            rc = finish(run, timeout=600)
            out = run.output()
            problems = []
            if rc == 0:
                problems.append("exit 0")
            if "Traceback" in out:
                problems.append("traceback")
            if not any(w in out.lower() for w in ("key", "encrypt")):
                problems.append("the message does not mention the key")
            if _files(ws.warehouse.parent) != before:
                problems.append("the warehouse folder changed")
            said = " ".join(out.split())[-160:]
            check.trial(
                not problems,
                note=f"{name}, feedback {command[0]}: rc {rc}, said {said!r}"
                + (": " + ", ".join(problems) if problems else ""),
            )
    # A key given for a warehouse that is not encrypted.
    plain = workspace(template, work / "keys-plain")
    made = start(plain, "init", ["init"])
    finish(made, timeout=600)
    before = _files(plain.warehouse.parent)
    run = start(plain, "key", ["status"], FEEDBACK_ENCRYPTION_KEY="some-key")
    rc = finish(run, timeout=600)
    out = run.output()
    ok = rc != 0 and "Traceback" not in out and _files(plain.warehouse.parent) == before
    check.trial(ok, note=f"key for an unencrypted warehouse: rc {rc}, said {' '.join(out.split())[-160:]!r}")
    return check


# ---------------------------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------------------------

FAULTS = ("kill", "kill2", "repeat", "concurrent", "overlap", "diskfull", "keys")


@dataclass(frozen=True)
class Plan:
    """How much of the suite to run."""

    rows: int
    kill_trials: int
    kill_stages: tuple[str, ...]
    disk_trials: int
    faults: tuple[str, ...]
    seed: int = 17
    run_args: tuple[str, ...] = ("run", "--no-progress")
    draw_stage: bool = False  # each kill trial in one stage drawn at random (else: every stage per trial)
    second_kill_trials: int = 3  # kill2: kills in a second delivery's run, each in a stage drawn at random


# CI: two kill trials in stages drawn at random, the theme fit left out (minutes on two cores).
SHORT_PLAN = Plan(
    rows=60,
    kill_trials=2,
    kill_stages=("ingest", "redaction", "scoring", "reports", "models"),
    disk_trials=1,
    faults=("kill", "diskfull", "keys"),
    run_args=(SHORT_RUN,),
    draw_stage=True,
)
FULL_PLAN = Plan(rows=300, kill_trials=1, kill_stages=tuple(TARGETS), disk_trials=2, faults=FAULTS)


def run_suite(work: Path, plan: Plan, log: Callable[[str], None] = print) -> list[Check]:
    """Every chosen fault on demo data of ``plan.rows`` rows; one :class:`Check` per fault, the clean run first."""
    _PROGRESS[0] = log
    template = make_template(work / "template", plan.rows, plan.run_args)
    checks = []
    clean: Clean | None = None
    if set(plan.faults) - {"keys"}:
        clean = clean_run(template, work)
        log(f"clean run: {clean.seconds:.0f} s, {len(clean.counts)} relations, {clean.warehouse_bytes:,} bytes")
        note = f"{len(clean.counts)} relations counted, {len(clean.boundaries)} reporting states"
        checks.append(Check("clean run (reference)", 1, 1, seconds=clean.seconds, notes=[note]))
    runners: dict[str, Callable[[Clean], Check]] = {
        "kill": lambda c: run_kills(template, work, c, plan),
        "kill2": lambda c: run_second_kills(template, work, c, plan),
        "repeat": lambda c: run_repeat(template, work, c),
        "concurrent": lambda c: run_concurrent(template, work, c),
        "overlap": lambda c: run_overlap(template, work, c),
        "diskfull": lambda c: run_diskfull(template, work, c, plan.disk_trials, plan.seed),
        "keys": lambda c: run_keys(template, work),
    }
    for name in plan.faults:
        t = time.perf_counter()
        check = runners[name](clean)  # type: ignore[arg-type]  # None only for keys, which needs no clean run
        check.seconds = time.perf_counter() - t
        log(f"{check.fault}: {check.survived}/{check.trials} survived, {check.seconds:.0f} s")
        checks.append(check)
    return checks


def _faults_arg(text: str) -> tuple[str, ...]:
    """``--only`` words: each a fault or a comma-separated list of faults."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FAULTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown fault {', '.join(unknown) or repr(text)}: choose from {', '.join(FAULTS)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    """``child ...`` runs the traced CLI; otherwise run the suite and print one line per fault."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        child_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--trials", type=int, default=None, help="kill trials per stage")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument(
        "--only",
        nargs="*",
        type=_faults_arg,
        metavar="FAULT",
        help=f"run only these faults (space- or comma-separated: {', '.join(FAULTS)}); default: the plan's",
    )
    parser.add_argument("--stages", nargs="*", choices=list(TARGETS))
    parser.add_argument("--disk-trials", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    plan = SHORT_PLAN if args.short else FULL_PLAN
    changes: dict[str, Any] = {
        "rows": args.rows,
        "kill_trials": args.trials,
        "disk_trials": args.disk_trials,
        "faults": args.only and tuple(dict.fromkeys(f for group in args.only for f in group)),
    }
    changes["kill_stages"] = args.stages and tuple(args.stages)
    plan = dataclasses.replace(plan, **{k: v for k, v in changes.items() if v is not None})
    work = Path(tempfile.mkdtemp(prefix="faults-"))
    started = time.perf_counter()
    try:
        checks = run_suite(work, plan, log=lambda line: print(line, flush=True))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    from benchmarks import reliability

    parts = [reliability.part_of(check) for check in checks]
    budget = reliability.SHORT if args.short else reliability.FULL
    reliability.print_table(parts, budget, time.perf_counter() - started)
    bad = [c for c in checks if c.survived < c.trials or c.lost or c.duplicated]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
