"""Cross-validated category scores on the project's coded sets (the classifier's own training data).

The category classifier (:mod:`pipelines.themes.classifier`) trains on the taxonomy examples and
on every coded file listed in ``classifier.training``, so scoring it on one of those files with
``feedback eval themes`` would test it on its training data. Here each coded file is split into
k folds; every fold is predicted by a classifier trained on the taxonomy examples, the other
coded files and the file's other folds (thresholds by the classifier's own inner CV), exactly as
``feedback eval themes`` predicts (clauses, non-content left out, union of passing categories,
the comment's best category as fallback). Per coder code: best-match F1 among our categories;
coverage = share of content comments with at least one category.

    python -m benchmarks.themes_categories                      # every training file
    python -m benchmarks.themes_categories --file eval/framework_coded.jsonl --folds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipelines.config import Settings


class _CachedEmbedder:
    """Wraps an embedder: every text is encoded once per process (folds share the encodings)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.dim, self.name, self.path = inner, inner.dim, inner.name, inner.path
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


def cross_validate(
    settings: Settings,
    only: Sequence[str] = (),
    folds: int = 5,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    holdout: bool = False,
) -> dict[str, dict[str, Any]]:
    """Per training file: the best-match table, mean F1 and coverage from k-fold predictions.

    ``overrides`` replace keys of the ``classifier`` config (encoder, c, ...). With ``holdout``
    a file is not split: all of it is predicted by one classifier trained without it at all
    (taxonomy examples and the other files only): a proxy for text written apart from the
    training data.
    """
    from pipelines.themes.classifier import read_category_map, read_jsonl, training_files
    from pipelines.themes.context import classifier_embedder, themes_dir
    from pipelines.themes.model import load_config, load_taxonomy
    from pipelines.themes.noncontent import NonContent

    folder = themes_dir(settings)
    cfg = load_config(folder / "config.yaml")
    cfg["classifier"].update(overrides or {})
    categories = load_taxonomy(folder / "taxonomy.yaml")
    embedder = _CachedEmbedder(classifier_embedder(settings, cfg))
    nonc = NonContent(cfg)
    seed = settings.seed if seed is None else seed
    files = training_files(cfg, folder, settings.home / "models" / "themes")
    data = {str(f.relative_to(f.parents[1])): (read_jsonl(f), read_category_map(m)) for f, m in files}
    cmap: dict[str, list[str]] = {}
    for _, file_map in data.values():
        cmap.update(file_map)
    out: dict[str, dict[str, Any]] = {}
    for name, (rows, _) in data.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        others = [r for other, (rs, _) in data.items() if other != name for r in rs]
        split = [(np.array([], dtype=int), np.arange(len(rows)))] if holdout else None
        pred, content = _predict_folds(rows, others, split, (categories, embedder, cfg, cmap, nonc), folds, seed)
        out[name] = _score(rows, pred, content, time.perf_counter() - started)
    return out


def _predict_folds(
    rows: list[dict[str, Any]],
    others: list[dict[str, Any]],
    split: list[tuple[np.ndarray, np.ndarray]] | None,
    model: tuple[Any, ...],
    folds: int,
    seed: int,
) -> tuple[list[set[str]], np.ndarray]:
    """Categories and content mask of every row, each predicted by a classifier trained without its fold."""
    from sklearn.model_selection import KFold

    from pipelines.themes.classifier import train
    from pipelines.themes.evaluate import predict_categories

    categories, embedder, cfg, cmap, nonc = model
    texts = [str(r["text"]) for r in rows]
    pred: list[set[str]] = [set() for _ in rows]
    content = np.zeros(len(rows), dtype=bool)
    for train_idx, test_idx in split or KFold(n_splits=folds, shuffle=True, random_state=seed).split(rows):
        clf = train(categories, embedder, cfg, others + [rows[i] for i in train_idx], cmap, seed)
        p, c, *_ = predict_categories([texts[i] for i in test_idx], clf, embedder, cfg, nonc)
        for j, i in enumerate(test_idx):
            pred[i], content[i] = p[j], c[j]
    return pred, content


def _score(rows: list[dict[str, Any]], pred: list[set[str]], content: np.ndarray, seconds: float) -> dict[str, Any]:
    """Best-match table, mean F1 and coverage of one file's predictions."""
    from pipelines.themes.evaluate import best_match

    gold = [set(r.get("codes") or r.get("categories") or []) for r in rows]
    # Codes meaning "nothing to code" are not categories to retrieve.
    keep = [bool(g - {"other", "Not assigned", "Labelling not possible"}) for g in gold]
    table = best_match(gold, pred, content & np.asarray(keep))
    table = table[~table["code"].isin(["other", "Not assigned", "Labelling not possible"])]
    covered = [bool(p) for p, c in zip(pred, content, strict=True) if c]
    return {
        "table": table,
        "mean_f1": float(table["f1"].mean()) if len(table) else 0.0,
        "coverage": float(np.mean(covered)) if covered else 0.0,
        "comments": len(rows),
        "seconds": round(seconds, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print the cross-validated best-match table of each coded training file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.themes_categories", description=__doc__.split("\n")[0])
    parser.add_argument("--file", action="append", default=[], help="only this training file (eval/NAME.jsonl)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--encoder", help="classifier.encoder for this run (minilm, bge-small-int8, minilm+bge)")
    parser.add_argument("--c", type=float, help="classifier.c (inverse L2 strength) for this run")
    parser.add_argument(
        "--holdout", action="store_true", help="predict each file with a classifier trained without it at all (no CV)"
    )
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("encoder", args.encoder), ("c", args.c)) if v is not None}
    results = cross_validate(Settings.from_env(), args.file, args.folds, overrides=overrides, holdout=args.holdout)
    how = "trained without it" if args.holdout else f"{args.folds}-fold CV"
    for name, res in results.items():
        print(f"\n== {name}: {res['comments']} comments, {how} {overrides or ''} ({res['seconds']} s)")
        for r in res["table"].itertuples():
            print(f"{r.code[:58]:58} {r.n:4d} {r.f1:5.2f} {r.precision:5.2f} {r.recall:5.2f}  {r.match}")
        print(f"mean best-match F1 {res['mean_f1']:.3f} over {len(res['table'])} codes; coverage {res['coverage']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
