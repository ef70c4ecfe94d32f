"""End-to-end pipeline benchmark (``make bench``): per-stage wall time, CPU time, rows/s and peak RSS.

What it does, in order:

1. ``feedback demo-data --rows N --seed 42`` into a fresh temporary home (warehouse, data, reports
   and GX folders all under one temp dir; models and configs are this checkout's).
2. Each stage of :mod:`pipelines.stages` (ingest, enrich, themes, report) in **its own subprocess**,
   the way Airflow runs each task, so each stage's peak RSS is its own (``os.wait4`` rusage of the
   child: ``ru_maxrss`` and user+system CPU). Rows in/out come from the stage's own summary.
3. The naive baselines, each in its own subprocess, on a sample of the same demo comments and
   **extrapolated linearly** to this run's volume (and labelled so in the table and JSON):

   * per-call ``transformers`` text-classification pipeline, one (question, comment) call at a
     time (``benchmarks.sentiment._bench_naive``), against what enrich scored (comments + clauses);
   * a vanilla ``BERTopic()`` fit with default settings (the same MiniLM embedder, since the
     machine is offline) on sampled clauses, against the clauses the themes stage assigned.
     UMAP and HDBSCAN grow faster than linearly, so the extrapolation is a lower bound.

   Both baselines time the steady state only (after model loading and a warm-up call), while our
   stages' wall times include loading models and compiling: the comparison favours the baselines.

4. One table (rich) and ``benchmarks/results/pipeline-<N>.json``, with the 1-min load average
   before and after (the machine is shared: a busy machine makes every wall time longer; CPU
   seconds are less sensitive to that).

Targets (issue 16): 100k records <= 15 min end to end and <= 4 GB peak RSS on 2 cores.

``--extrapolate-from benchmarks/results/pipeline-10000.json --rows 100000`` writes no new
measurement: it scales each stage of a measured run linearly to ``--rows`` and writes
``pipeline-<N>-extrapolated.json``, every figure labelled as extrapolated (RSS is copied from the
measured run and is a lower bound).

Examples::

    python -m benchmarks.pipeline --rows 10000
    python -m benchmarks.pipeline --rows 200 --no-baselines --keep
    python -m benchmarks.pipeline --extrapolate-from benchmarks/results/pipeline-10000.json --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ("ingest", "enrich", "themes", "report")
TARGET_SECONDS_100K = 15 * 60
TARGET_RSS_MB = 4096
MIN_PROJECTION = 5000  # records: smaller runs are mostly fixed costs (loading models, compiling UMAP)
#: the question asked with every comment in the naive baseline (the FFT question)
NAIVE_QUESTION = "Overall, how was your experience of our service?"


# --------------------------------------------------------------------------------------
# Child processes: one stage, or one baseline
# --------------------------------------------------------------------------------------
def _child_stage(stage: str, run_id: str, out: Path) -> None:
    """Run one pipeline stage in this process and write its summary as JSON."""
    from pipelines import stages
    from pipelines.config import Settings

    settings = Settings.from_env()
    fn = {
        "ingest": stages.ingest_stage,
        "enrich": stages.enrich_stage,
        "themes": stages.themes_stage,
        "report": stages.report_stage,
    }[stage]
    summary = fn(settings, run_id)
    out.write_text(json.dumps(summary, default=str), encoding="utf-8")


def _demo_texts(data_dir: Path, n: int, seed: int) -> list[str]:
    """``n`` free-text comments sampled (seeded) from the demo files."""
    from benchmarks.themes import _texts_from_files

    texts = _texts_from_files(data_dir / "demo")
    if not texts:
        raise RuntimeError(f"no free-text comments found under {data_dir / 'demo'}")
    rng = random.Random(seed)
    return rng.sample(texts, n) if n < len(texts) else texts


def _child_naive_scoring(sample: int, out: Path) -> None:
    """Per-call transformers pipeline on ``sample`` demo comments (benchmarks.sentiment's naive contender)."""
    from types import SimpleNamespace

    from benchmarks.sentiment import _bench_naive
    from pipelines.config import Settings
    from pipelines.sentiment.pointers import current_build, read_manifest

    settings = Settings.from_env()
    build = current_build(settings.sentiment_build_dir)
    if build is None:
        raise RuntimeError(f"no sentiment model built in {settings.sentiment_build_dir}: run `make models`")
    max_len = int(read_manifest(build)["config"]["max_len"])
    texts = _demo_texts(settings.data_dir, sample, settings.seed)
    result = SimpleNamespace(speeds={}, per_cpu_second={}, seconds={})
    _bench_naive(result, build, texts, [NAIVE_QUESTION] * len(texts), max_len, lambda _msg: None)
    out.write_text(json.dumps({"rows": len(texts), "timed_seconds": result.seconds["naive"]}), encoding="utf-8")


def _child_vanilla_bertopic(sample: int, out: Path) -> None:
    """``BERTopic()`` with default settings (local MiniLM embedder) fitted on ``sample`` demo clauses."""
    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    from benchmarks.themes import split_clauses
    from pipelines.config import Settings

    settings = Settings.from_env()
    clauses = [c for t in _demo_texts(settings.data_dir, sample, settings.seed) for c in split_clauses(t)][:sample]
    embedder = SentenceTransformer(settings.embedding_model_path, device="cpu")
    # Untimed warm-up fit (numba compiles UMAP/HDBSCAN on first use, ~20 s): like the naive
    # scorer's figure, the timed part is the steady-state fit, not model loading or compilation.
    BERTopic(embedding_model=embedder).fit_transform(clauses[:100])
    started = time.perf_counter()
    model = BERTopic(embedding_model=embedder)
    topics, _ = model.fit_transform(clauses)
    seconds = time.perf_counter() - started
    out.write_text(
        json.dumps({"rows": len(clauses), "timed_seconds": seconds, "topics": len(set(topics)) - (-1 in topics)}),
        encoding="utf-8",
    )


# --------------------------------------------------------------------------------------
# Parent: measure children
# --------------------------------------------------------------------------------------
def _measure(args: list[str], env: dict[str, str], log_path: Path) -> dict[str, Any]:
    """Run ``args`` as a child process; its wall time, CPU time and peak RSS (wait4 rusage).

    Raises:
        RuntimeError: when the child fails (the tail of its log is in the message).
    """
    with log_path.open("w", encoding="utf-8") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(args[:6])} ... failed with exit code {proc.returncode}:\n{tail}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),  # Linux: kilobytes
    }


