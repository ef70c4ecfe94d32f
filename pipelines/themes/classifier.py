"""Few-shot category classifier: one logistic regression per taxonomy category on frozen sentence embeddings.

Training data: every category's name and examples in ``taxonomy.yaml`` (positives for that
category) plus the project-coded comments in ``models/themes/eval/themes_labelled.jsonl``, whose
old-taxonomy codes are mapped by ``models/themes/eval/category_map.yaml`` (an old code split into
several new ones goes to the candidate the comment is most similar to). Reviewers' recodes
(``feedback themes import``, :mod:`pipelines.themes.review`) are further positives of their
category, weighted ``classifier.reviewer_weight`` (a few corrections from the organisation's own
comments should move the boundary: the few-shot idea of SetFit, here with a logistic head on the
frozen encoder); like the taxonomy examples they always train and are never held out. Each
category gets a decision threshold that maximises its F1 on out-of-fold probabilities (k-fold cross-validation
on the coded comments), so a clause carries every category whose probability passes its
threshold (multi-label). The classifier exposes the :class:`~pipelines.themes.model.TaxonomyScorer`
interface (``scores``) with scores scaled so that 0.5 is the category's threshold.

The encoder of the features is ``classifier.encoder`` (:mod:`pipelines.themes.encoders`: MiniLM,
bge-small int8 ONNX or both concatenated); its name and model-file sha256 go into the manifest.
The fitted weights are saved with safetensors plus a JSON manifest under
``models/themes/build/classifier`` and rebuilt when the taxonomy, the coded set, the map, the
settings or the encoder change (training takes seconds).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.themes.model import Category, Embedder, TaxonomyScorer

__all__ = [
    "CategoryClassifier",
    "TrainingSet",
    "cross_validated_proba",
    "load_or_train",
    "read_training",
    "training_files",
    "training_set",
]

log = logging.getLogger(__name__)

#: score the classifier reports for a probability exactly at the category threshold
PASS_SCORE = 0.5


@dataclass
class TrainingSet:
    """Texts with a 0/1 matrix of categories; ``coded`` marks rows from the coded set (used for CV)."""

    texts: list[str]
    y: np.ndarray  # (n, K) int
    coded: np.ndarray  # (n,) bool
    weight: np.ndarray | None = None  # (n,) sample weights (reviewer examples count more)


@dataclass
class CategoryClassifier:
    """Per-category logistic regressions with calibrated thresholds.

    ``general`` marks overall-verdict categories (general praise / criticism): a clause that
    passes the threshold of a specific category cannot also carry a general one, and the
    general one cannot be its best ("specific beats general", the coders' rule).
    """

    ids: list[str]
    coef: np.ndarray  # (K, d)
    intercept: np.ndarray  # (K,)
    thresholds: np.ndarray  # (K,)
    meta: dict[str, Any]
    general: np.ndarray | None = None  # (K,) bool
    #: the encoder of the features (set by :func:`pipelines.themes.context.scorer`; not saved, its name is)
    encoder: Embedder | None = field(default=None, repr=False, compare=False)

    def proba(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, K) probabilities of every category."""
        z = np.asarray(embeddings, dtype=np.float64) @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, embeddings: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """(n, K) scores: ``PASS_SCORE * probability / threshold`` (0.5 = at the threshold).

        Where a specific category passes, general categories are capped just below the pass
        mark and below the best specific score.
        """
        s = (PASS_SCORE * self.proba(embeddings) / self.thresholds).astype(np.float32)
        if self.general is not None and self.general.any() and (~self.general).any() and len(s):
            specific = s[:, ~self.general].max(axis=1)
            hit = specific >= PASS_SCORE
            cap = np.minimum(specific, PASS_SCORE) - 1e-3
            gen = s[:, self.general]
            s[:, self.general] = np.where(hit[:, None], np.minimum(gen, cap[:, None]), gen)
        return s

    def labels(self, embeddings: np.ndarray, fallback: float) -> list[list[int]]:
        """Category indexes per row: all that pass; else the best one when its score is >= ``fallback``."""
        s = self.scores(embeddings)
        out: list[list[int]] = []
        for row in s:
            hits = [int(k) for k in np.argsort(-row) if row[k] >= PASS_SCORE]
            if not hits and len(row) and row.max() >= fallback:
                hits = [int(row.argmax())]
            out.append(hits)
        return out

    def save(self, path: Path) -> None:
        """Weights as safetensors (``path``) and ids, thresholds and provenance in ``path.json``."""
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(
            {"coef": self.coef.astype(np.float32), "intercept": self.intercept.astype(np.float32)},
            str(path),
        )
        meta = {
            **self.meta,
            "ids": self.ids,
            "thresholds": [float(t) for t in self.thresholds],
            "general": [bool(g) for g in self.general] if self.general is not None else [],
        }
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CategoryClassifier:
        """Read a classifier written by :meth:`save`."""
        from safetensors.numpy import load_file

        tensors = load_file(str(path))
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return cls(
            ids=list(meta["ids"]),
            coef=tensors["coef"].astype(np.float64),
            intercept=tensors["intercept"].astype(np.float64),
            thresholds=np.asarray(meta["thresholds"], dtype=np.float64),
            meta=meta,
            general=np.asarray(meta["general"], dtype=bool) if meta.get("general") else None,
        )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def read_category_map(path: Path | None) -> dict[str, list[str]]:
    """Old code -> candidate new category ids (empty when the file is absent)."""
    import yaml

    if path is None or not Path(path).is_file():
        return {}
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(k): [str(v) for v in (vals or [])] for k, vals in data.items()}


