"""Scoring predicted categories and themes against coded feedback (``feedback eval themes``).

A coded file is CSV (text column plus one or more code columns, each cell one code or several
separated by ``;`` or ``|``) or JSON lines with a list of codes per row (``codes`` or
``categories``). For every coder code the score is the *best-match F1*: the best F1 over
comments among our categories (and, separately, among our themes), since the two code lists need
not share names. Coverage is the share of content comments (not non-answers) that get at least
one category. F1, precision and recall come from scikit-learn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CodedSet",
    "best_match",
    "confusion",
    "disagreements",
    "read_coded",
    "split_clauses",
]

_CODE_SPLIT = re.compile(r"\s*[;|]\s*")
_CLAUSE_SPLIT = re.compile(
    r"(?<=[.!?])\s+|\s*[;\n]+\s*|,?\s+\b(?:but|however|although|though|whereas|except|apart from)\b\s+",
    re.IGNORECASE,
)


@dataclass
class CodedSet:
    """Comments with the coder's codes (a set per comment)."""

    ids: list[str]
    texts: list[str]
    codes: list[set[str]]


def _codes_of(value: object) -> set[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    if isinstance(value, list | tuple | set):
        return {str(v).strip() for v in value if str(v).strip()}
    text = str(value).strip()
    if text.startswith("["):
        try:
            return _codes_of(json.loads(text))
        except json.JSONDecodeError:
            pass
    return {c for c in _CODE_SPLIT.split(text) if c}


def read_coded(
    path: Path,
    text_column: str = "text",
    theme_columns: Sequence[str] = (),
    file_format: str = "auto",
    id_column: str = "id",
) -> CodedSet:
    """Read a coded CSV or JSONL file.

    Args:
        path: the file.
        text_column: column (or JSON key) with the comment text.
        theme_columns: CSV code columns; for JSONL the first present of these, ``codes`` or
            ``categories`` is used.
        file_format: ``csv``, ``jsonl`` or ``auto`` (by extension, then by the first character).
        id_column: id column or key (row numbers when absent).

    Raises:
        ValueError: when the text column or every code column is missing.
    """
    path = Path(path)
    fmt = file_format
    if fmt == "auto":
        if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
            fmt = "jsonl"
        else:
            head = path.read_text(encoding="utf-8", errors="replace").lstrip()[:1]
            fmt = "jsonl" if head == "{" else "csv"
    if fmt == "jsonl":
        frame = pd.DataFrame(
            [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        )
        columns = [c for c in (*theme_columns, "codes", "categories") if c in frame.columns][:1]
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        columns = [c for c in theme_columns if c in frame.columns]
    if text_column not in frame.columns:
        raise ValueError(f"{path}: no text column {text_column!r} (columns: {list(frame.columns)})")
    if not columns:
        raise ValueError(f"{path}: none of the code columns {list(theme_columns) or ['codes']} is present")
    codes = [set().union(*(_codes_of(row[c]) for c in columns)) for _, row in frame.iterrows()]
    ids = frame[id_column].astype(str).tolist() if id_column in frame.columns else [str(i) for i in range(len(frame))]
    return CodedSet(ids=ids, texts=frame[text_column].fillna("").astype(str).tolist(), codes=codes)


def split_clauses(text: str) -> list[str]:
    """Clauses of a comment: sentence ends, semicolons, new lines and contrast words."""
    parts = [p.strip(" ,;:-.") for p in _CLAUSE_SPLIT.split(text or "") if p]
    parts = [p for p in parts if p]
    return parts or ([text.strip()] if (text or "").strip() else [])


def _indicator(sets: Sequence[set[str]], item: str) -> np.ndarray:
    return np.fromiter((item in s for s in sets), dtype=bool, count=len(sets))


def best_match(gold: Sequence[set[str]], pred: Sequence[set[str]], rows: np.ndarray | None = None) -> pd.DataFrame:
    """Per coder code: the predicted label with the best F1 over comments, with its P, R and F1.

    Args:
        gold: coder codes per comment.
        pred: our labels (categories or themes) per comment.
        rows: boolean mask of the comments to score (default: all).
    """
    from sklearn.metrics import precision_recall_fscore_support

    mask = np.ones(len(gold), dtype=bool) if rows is None else rows
    g = [s for s, m in zip(gold, mask, strict=True) if m]
    p = [s for s, m in zip(pred, mask, strict=True) if m]
    labels = sorted(set().union(*p)) if p else []
    out = []
    for code in sorted(set().union(*g)) if g else []:
        y = _indicator(g, code)
        best = ("", 0.0, 0.0, 0.0)
        for lab in labels:
            prec, rec, f1, _ = precision_recall_fscore_support(y, _indicator(p, lab), average="binary", zero_division=0)
            if f1 > best[3]:
                best = (lab, float(prec), float(rec), float(f1))
        out.append(
            {"code": code, "n": int(y.sum()), "match": best[0], "precision": best[1], "recall": best[2], "f1": best[3]}
        )
    return pd.DataFrame(out, columns=["code", "n", "match", "precision", "recall", "f1"]).sort_values(
        ["n", "code"], ascending=[False, True], ignore_index=True
    )


def confusion(gold: Sequence[set[str]], pred: Sequence[set[str]]) -> pd.DataFrame:
    """Comments per (coder code, our category) pair: a multi-label confusion table."""
    counts: dict[tuple[str, str], int] = {}
    for g, p in zip(gold, pred, strict=True):
        for a in g:
            for b in p or {"(none)"}:
                counts[(a, b)] = counts.get((a, b), 0) + 1
    if not counts:
        return pd.DataFrame()
    frame = pd.Series(counts).unstack(fill_value=0)
    return frame.loc[frame.sum(axis=1).sort_values(ascending=False).index]


def disagreements(
    coded: CodedSet, pred: Sequence[set[str]], matches: dict[str, str], content: np.ndarray
) -> pd.DataFrame:
    """Comments where a coder code's best-matching category is missing, or a category has no code.

    ``matches`` maps a coder code to its best-matching category.
    """
    back: dict[str, set[str]] = {}
    for code, cat in matches.items():
        back.setdefault(cat, set()).add(code)
    rows = []
    for i, (g, p) in enumerate(zip(coded.codes, pred, strict=True)):
        missed = sorted(c for c in g if matches.get(c) and matches[c] not in p)
        extra = sorted(c for c in p if c in back and not (back[c] & g))
        if missed or extra or (content[i] and g and not p):
            rows.append(
                {
                    "id": coded.ids[i],
                    "text": coded.texts[i],
                    "coder_codes": "; ".join(sorted(g)),
                    "our_categories": "; ".join(sorted(p)),
                    "missed_codes": "; ".join(missed),
                    "extra_categories": "; ".join(extra),
                }
            )
    return pd.DataFrame(
        rows, columns=["id", "text", "coder_codes", "our_categories", "missed_codes", "extra_categories"]
    )


@dataclass
class EvalResult:
    """What ``feedback eval themes`` reports."""

    categories: pd.DataFrame  # best match per coder code among our categories
    themes: pd.DataFrame | None  # ... among discovered themes (None when not fitted)
    coverage: float
    content: np.ndarray
    predicted: list[set[str]]
    confusion: pd.DataFrame
    disagreements: pd.DataFrame
    overlap: float  # share of comments whose text is in the classifier's training data


def predict_categories(
    texts: Sequence[str], classifier: object, embedder: object, cfg: dict, nonc: object
) -> tuple[list[set[str]], np.ndarray, list[list[str]], np.ndarray, np.ndarray]:
    """Categories per comment: every category a content clause passes (union), else the comment's best.

    Returns (categories per comment, content mask, clauses per comment, clause owner, clause embeddings).
    """
    clauses = [[c for c in split_clauses(t) if not nonc.is_noncontent(c)] for t in texts]
    content = np.array([bool(c) for c in clauses])
    flat = [c for cl in clauses for c in cl]
    owner = np.repeat(np.arange(len(texts)), [len(c) for c in clauses])
    emb = embedder.encode(flat) if flat else np.zeros((0, embedder.dim), dtype=np.float32)
    # The classifier's features come from its own encoder (``classifier.encoder``) when it has one.
    features = getattr(classifier, "encoder", None) or embedder
    feats = emb if features is embedder else features.encode(flat)
    ids = classifier.ids
    pred: list[set[str]] = [set() for _ in texts]
    for i, labs in zip(owner, classifier.labels(feats, fallback=1e9), strict=True):
        pred[i] |= {ids[k] for k in labs}
    empty = [i for i in range(len(texts)) if content[i] and not pred[i]]
    if empty:
        whole = features.encode([texts[i] for i in empty])
        for i, labs in zip(empty, classifier.labels(whole, float(cfg["classifier"]["fallback_score"])), strict=True):
            pred[i] = {ids[k] for k in labs}
    return pred, content, clauses, owner, emb


def evaluate_coded(coded: CodedSet, settings: object, with_themes: bool = True) -> EvalResult:
    """Score the theme stage's categories (and, optionally, freshly fitted themes) on ``coded``."""
    from pipelines.themes.classifier import read_training, training_files
    from pipelines.themes.context import get_embedder, scorer, themes_dir
    from pipelines.themes.model import load_config, load_taxonomy
    from pipelines.themes.noncontent import NonContent, normalise

    folder = themes_dir(settings)
    cfg = load_config(folder / "config.yaml")
    categories = load_taxonomy(folder / "taxonomy.yaml")
    embedder = get_embedder(settings, cfg)
    clf = scorer(categories, embedder, cfg, settings)
    nonc = NonContent(cfg)
    pred, content, clauses, owner, emb = predict_categories(coded.texts, clf, embedder, cfg, nonc)
    gold = coded.codes
    cats = best_match(gold, pred, content)
    themes = None
    if with_themes and len(emb) >= int(cfg["min_fit_docs"]):
        themes = best_match(gold, _theme_sets(clauses, owner, emb, cfg, settings, embedder, len(coded.texts)), content)
    rows, _ = read_training(training_files(cfg, folder, settings.home / "models" / "themes"))
    train_texts = {normalise(r.get("text", "")) for r in rows}
    overlap = float(np.mean([normalise(t) in train_texts for t in coded.texts])) if coded.texts else 0.0
    matches = dict(zip(cats["code"], cats["match"], strict=True))
    return EvalResult(
        categories=cats,
        themes=themes,
        coverage=float(np.mean([bool(p) for p, c in zip(pred, content, strict=True) if c])) if content.any() else 0.0,
        content=content,
        predicted=pred,
        confusion=confusion(
            [g for g, c in zip(gold, content, strict=True) if c], [p for p, c in zip(pred, content, strict=True) if c]
        ),
        disagreements=disagreements(coded, pred, matches, content),
        overlap=overlap,
    )


def _theme_sets(
    clauses: list[list[str]], owner: np.ndarray, emb: np.ndarray, cfg: dict, settings: object, embedder: object, n: int
) -> list[set[str]]:
    """Topics per comment from a BERTopic fit on the comments' clauses (labels ``theme:<n>``)."""
    from pipelines.themes.model import fit_topics

    flat = [c for cl in clauses for c in cl]
    fit = fit_topics(flat, emb, cfg, int(settings.seed), embedder)
    out: list[set[str]] = [set() for _ in range(n)]
    for i, t in zip(owner, fit.topic_of_doc, strict=True):
        if t >= 0:
            out[i].add(f"theme:{int(t)}")
    return out