def bench_env(workdir: Path) -> dict[str, str]:
    """Environment of every child: this checkout's code, models and configs; a scratch warehouse."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(workdir / "data"),
        "FEEDBACK_WAREHOUSE": str(workdir / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(workdir / "reports"),
        "FEEDBACK_GX_DIR": str(workdir / "gx"),
        "FEEDBACK_SEED": "42",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "PYTHONHASHSEED": "0",
        # Busy-waiting OpenMP threads collapse when other work shares the 2 cores.
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }


def _rows_for_rate(stage: str, summary: dict[str, Any], records: int) -> int:
    """Rows a stage's throughput is counted in: what it read (reports: the generated records)."""
    if stage == "report":
        return records
    return int(summary.get("rows_in") or 0)


def run_stages(
    rows: int, workdir: Path, env: dict[str, str], log: Any, until: str = STAGES[-1]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Generate the demo data, then run and measure every stage up to ``until``; (generate row, stage rows)."""
    feedback = str(Path(sys.executable).parent / "feedback")
    log(f"generating {rows} demo records ...")
    gen = _measure([feedback, "demo-data", "--rows", str(rows), "--seed", "42"], env, workdir / "generate.log")
    manifest = json.loads((workdir / "data" / "demo" / "manifest.json").read_text(encoding="utf-8"))
    records = int(sum(manifest.get("counts", {}).values()) or rows)
    generate = {"stage": "generate (not timed in total)", "rows_in": rows, "rows_out": records, **gen}
    run_id = f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out: list[dict[str, Any]] = []
    for stage in STAGES[: STAGES.index(until) + 1]:
        log(f"stage {stage} ...")
        summary_path = workdir / f"{stage}.summary.json"
        child = [sys.executable, "-m", "benchmarks.pipeline", "--child", stage, "--run-id", run_id]
        measured = _measure([*child, "--child-out", str(summary_path)], env, workdir / f"{stage}.log")
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        rate_rows = _rows_for_rate(stage, summary, records)
        out.append(
            {
                "stage": stage,
                "rows_in": summary.get("rows_in"),
                "rows_out": summary.get("rows_out"),
                "rows_per_s": round(rate_rows / measured["wall_s"], 1) if measured["wall_s"] > 0 else None,
                **measured,
                "summary": {k: v for k, v in summary.items() if k not in {"batches", "files", "redactor"}},
            }
        )
    return generate, out


def run_baselines(
    stages: list[dict[str, Any]], env: dict[str, str], workdir: Path, samples: dict[str, int], log: Any
) -> list[dict[str, Any]]:
    """Measure the naive baselines on samples and extrapolate them to this run's volume."""
    by = {s["stage"]: s for s in stages}
    enrich_sum = by["enrich"]["summary"] if "enrich" in by else {}
    themes_sum = by["themes"]["summary"] if "themes" in by else {}
    scored = int(enrich_sum.get("rows_out") or 0) + int(enrich_sum.get("clauses") or 0)
    clauses = int(themes_sum.get("rows_in") or 0)
    plan = [
        ("naive scoring", "per-call transformers pipeline (torch)", samples["naive"], scored, "enrich"),
        ("vanilla BERTopic", "BERTopic() defaults, fit_transform", samples["bertopic"], clauses, "themes"),
    ]
    out = []
    for key, label, sample, target, ours in plan:
        if sample <= 0 or target <= 0:
            continue
        log(f"baseline {key} on {sample} ...")
        path = workdir / f"{key.replace(' ', '_')}.json"
        child = [sys.executable, "-m", "benchmarks.pipeline", "--child", key.replace(" ", "-"), "--sample", str(sample)]
        measured = _measure([*child, "--child-out", str(path)], env, workdir / f"{path.stem}.log")
        result = json.loads(path.read_text(encoding="utf-8"))
        rate = result["rows"] / result["timed_seconds"]
        projected = target / rate
        out.append(
            {
                "baseline": label,
                "sample_rows": result["rows"],
                "timed_seconds": round(result["timed_seconds"], 2),
                "rows_per_s": round(rate, 1),
                "process_wall_s": measured["wall_s"],
                "peak_rss_mb": measured["peak_rss_mb"],
                "target_rows": target,
                "extrapolated_s": round(projected, 1),
                "extrapolated": target != result["rows"],
                "vs_stage": ours,
                "x_slower_than_ours": round(projected / by[ours]["wall_s"], 1) if by[ours]["wall_s"] else None,
            }
        )
    return out


def totals(stages: list[dict[str, Any]], records: int) -> dict[str, Any]:
    """End-to-end wall and CPU (sum of stages), peak RSS (max of stages) and the targets."""
    wall = sum(s["wall_s"] for s in stages)
    peak = max(s["peak_rss_mb"] for s in stages)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(sum(s["cpu_s"] for s in stages), 2),
        "peak_rss_mb": peak,
        "records_per_s": round(records / wall, 1) if wall else None,
        "dominant_stage": max(stages, key=lambda s: s["wall_s"])["stage"],
        "target_wall_s_at_100k": TARGET_SECONDS_100K,
        "target_peak_rss_mb": TARGET_RSS_MB,
        # Below a few thousand records, model loading and compilation dominate: no projection.
        "linear_projection_to_100k_s": round(wall * 100_000 / records, 1) if records >= MIN_PROJECTION else None,
    }