def training_set(
    categories: Sequence[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    coded: Sequence[dict[str, Any]],
    category_map: dict[str, list[str]],
    reviewed: Sequence[tuple[str, str]] = (),
) -> tuple[TrainingSet, np.ndarray]:
    """Taxonomy examples, reviewers' recodes and mapped coded comments, and the embeddings of all their texts.

    ``reviewed`` holds (clause text, category id) pairs; a category id not in the taxonomy is skipped.
    """
    pos = {c.id: k for k, c in enumerate(categories)}
    texts: list[str] = []
    rows: list[set[int]] = []
    for k, c in enumerate(categories):
        for t in (c.name, *c.examples):
            texts.append(t)
            rows.append({k})
    n_taxonomy = len(texts)
    for text, cat in reviewed:
        if cat in pos and text.strip():
            texts.append(text)
            rows.append({pos[cat]})
    n_seed = len(texts)
    coded_texts = [str(r.get("text") or "") for r in coded]
    emb_coded = embedder.encode(coded_texts) if coded_texts else np.zeros((0, embedder.dim), np.float32)
    zero_shot = TaxonomyScorer(categories, embedder, cfg).scores(emb_coded, coded_texts) if coded_texts else None
    for i, r in enumerate(coded):
        cats: set[int] = set()
        for code in r.get("categories") or r.get("codes") or []:
            cands = [pos[c] for c in category_map.get(str(code), [str(code)]) if c in pos]
            if len(cands) == 1:
                cats.add(cands[0])
            elif cands and zero_shot is not None:
                cats.add(max(cands, key=lambda k: zero_shot[i, k]))
        texts.append(coded_texts[i])
        rows.append(cats)
    y = np.zeros((len(texts), len(categories)), dtype=int)
    for i, cats in enumerate(rows):
        y[i, sorted(cats)] = 1
    coded_mask = np.arange(len(texts)) >= n_seed
    emb = np.vstack([embedder.encode(texts[:n_seed]), emb_coded]).astype(np.float32)
    weight = np.ones(len(texts))
    weight[n_taxonomy:n_seed] = float(cfg["classifier"].get("reviewer_weight", 1.0))
    return TrainingSet(texts=texts, y=y, coded=coded_mask, weight=weight), emb


def _fit_weights(
    x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One L2 logistic regression per column of ``y`` (balanced classes, optional sample weights); (coef, intercept)."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((y.shape[1], x.shape[1]))
    intercept = np.full(y.shape[1], -10.0)
    for k in range(y.shape[1]):
        if y[:, k].min() == y[:, k].max():
            continue  # a category with no positives never fires
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        model.fit(x, y[:, k], sample_weight=weight)
        coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
    return coef, intercept


def cross_validated_proba(
    data: TrainingSet, emb: np.ndarray, c: float, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of the coded rows (seed rows always train) and the coded rows' indexes."""
    from sklearn.model_selection import KFold

    coded = np.flatnonzero(data.coded)
    seeds = np.flatnonzero(~data.coded)
    out = np.zeros((len(coded), data.y.shape[1]))
    for train, test in KFold(n_splits=folds, shuffle=True, random_state=seed).split(coded):
        rows = np.concatenate([seeds, coded[train]])
        coef, intercept = _fit_weights(emb[rows], data.y[rows], c, None if data.weight is None else data.weight[rows])
        out[test] = 1.0 / (1.0 + np.exp(-(emb[coded[test]] @ coef.T + intercept)))
    return out, coded


def best_thresholds(y: np.ndarray, proba: np.ndarray, grid: Sequence[float], default: float) -> np.ndarray:
    """Per category, the threshold on ``grid`` with the best F1 (``default`` without positives)."""
    from sklearn.metrics import f1_score

    out = np.full(y.shape[1], default)
    for k in range(y.shape[1]):
        if y[:, k].sum() == 0:
            continue
        f1s = [f1_score(y[:, k], proba[:, k] >= t, zero_division=0) for t in grid]
        out[k] = grid[int(np.argmax(f1s))]
    return out


def train(
    categories: Sequence[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    coded: Sequence[dict[str, Any]],
    category_map: dict[str, list[str]],
    seed: int,
    reviewed: Sequence[tuple[str, str]] = (),
) -> CategoryClassifier:
    """Fit the per-category regressions on all data; thresholds from k-fold out-of-fold F1.

    ``reviewed``: reviewers' (clause text, category id) recodes, extra weighted positives.
    """
    ccfg = cfg["classifier"]
    data, emb = training_set(categories, embedder, cfg, coded, category_map, reviewed)
    c, folds = float(ccfg["c"]), int(ccfg["folds"])
    grid = [round(float(t), 3) for t in np.arange(0.2, 0.91, 0.05)]
    if data.coded.sum() >= 2 * folds:
        proba, rows = cross_validated_proba(data, emb, c, folds, seed)
        thresholds = best_thresholds(data.y[rows], proba, grid, float(ccfg["default_threshold"]))
    else:
        thresholds = np.full(len(categories), float(ccfg["default_threshold"]))
    coef, intercept = _fit_weights(emb, data.y, c, data.weight)
    meta = {
        "encoder": embedder.name,
        # the exact model file (bge's ONNX file; empty for a sentence-transformers folder)
        "encoder_sha256": str(getattr(embedder, "sha256", "") or ""),
        "encoder_kind": str(ccfg.get("encoder", "minilm")),
        "c": c,
        "folds": folds,
        "seed": seed,
        "n_seed_texts": int((~data.coded).sum()),
        "n_coded": int(data.coded.sum()),
        "n_reviewed": len(reviewed),
        "reviewer_weight": float(ccfg.get("reviewer_weight", 1.0)),
    }
    return CategoryClassifier(
        ids=[cat.id for cat in categories],
        coef=coef,
        intercept=intercept,
        thresholds=thresholds,
        meta=meta,
        general=np.array([cat.general for cat in categories], dtype=bool),
    )


def training_key(
    categories: Sequence[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    files: Sequence[Path],
    reviewed: Sequence[tuple[str, str]] = (),
) -> str:
    """Hash of everything the classifier depends on (taxonomy, coded files, reviewers' recodes, settings, encoder)."""
    h = hashlib.sha256()
    payload = [[c.id, c.name, list(c.examples), c.general] for c in categories]
    h.update(json.dumps([payload, cfg["classifier"], embedder.name], sort_keys=True, default=str).encode())
    if reviewed:
        h.update(json.dumps(sorted([list(r) for r in reviewed])).encode())
    for f in files:
        h.update(Path(f).read_bytes() if Path(f).is_file() else b"-")
    return h.hexdigest()[:16]


def training_files(
    cfg: dict[str, Any], themes_dir: Path, shipped_dir: Path | None = None
) -> list[tuple[Path, Path | None]]:
    """(coded file, code map) pairs of ``classifier.training``.

    Each is found under ``themes_dir`` or else under ``shipped_dir`` (the project's own
    ``models/themes``: a copied models folder without the coded files trains the same
    classifier as the shipped one).
    """
    out: list[tuple[Path, Path | None]] = []
    for item in cfg["classifier"].get("training") or []:
        data = Path(str(item["data"]))
        cmap = Path(str(item["map"])) if item.get("map") else None
        for base in (themes_dir, shipped_dir):
            if base is not None and (base / data).is_file():
                out.append((base / data, base / cmap if cmap else None))
                break
        else:
            log.warning("category classifier: training file %s not found under %s", data, themes_dir)
    return out


def read_training(files: Sequence[tuple[Path, Path | None]]) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Coded rows of every training file and one code map (the files' code names do not clash)."""
    rows: list[dict[str, Any]] = []
    cmap: dict[str, list[str]] = {}
    for data, map_path in files:
        file_map = read_category_map(map_path)
        clash = {k for k in file_map if k in cmap and cmap[k] != file_map[k]}
        if clash:
            raise ValueError(f"{map_path}: codes mapped differently by another training file: {sorted(clash)}")
        cmap.update(file_map)
        rows.extend(read_jsonl(data))
    return rows, cmap


def load_or_train(
    categories: Sequence[Category],
    embedder: Embedder,
    cfg: dict[str, Any],
    themes_dir: Path,
    seed: int,
    shipped_dir: Path | None = None,
    reviewed: Sequence[tuple[str, str]] = (),
) -> CategoryClassifier:
    """The classifier for this taxonomy, encoder and reviewers' recodes: from ``build/classifier`` or trained now."""
    files = training_files(cfg, themes_dir, shipped_dir)
    key = training_key(
        categories, embedder, {**cfg, "seed": seed}, [f for pair in files for f in pair if f is not None], reviewed
    )
    path = themes_dir / "build" / "classifier" / f"classifier-{key}.safetensors"
    if path.is_file():
        try:
            return CategoryClassifier.load(path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("retraining the category classifier: %s", exc)
    coded, cmap = read_training(files)
    log.info(
        "training the category classifier (%d coded comments from %d files, %d reviewer recodes)",
        len(coded),
        len(files),
        len(reviewed),
    )
    model = train(categories, embedder, cfg, coded, cmap, seed, reviewed)
    model.meta["key"] = key
    model.meta["training_files"] = [str(f.name) for f, _ in files]
    try:
        model.save(path)
    except OSError as exc:  # read-only models folder: keep it in memory
        log.warning("could not save the category classifier: %s", exc)
    return model
