"""Evaluate and benchmark the theme stage.

``python -m benchmarks.themes eval`` runs :func:`pipelines.themes.stage.run_themes` (refit) on the
human-coded comments in ``models/themes/eval/themes_labelled.jsonl`` in a throw-away warehouse and
prints, for each human category, the F1 (over comments) of the same taxonomy category and of the
best-matching discovered theme or category, plus the share of comments left without a theme.

``python -m benchmarks.themes scale --n 10000`` times the theme stage (embedding + refit +
a daily assignment) on ``n`` synthetic comments and prints wall time and peak RSS.

``python -m benchmarks.themes encoders --n 3000`` times each way the stage's sentence encoders
run (MiniLM on torch and on onnxruntime, bge-small int8) on clauses of the project's own coded
comments (then demo comments) and prints clauses/s and the cosine of each MiniLM run to torch's.

``python -m benchmarks.themes stability`` refits twice (rows shuffled; then another seed)
and prints the share of clauses that keep their theme id.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

from pipelines import warehouse
from pipelines.config import Settings

_SPLIT = re.compile(r"(?<=[.!?])\s+|\s*;\s*|,?\s+\b(?:but|however|although|though|whereas)\b\s+", re.IGNORECASE)


def split_clauses(text: str) -> list[str]:
    """Clauses of a comment: the pipeline's splitter when available, else a simple one."""
    try:
        from pipelines.sentiment.scorer import split_clauses as pipeline_split
    except ImportError:  # pragma: no cover - depends on the sentiment stage being present
        parts = [p.strip(" ,;:-") for p in _SPLIT.split(text or "")]
        return [p for p in parts if p] or ([text.strip()] if text and text.strip() else [])
    return pipeline_split(text)


def load_labelled(path: Path) -> list[dict[str, Any]]:
    """Comments with human category codes (``id``, ``text``, ``categories``)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            rows.append(json.loads(line))
    return rows


def bench_settings(base: Settings, workdir: Path, config_overrides: dict[str, Any] | None = None) -> Settings:
    """Settings pointing at a scratch warehouse and a scratch copy of models/themes."""
    models = workdir / "models"
    (models / "themes").mkdir(parents=True, exist_ok=True)
    src = base.models_dir / "themes"
    for name in ("config.yaml", "taxonomy.yaml"):
        shutil.copy(src / name, models / "themes" / name)
    # The category classifier's training data (every coded file and map of classifier.training),
    # and its trained weights when already built.
    from pipelines.themes.classifier import training_files
    from pipelines.themes.model import load_config

    for pair in training_files(load_config(src / "config.yaml"), src):
        for path in (p for p in pair if p is not None):
            dest = models / "themes" / path.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
    if (src / "build" / "classifier").is_dir():
        shutil.copytree(src / "build" / "classifier", models / "themes" / "build" / "classifier", dirs_exist_ok=True)
    if config_overrides:
        import yaml

        from pipelines.provenance import deep_merge

        path = models / "themes" / "config.yaml"
        cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        path.write_text(yaml.safe_dump(deep_merge(cfg, config_overrides)), encoding="utf-8")
    return base.with_(warehouse=workdir / "bench.duckdb", models_dir=models)


def load_comments(settings: Settings, con: Any, comments: Sequence[tuple[str, str]]) -> int:
    """Write (feedback_id, text) comments as informative comments and their clauses."""
    clause_rows = [(fid, i, c) for fid, text in comments for i, c in enumerate(split_clauses(text))]
    frames = {
        "themes_bench_comments": pd.DataFrame({"feedback_id": [fid for fid, _ in comments]}),
        "themes_bench_clauses": pd.DataFrame(clause_rows, columns=["feedback_id", "clause_idx", "clause_text"]),
    }
    with warehouse.registered(con, **frames):
        warehouse.run_sql(con, settings, "queries/benchmarks/themes_load")
    return len(clause_rows)


def _indicators(groups: Sequence[set[str]], items: Sequence[str]) -> np.ndarray:
    """(items x groups) 0/1 matrix: is the item in the group?"""
    position = {item: i for i, item in enumerate(items)}
    out = np.zeros((len(items), len(groups)), dtype=np.int8)
    for j, members in enumerate(groups):
        out[[position[m] for m in members], j] = 1
    return out


def _f1(pred: set[str], gold: set[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``pred`` as a retrieval of ``gold`` (0 when undefined)."""
    items = sorted(pred | gold)
    if not items:
        return 0.0, 0.0, 0.0
    y_true, y_pred = _indicators([gold], items)[:, 0], _indicators([pred], items)[:, 0]
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0.0)
    return float(p), float(r), float(f)