def measure(
    rows: int, samples: dict[str, int], workdir: Path, log: Any = print, until: str = STAGES[-1]
) -> dict[str, Any]:
    """The whole benchmark at ``rows`` generated records; the result written to JSON by :func:`main`."""
    env = bench_env(workdir)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = datetime.now(UTC)
    generate, stages = run_stages(rows, workdir, env, log, until)
    baselines = run_baselines(stages, env, workdir, samples, log)
    return {
        "rows_requested": rows,
        "records_generated": generate["rows_out"],
        "seed": 42,
        "started_at": started.isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "extrapolated": False,
        "stages_run": [s["stage"] for s in stages],
        "generate": generate,
        "stages": stages,
        "total": totals(stages, generate["rows_out"]),
        "baselines": baselines,
        "notes": (
            "Each stage ran in its own process (as Airflow tasks do): peak RSS is per stage, the total's is "
            "the largest stage. Baselines ran on a sample and are extrapolated linearly (a lower bound for "
            "BERTopic, whose UMAP/HDBSCAN grow faster than linearly). The machine is shared: see the load averages."
        ),
    }


def extrapolate(measured: dict[str, Any], rows: int) -> dict[str, Any]:
    """Scale a measured run's times linearly to ``rows`` records; every figure labelled extrapolated."""
    factor = rows / measured["rows_requested"]
    out = json.loads(json.dumps(measured))
    out.update({"rows_requested": rows, "extrapolated": True, "extrapolated_from": measured["rows_requested"]})
    out["records_generated"] = round(measured["records_generated"] * factor)
    for s in out["stages"]:
        s["wall_s"], s["cpu_s"] = round(s["wall_s"] * factor, 1), round(s["cpu_s"] * factor, 1)
        for key in ("rows_in", "rows_out"):
            if isinstance(s.get(key), int) and s["stage"] != "report":
                s[key] = round(s[key] * factor)
        s["peak_rss_mb_is_lower_bound"] = True
    for b in out["baselines"]:
        b["target_rows"] = round(b["target_rows"] * factor)
        b["extrapolated_s"] = round(b["extrapolated_s"] * factor, 1)
        b["extrapolated"] = True
    out["total"] = totals(out["stages"], out["records_generated"])
    out["notes"] = (
        f"EXTRAPOLATED linearly from the {measured['rows_requested']}-row run (not measured). Times scale by "
        f"{factor:g}; peak RSS is copied from the measured run and is a lower bound (embeddings, UMAP and "
        "HDBSCAN memory grow with the number of clauses). " + measured.get("notes", "")
    )
    return out


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
def render(result: dict[str, Any], file: Any = None) -> str:
    """Print the stage and baseline tables (rich) and return them as plain text."""
    from rich.console import Console
    from rich.table import Table

    tag = " (EXTRAPOLATED, not measured)" if result["extrapolated"] else ""
    la = result["load_average_before"], result["load_average_after"]
    title = (
        f"pipeline at {result['rows_requested']:,} requested / {result['records_generated']:,} generated records"
        f"{tag}; load avg 1/5/15 min before {la[0]} after {la[1]}"
    )
    t = Table(title=title)
    for col in ("stage", "rows in", "rows out", "wall s", "CPU s", "rows/s", "peak RSS MB"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for s in [result["generate"], *result["stages"]]:
        t.add_row(
            s["stage"],
            "" if s.get("rows_in") is None else str(s["rows_in"]),
            "" if s.get("rows_out") is None else str(s["rows_out"]),
            f"{s['wall_s']:.1f}",
            f"{s['cpu_s']:.1f}",
            "" if s.get("rows_per_s") is None else f"{s['rows_per_s']:.1f}",
            f"{s['peak_rss_mb']:.0f}",
        )
    tot = result["total"]
    t.add_row(
        f"total ({len(result['stages'])} stages)",
        "",
        "",
        f"{tot['wall_s']:.1f}",
        f"{tot['cpu_s']:.1f}",
        "" if tot["records_per_s"] is None else f"{tot['records_per_s']:.1f}",
        f"{tot['peak_rss_mb']:.0f} (max)",
    )
    b = Table(title="naive baselines (timed on a sample, extrapolated linearly to this run's rows)")
    for col in ("baseline", "sample", "rows/s", "peak RSS MB", "rows here", "extrapolated s", "vs our stage"):
        b.add_column(col, justify="left" if col == "baseline" else "right")
    for x in result["baselines"]:
        b.add_row(
            x["baseline"],
            str(x["sample_rows"]),
            f"{x['rows_per_s']:.1f}",
            f"{x['peak_rss_mb']:.0f}",
            str(x["target_rows"]),
            f"{x['extrapolated_s']:.0f}" + (" (extrap.)" if x["extrapolated"] else ""),
            f"{x['x_slower_than_ours']}x {x['vs_stage']} time",
        )
    projection = tot["linear_projection_to_100k_s"]
    projection = f"{projection:.0f} s" if projection else f"n/a (fewer than {MIN_PROJECTION} records)"
    console = Console(file=file, width=140, record=True)
    console.print(t)
    if result["baselines"]:
        console.print(b)
    console.print(
        f"dominant stage: {tot['dominant_stage']}; total {tot['wall_s']:.0f} s, peak {tot['peak_rss_mb']:.0f} MB; "
        f"linear projection to 100k records: {projection} (target {TARGET_SECONDS_100K} s, {TARGET_RSS_MB} MB)"
    )
    return console.export_text()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pipeline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=10_000, help="Demo records to generate (default 10000).")
    parser.add_argument(
        "--naive-sample", type=int, default=500, help="Comments the per-call transformers baseline scores (0: skip)."
    )
    parser.add_argument(
        "--bertopic-sample", type=int, default=3000, help="Clauses the vanilla BERTopic baseline fits on (0: skip)."
    )
    parser.add_argument("--no-baselines", action="store_true", help="Skip both naive baselines.")
    parser.add_argument(
        "--until",
        choices=STAGES,
        default=STAGES[-1],
        help="Last stage to run (each needs the ones before it); baselines of stages not run are skipped.",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default benchmarks/results/pipeline-N.json)."
    )
    parser.add_argument("--workdir", type=Path, default=None, help="Scratch folder (default: a new temp dir).")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch folder (warehouse, logs, reports).")
    parser.add_argument(
        "--extrapolate-from", type=Path, default=None, help="A measured JSON to scale linearly to --rows (no run)."
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child_main(args)
    if args.extrapolate_from:
        measured = json.loads(args.extrapolate_from.read_text(encoding="utf-8"))
        if measured["records_generated"] < MIN_PROJECTION:
            parser.error(f"{args.extrapolate_from} has fewer than {MIN_PROJECTION} records: fixed costs dominate it")
        result = extrapolate(measured, args.rows)
        out = args.out or RESULTS / f"pipeline-{args.rows}-extrapolated.json"
    else:
        samples = {"naive": 0 if args.no_baselines else args.naive_sample}
        samples["bertopic"] = 0 if args.no_baselines else args.bertopic_sample
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-pipeline-"))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            result = measure(
                args.rows, samples, workdir, log=lambda m: print(m, file=sys.stderr, flush=True), until=args.until
            )
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        result["command"] = "python -m benchmarks.pipeline " + " ".join(sys.argv[1:] if argv is None else argv)
        out = args.out or RESULTS / f"pipeline-{args.rows}.json"
    render(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _child_main(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.child in STAGES:
        _child_stage(args.child, args.run_id, args.child_out)
    elif args.child == "naive-scoring":
        _child_naive_scoring(args.sample, args.child_out)
    elif args.child == "vanilla-BERTopic":
        _child_vanilla_bertopic(args.sample, args.child_out)
    else:
        raise SystemExit(f"unknown child {args.child!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