def score_assignments(labelled: list[dict[str, Any]], clause_themes: pd.DataFrame, top: int = 10) -> dict[str, Any]:
    """Per human category: F1 of the same category and of the best-matching theme or category.

    Args:
        labelled: comments with ``id`` and ``categories``.
        clause_themes: one row per clause with ``feedback_id``, ``theme_id`` and ``category_id``.
        top: number of most frequent human categories to summarise.
    """
    ids = [r["id"] for r in labelled]
    gold: dict[str, set[str]] = {}
    for r in labelled:
        for c in r["categories"]:
            gold.setdefault(c, set()).add(r["id"])
    by_cat: dict[str, set[str]] = {}
    by_theme: dict[str, set[str]] = {}
    themed_comments: set[str] = set()
    for fid, theme, cat in zip(
        clause_themes["feedback_id"], clause_themes["theme_id"], clause_themes["category_id"], strict=True
    ):
        if theme is None or (isinstance(theme, float) and pd.isna(theme)):
            continue
        themed_comments.add(fid)
        by_theme.setdefault(str(theme), set()).add(fid)
        if isinstance(cat, str):
            by_cat.setdefault(cat, set()).add(fid)
    rows = []
    for cat, members in sorted(gold.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        p, r, f = _f1(by_cat.get(cat, set()), members)
        kind, match, best = _best_match(by_cat, by_theme, members)
        rows.append(
            {
                "category": cat,
                "n": len(members),
                "precision": p,
                "recall": r,
                "f1": f,
                "best_f1": best,
                "best_match": f"{kind}:{match}",
            }
        )
    table = pd.DataFrame(rows)
    head = table.head(top)
    n_comments = len(set(ids))
    return {
        "table": table,
        "top": top,
        "macro_f1_top": float(head["f1"].mean()) if len(head) else 0.0,
        "macro_best_f1_top": float(head["best_f1"].mean()) if len(head) else 0.0,
        "micro_f1_all": _micro(gold, by_cat),
        "unthemed_share": 1 - len(themed_comments & set(ids)) / n_comments if n_comments else 0.0,
        "comments": n_comments,
    }


def _best_match(by_cat: dict[str, set[str]], by_theme: dict[str, set[str]], gold: set[str]) -> tuple[str, str, float]:
    """(kind, id, F1) of the category or theme that best retrieves ``gold``; the first on ties."""
    candidates = [("category", k, _f1(v, gold)[2]) for k, v in by_cat.items()]
    candidates += [("theme", k, _f1(v, gold)[2]) for k, v in by_theme.items()]
    # Rounded so that equal F1s (up to float noise) are ties, and the first candidate wins them.
    return max(candidates, key=lambda x: round(x[2], 12)) if candidates else ("-", "-", 0.0)


def _micro(gold: dict[str, set[str]], pred: dict[str, set[str]]) -> float:
    """Micro F1 over (comment, category) pairs; predicted ``new`` counts only if a human code.

    Micro averaging pools the pairs of every category, so it is the binary F1 of the flattened
    (comment x category) indicator matrices.
    """
    labels = sorted(set(gold) | {k for k in pred if k in gold or k != "new"})
    items = sorted(set().union(*gold.values(), *pred.values()))
    if not labels or not items:
        return 0.0
    y_true = _indicators([gold.get(k, set()) for k in labels], items).ravel()
    y_pred = _indicators([pred.get(k, set()) for k in labels], items).ravel()
    return float(f1_score(y_true, y_pred, average="binary", zero_division=0.0))


def evaluate(
    settings: Settings,
    data: Path | None = None,
    config_overrides: dict[str, Any] | None = None,
    workdir: Path | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Run the theme stage (refit) on the labelled set and score it against the human codes."""
    from pipelines.themes import stage as themes

    data = data or settings.models_dir / "themes" / "eval" / "themes_labelled.jsonl"
    labelled = load_labelled(data)
    tmp = Path(workdir or tempfile.mkdtemp(prefix="themes-eval-"))
    bench = bench_settings(settings, tmp, config_overrides)
    if bench.warehouse.exists():
        bench.warehouse.unlink()
    started = time.perf_counter()
    try:
        with warehouse.connect(bench) as con:
            warehouse.apply_schema(con, bench)
            load_comments(bench, con, [(r["id"], r["text"]) for r in labelled])
            summary = themes.run_themes(bench, con, "eval", refit=True)
            clause_themes = warehouse.run_sql(con, bench, "queries/benchmarks/themes_comment_themes").df()
            registry = warehouse.run_sql(con, bench, "queries/themes/registry").df()
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    result = score_assignments(labelled, clause_themes, top=top)
    primary = score_assignments(labelled, clause_themes[clause_themes["theme_rank"] == 1], top=top)
    result["primary_only"] = {k: primary[k] for k in ("macro_f1_top", "macro_best_f1_top", "micro_f1_all")}
    result.update(
        {
            "summary": summary,
            "seconds": time.perf_counter() - started,
            "registry": registry,
            "clause_themes": clause_themes,
        }
    )
    return result


def print_eval(result: dict[str, Any], file: Any = sys.stdout) -> None:
    """Human-readable evaluation table."""
    t = result["table"]
    print(f"{'category':26} {'n':>4} {'P':>5} {'R':>5} {'F1':>5}  {'bestF1':>6}  best match", file=file)
    for _, r in t.iterrows():
        print(
            f"{r['category']:26} {r['n']:4d} {r['precision']:5.2f} {r['recall']:5.2f} {r['f1']:5.2f}  "
            f"{r['best_f1']:6.2f}  {r['best_match']}",
            file=file,
        )
    s = result["summary"]
    print(
        f"\ncomments {result['comments']}, clauses {s['clauses']}, themes {s['n_themes']}, "
        f"clause outlier share {s['outlier_share']:.3f}, methods {s.get('methods')}",
        file=file,
    )
    print(
        f"top-{result['top']} macro F1 (same category) {result['macro_f1_top']:.3f}; "
        f"best-match {result['macro_best_f1_top']:.3f}; micro F1 all {result['micro_f1_all']:.3f}; "
        f"unthemed comments {result['unthemed_share']:.3f}; {result['seconds']:.0f} s",
        file=file,
    )
    if "primary_only" in result:
        p = result["primary_only"]
        print(
            f"primary theme only (no secondary rows): top-{result['top']} macro F1 {p['macro_f1_top']:.3f}; "
            f"best-match {p['macro_best_f1_top']:.3f}; micro F1 all {p['micro_f1_all']:.3f}",
            file=file,
        )


# --------------------------------------------------------------------------------------
# Stability
# --------------------------------------------------------------------------------------
def stability(settings: Settings, data: Path | None = None, seed_change: bool = True) -> dict[str, float]:
    """Refit on shuffled rows (and with another seed): share of clauses keeping their theme id."""
    from pipelines.themes import stage as themes

    data = data or settings.models_dir / "themes" / "eval" / "themes_labelled.jsonl"
    labelled = load_labelled(data)
    comments = [(r["id"], r["text"]) for r in labelled]
    tmp = Path(tempfile.mkdtemp(prefix="themes-stab-"))
    bench = bench_settings(settings, tmp)
    out: dict[str, float] = {}
    try:
        with warehouse.connect(bench) as con:
            warehouse.apply_schema(con, bench)
            load_comments(bench, con, comments)
            themes.run_themes(bench, con, "r1", refit=True)
            first = warehouse.run_sql(con, bench, "queries/benchmarks/themes_comment_themes").df()
            shuffled = comments[:]
            random.Random(7).shuffle(shuffled)
            load_comments(bench, con, shuffled)
            themes.run_themes(bench, con, "r2", refit=True)
            second = warehouse.run_sql(con, bench, "queries/benchmarks/themes_comment_themes").df()
            out["shuffled"] = _same_share(first, second)
            if seed_change:
                other = bench.with_(seed=bench.seed + 1)
                themes.run_themes(other, con, "r3", refit=True)
                third = warehouse.run_sql(con, bench, "queries/benchmarks/themes_comment_themes").df()
                out["other_seed"] = _same_share(first, third)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _same_share(a: pd.DataFrame, b: pd.DataFrame) -> float:
    a, b = a[a["theme_rank"] == 1], b[b["theme_rank"] == 1]
    m = a.merge(b, on=["feedback_id", "clause_idx"], suffixes=("_a", "_b"))
    same = (m["theme_id_a"].fillna("-") == m["theme_id_b"].fillna("-")).mean()
    return float(same)


# --------------------------------------------------------------------------------------
# Scale
# --------------------------------------------------------------------------------------
def synthetic_comments(n: int, seed: int, settings: Settings) -> list[tuple[str, str]]:
    """``n`` comments: the demo generator's free text when available, else perturbed eval comments."""
    try:
        from pipelines.demo import generator as demo_data
    except ImportError:  # pragma: no cover
        demo_data = None
    texts: list[str] = []
    if demo_data is not None and hasattr(demo_data, "generate"):
        tmp = Path(tempfile.mkdtemp(prefix="themes-scale-"))
        try:
            demo_data.generate(tmp, rows=int(n * 1.25) + 50, seed=seed)
            texts = _texts_from_files(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if len(texts) < n:
        base = [r["text"] for r in load_labelled(settings.models_dir / "themes" / "eval" / "themes_labelled.jsonl")]
        rng = random.Random(seed)
        while len(texts) < n:
            a, b = rng.choice(base), rng.choice(base)
            texts.append(_perturb(rng, f"{a} {b}" if rng.random() < 0.3 else a))
    return [(f"s{i:07d}", t) for i, t in enumerate(texts[:n])]


def _texts_from_files(folder: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str)
        elif path.suffix.lower() in {".jsonl", ".ndjson"}:
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            continue
        cols = [
            c
            for c in frame.columns
            if any(k in c.lower() for k in ("comment", "text", "description", "suggestion", "reason", "improve"))
        ]
        for c in cols:
            texts.extend(str(v) for v in frame[c].dropna().tolist() if len(str(v).split()) >= 2)
    return texts


_FILLERS = ["honestly", "to be fair", "again", "on the day", "this time", "last week", "as usual", "overall"]


def _perturb(rng: random.Random, text: str) -> str:
    words = text.split()
    if len(words) > 4 and rng.random() < 0.5:
        i = rng.randrange(1, len(words))
        words.insert(i, rng.choice(_FILLERS))
    if rng.random() < 0.3:
        words = [w.lower() for w in words]
    return " ".join(words)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def scale(
    settings: Settings,
    n: int,
    seed: int = 42,
    workdir: Path | None = None,
    log: Callable[[str], None] = print,
    second_refit: bool = True,
) -> dict[str, Any]:
    """Time the theme stage on ``n`` synthetic comments: cold refit, then a daily run on 2% more."""
    from pipelines.themes import stage as themes

    tmp = Path(workdir or tempfile.mkdtemp(prefix="themes-scale-"))
    bench = bench_settings(settings, tmp)
    if bench.warehouse.exists():
        bench.warehouse.unlink()
    comments = synthetic_comments(int(n * 1.02), seed, settings)
    first, extra = comments[:n], comments[n:]
    out: dict[str, Any] = {"n_comments": n, "rss_start_mb": _peak_rss_mb()}
    try:
        with warehouse.connect(bench) as con:
            warehouse.apply_schema(con, bench)
            out["n_clauses"] = load_comments(bench, con, first)
            t = time.perf_counter()
            embedder = themes.get_embedder(bench)
            out["load_model_s"] = time.perf_counter() - t
            t, c = time.perf_counter(), _cpu_s()
            out["refit"] = themes.run_themes(bench, con, "scale-refit", refit=True, embedder=embedder)
            out["refit_s"], out["refit_cpu_s"] = time.perf_counter() - t, _cpu_s() - c
            out["rss_after_refit_mb"] = _peak_rss_mb()
            load_comments(bench, con, extra)
            t, c = time.perf_counter(), _cpu_s()
            out["daily"] = themes.run_themes(bench, con, "scale-daily", refit=False, embedder=embedder)
            out["daily_s"], out["daily_cpu_s"] = time.perf_counter() - t, _cpu_s() - c
            if second_refit:  # the monthly refit: embeddings all cached
                t, c = time.perf_counter(), _cpu_s()
                out["refit_cached"] = themes.run_themes(bench, con, "scale-refit2", refit=True, embedder=embedder)
                out["refit_cached_s"], out["refit_cached_cpu_s"] = time.perf_counter() - t, _cpu_s() - c
        out["peak_rss_mb"] = _peak_rss_mb()
    finally:
        if workdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    out["load_avg_1m"] = os.getloadavg()[0]
    log(json.dumps({k: v for k, v in out.items()}, indent=2, default=str))
    return out


def encoder_speed(settings: Settings, n: int = 3000, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Clauses per second of each sentence-encoder backend, and each MiniLM run's cosine to torch's.

    Texts: the unique clauses of the project's own coded comments (``eval/themes_labelled.jsonl``,
    ``eval/framework_coded.jsonl``), then of demo comments up to ``n``. Each encoder is warmed up
    on 32 texts first (the ONNX export, once per machine, is not timed).
    """
    from pipelines.partitions import worker_threads
    from pipelines.themes.context import themes_dir
    from pipelines.themes.encoders import BgeOnnxEmbedder, OnnxSentenceEmbedder
    from pipelines.themes.model import SentenceTransformerEmbedder

    texts: list[str] = []
    for name in ("themes_labelled.jsonl", "framework_coded.jsonl"):
        rows = load_labelled(settings.models_dir / "themes" / "eval" / name)
        texts += [c for row in rows for c in split_clauses(row["text"])]
    if len(set(texts)) < n:
        texts += [c for _, text in synthetic_comments(n, 42, settings) for c in split_clauses(text)]
    clauses = list(dict.fromkeys(t for t in texts if t.strip()))[:n]
    path = settings.embedding_model_path
    workers = worker_threads(2) or 2
    runs: dict[str, Callable[[], Any]] = {
        "minilm, sentence-transformers on torch": lambda: SentenceTransformerEmbedder(path),
        "minilm, onnxruntime fp32 (served)": lambda: OnnxSentenceEmbedder(
            path, themes_dir(settings) / "build" / "encoders", workers=workers
        ),
        "bge-small int8, per-token scales (served)": lambda: BgeOnnxEmbedder(workers=workers),
    }
    out: dict[str, Any] = {"clauses": len(clauses), "mean_chars": float(np.mean([len(c) for c in clauses]))}
    reference = None
    for label, make in runs.items():
        enc = make()
        enc.encode(clauses[:32])
        start = time.perf_counter()
        vecs = enc.encode(clauses)
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {"seconds": round(seconds, 2), "clauses_per_s": round(len(clauses) / seconds, 1)}
        if label.startswith("minilm"):
            reference = vecs if reference is None else reference
            cos = (vecs * reference).sum(axis=1)
            row.update(cosine_to_torch_mean=float(cos.mean()), cosine_to_torch_min=float(cos.min()))
            row["max_abs_difference_to_torch"] = float(np.abs(vecs - reference).max())
        out[label] = row
        log(f"{label:45s} {row['clauses_per_s']:7.1f} clauses/s ({row['seconds']} s)")
    out["load_avg_1m"] = os.getloadavg()[0]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``eval``, ``stability``, ``scale --n N`` or ``encoders --n N``."""
    import logging

    parser = argparse.ArgumentParser(prog="python -m benchmarks.themes", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_eval = sub.add_parser("eval", help="F1 against the human-coded evaluation set")
    p_eval.add_argument("--data", type=Path, default=None)
    p_eval.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.SUB=VALUE",
        help="config override, e.g. --set taxonomy.map_threshold=0.35 (YAML value)",
    )
    p_eval.add_argument("--json", action="store_true", help="print the table as JSON")
    p_stab = sub.add_parser("stability", help="theme-id stability across refits")
    p_stab.add_argument("--data", type=Path, default=None)
    p_scale = sub.add_parser("scale", help="time and peak memory at n comments")
    p_scale.add_argument("--n", type=int, default=10000)
    p_scale.add_argument("--seed", type=int, default=42)
    p_scale.add_argument("--no-second-refit", action="store_true", help="skip the refit on cached embeddings")
    p_enc = sub.add_parser("encoders", help="clauses/s of each sentence-encoder backend")
    p_enc.add_argument("--n", type=int, default=3000, help="unique clauses to embed (default 3000)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    if args.cmd == "eval":
        overrides = _parse_overrides(args.set)
        result = evaluate(settings, data=args.data, config_overrides=overrides)
        if args.json:
            print(result["table"].to_json(orient="records", indent=1))
        print_eval(result)
        counts = Counter(result["registry"]["category_id"])
        print(f"themes per category: {dict(counts.most_common())}")
    elif args.cmd == "stability":
        print(json.dumps(stability(settings, data=args.data), indent=2))
    elif args.cmd == "scale":
        scale(settings, args.n, seed=args.seed, second_refit=not args.no_second_refit)
    elif args.cmd == "encoders":
        print(json.dumps(encoder_speed(settings, args.n), indent=2))
    return 0


def _parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(value)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
