"""Reviewer labels for sentiment: review export, validated import, agreement, training set.

* :func:`export_for_review` picks comments for reviewers: uncertain ones (smallest margin
  between the model's two most probable classes) and representative ones (nearest the centre
  of each k-means cluster of sentence embeddings), one per near-duplicate (normalised text,
  embedding cosine similarity), and writes them as CSV **and** XLSX with ``feedback_id,
  question, text, predicted_label`` and an empty ``label`` column. Only PHI-redacted text is
  exported. :func:`export_uncertain` is the uncertain-only variant.
* :func:`import_labels` reads such a file back (CSV or XLSX), validates every row (label
  is one of the five names or 1-5; feedback id known; no conflicting duplicates) and
  stores the labels in ``enrich.sentiment_labels``. Any bad row rejects the whole file
  with the row numbers (spreadsheet numbering: the header is row 1). Rows left blank are
  skipped: reviewers need not label everything.
* :func:`import_two_reviewers` imports two reviewers' copies of the same rows: Cohen's kappa
  (:func:`reviewer_agreement`), the rows they agree on stored, the others listed.
* :func:`organisation_examples` returns the stored labels as training examples.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines import exports
from pipelines.config import Settings
from pipelines.sentiment.base import LABELS5, ROLLUP, SentimentScorer, label5_from_value
from pipelines.sentiment.data import Example
from pipelines.warehouse import apply_schema, connect, registered, run_sql

EXPORT_COLUMNS: tuple[str, ...] = ("feedback_id", "question", "text", "predicted_label", "label")
Embed = Callable[[Sequence[str]], Any]  # texts -> n x d embeddings


class LabelImportError(ValueError):
    """A label file has rows that cannot be stored (the message lists them)."""


@dataclass(frozen=True)
class ImportResult:
    """What an import stored."""

    stored: int
    skipped_blank: int
    batch: str


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------
def entropy(probs: Sequence[float]) -> float:
    """Shannon entropy (nats) of a distribution; higher = less sure."""
    return -sum(p * math.log(p) for p in probs if p > 0)


def margin(probs: Sequence[float]) -> float:
    """Difference between the two most probable classes; lower = less sure."""
    top = sorted(probs, reverse=True)
    return top[0] - (top[1] if len(top) > 1 else 0.0)


def rank_uncertain(probs: Any, n: int) -> list[int]:
    """Indices of the ``n`` rows with the highest entropy (ties: smaller margin, then index)."""
    keyed = [(-entropy(row), margin(row), i) for i, row in enumerate(probs)]
    return [i for _, _, i in sorted(keyed)[:n]]


def rank_low_margin(probs: Any) -> list[int]:
    """All row indices, smallest margin between the two most probable classes first (ties: index)."""
    return sorted(range(len(probs)), key=lambda i: (margin(probs[i]), i))


_PUNCT = re.compile(r"[^\w\s]+")


def normalise_text(text: str) -> str:
    """Text as compared for duplicates: case-folded, punctuation dropped, whitespace collapsed."""
    return " ".join(_PUNCT.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


class _Picker:
    """Chosen rows, refusing a near-duplicate of any row already chosen (cosine similarity)."""

    def __init__(self, vectors: Any, threshold: float) -> None:
        self.vectors = vectors
        self.threshold = threshold
        self.chosen: list[int] = []
        self.skipped = 0

    def covers(self, i: int) -> bool:
        """Row ``i`` is chosen already or is a near-duplicate of a chosen row."""
        if i in self.chosen:
            return True
        if self.vectors is None or not self.chosen:
            return False
        return float((self.vectors[self.chosen] @ self.vectors[i]).max()) >= self.threshold

    def take(self, i: int) -> bool:
        """Choose row ``i`` unless it is covered already (a near-duplicate counts as skipped)."""
        if self.covers(i):
            self.skipped += i not in self.chosen
            return False
        self.chosen.append(i)
        return True


def representative_order(vectors: Any, k: int, seed: int = 13) -> list[list[int]]:
    """k-means clusters of the rows (``k`` at most the row count); each cluster's members nearest-to-centre first.

    Clusters are returned largest first, so a short export still covers the commonest kinds of comment.
    """
    import numpy as np
    from sklearn.cluster import KMeans

    k = min(k, len(vectors))
    if k <= 0:
        return []
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(vectors)
    dist = np.linalg.norm(vectors - km.cluster_centers_[km.labels_], axis=1)
    clusters = [np.flatnonzero(km.labels_ == c) for c in range(k)]
    clusters.sort(key=lambda members: (-len(members), int(members.min())))
    return [[int(i) for i in members[np.argsort(dist[members], kind="stable")]] for members in clusters]


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and why each row was chosen."""

    csv_path: Path
    xlsx_path: Path
    rows: int
    uncertain: int
    representative: int
    duplicates_skipped: int


def _candidates(settings: Settings, pool: int, sample: bool) -> tuple[list[tuple[Any, ...]], list[int]]:
    # (rows, indices of the sample rows): least confident candidates first, then (when asked) a fixed
    # pseudo-random sample of all candidates; one row per normalised text (the first seen), blanks dropped.
    with connect(settings, read_only=True) as con:
        query = "queries/sentiment/review_candidates"
        uncertain = run_sql(con, settings, query, {"pool": pool, "sample": False}).fetchall()
        sampled = run_sql(con, settings, query, {"pool": pool, "sample": True}).fetchall() if sample else []
    index: dict[str, int] = {}
    rows: list[tuple[Any, ...]] = []
    in_sample: list[int] = []
    for from_sample, batch in ((False, uncertain), (True, sampled)):
        for r in batch:
            key = normalise_text(r[2] or "")
            if not key:
                continue
            if key not in index:
                index[key] = len(rows)
                rows.append(r)
            if from_sample and index[key] not in in_sample:
                in_sample.append(index[key])
    return rows, in_sample


def export_for_review(  # long: candidate pool, two selections with de-duplication, writing both files
    settings: Settings,
    scorer: SentimentScorer,
    n: int,
    out: Path,
    *,
    embed: Embed | None = None,
    uncertain_share: float = 0.5,
    near_duplicate: float = 0.9,
    pool_factor: int = 10,
    seed: int = 13,
    guard: exports.ExportGuard | None = None,
) -> ExportResult:
    """Write ``n`` comments for reviewers: uncertain ones and representative ones, one per near-duplicate.

    * uncertain: ``uncertain_share`` of ``n``, the smallest margin between the model's two most
      probable classes, from the least confident stored scores;
    * representative: the rest, the comment nearest the centre of each k-means cluster of the
      sentence embeddings (``embed``) of a fixed sample of all unlabelled comments;
    * one per near-duplicate: one row per normalised text, and no row whose embedding has cosine
      similarity >= ``near_duplicate`` with a row already chosen.

    Without ``embed`` every row is an uncertain one and duplicates are found on text only.
    ``guard`` (the final privacy scan, ``pipelines.privacy.scan``) looks at both files first and
    raises ``exports.ExportBlocked`` instead of writing one that holds an identifier.

    Raises:
        LabelImportError: when the warehouse has no scored, unlabelled comment.
    """
    import numpy as np

    if not 0.0 <= uncertain_share <= 1.0:
        raise ValueError(f"uncertain_share must be within 0..1, not {uncertain_share}")
    share = 1.0 if embed is None else uncertain_share
    n_uncertain = round(n * share)
    pool = max(n * pool_factor, n)
    rows, sample_rows = _candidates(settings, pool, sample=n_uncertain < n)
    if not rows:
        raise LabelImportError(
            "no scored, unlabelled comments in the warehouse: run the pipeline (sentiment stage) first"
        )
    texts = [r[2] for r in rows]
    questions = [r[1] for r in rows]
    vectors = None
    if embed is not None:
        vectors = np.asarray(embed(texts), dtype=np.float32)
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    picker = _Picker(vectors, near_duplicate)
    probabilities = getattr(scorer, "probabilities", None)
    # A scorer without probabilities: least confident first (the SQL order).
    order = rank_low_margin(probabilities(texts, questions)) if probabilities is not None else list(range(len(rows)))
    for i in order:
        if len(picker.chosen) >= n_uncertain:
            break
        picker.take(i)
    n_unc = len(picker.chosen)
    if vectors is not None and len(picker.chosen) < n:
        # Cluster the sample minus what is chosen already and its near-duplicates.
        rest = [i for i in sample_rows if not picker.covers(i)]
        for members in representative_order(vectors[rest], n - len(picker.chosen), seed):
            if len(picker.chosen) >= n:
                break
            any(picker.take(rest[i]) for i in members)
    chosen = picker.chosen
    predicted = [s.label5 for s in scorer.score([texts[i] for i in chosen], [questions[i] for i in chosen])]
    records = [
        {"feedback_id": rows[i][0], "question": questions[i], "text": texts[i], "predicted_label": p, "label": ""}
        for i, p in zip(chosen, predicted, strict=True)
    ]
    csv_path, xlsx_path = _out_paths(out)
    write_csv(csv_path, records, guard)
    write_xlsx(xlsx_path, records, guard)
    return ExportResult(csv_path, xlsx_path, len(records), n_unc, len(chosen) - n_unc, picker.skipped)


def export_uncertain(
    settings: Settings,
    scorer: SentimentScorer,
    n: int,
    out: Path,
    pool_factor: int = 10,
    guard: exports.ExportGuard | None = None,
) -> tuple[Path, Path, int]:
    """Write the ``n`` comments the model is least sure about to ``out`` (.csv and .xlsx), one per text.

    Returns:
        (csv path, xlsx path, rows written).
    """
    res = export_for_review(settings, scorer, n, out, embed=None, pool_factor=pool_factor, guard=guard)
    return res.csv_path, res.xlsx_path, res.rows


def default_embedder() -> Embed:
    """Sentence embeddings of all-MiniLM-L6-v2 (the package the sentiment model is built on), on CPU."""
    from sentence_transformers import SentenceTransformer

    from pipelines.sentiment.train import base_model_path

    model = SentenceTransformer(base_model_path(), device="cpu")

    def embed(texts: Sequence[str]) -> Any:
        return model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    return embed


def _out_paths(out: Path) -> tuple[Path, Path]:
    stem = out.with_suffix("") if out.suffix.lower() in {".csv", ".xlsx"} else out
    stem.parent.mkdir(parents=True, exist_ok=True)
    return stem.with_suffix(".csv"), stem.with_suffix(".xlsx")


HELP_LINES = (
    "Code each row with the coding guide models/sentiment/CODING.md (open it before your first batch).",
    "Fill the 'label' column with the sentiment of the text as an answer to its question:",
    "very negative | negative | neutral | positive | very positive (or 1-5).",
    "Code what the text says, not the star rating: a suggestion is criticism (negative, 2), even a calm one",
    "and even when the patient rated the service 'very good'; very negative (1) when angry or it describes harm.",
    "'Nothing' answering 'What could we improve?' is a satisfied patient (positive, 4);",
    "answering 'What was good?' it is negative (2).",
    "Neutral (3) is a mixed comment whose praise and criticism balance, a plain account with no evaluation,",
    "or a non-answer ('Did not answer', 'N/A', '-', 'no comment', 'see above').",
    "Leave a row blank if you cannot decide (blank rows are skipped). Then: feedback label import <this file>",
)


def _frame(records: Sequence[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{k: str(r[k]) for k in EXPORT_COLUMNS} for r in records], columns=list(EXPORT_COLUMNS))


def write_csv(path: Path, records: Sequence[dict[str, str]], guard: exports.ExportGuard | None = None) -> None:
    """CSV for reviewers (UTF-8 with BOM so Excel shows accents; formula-safe text)."""
    exports.write_csv(_frame(records), path, guard=guard)


def write_xlsx(path: Path, records: Sequence[dict[str, str]], guard: exports.ExportGuard | None = None) -> None:
    """XLSX for reviewers: formula-safe text, a drop-down on the label column, a help sheet."""
    exports.write_xlsx(
        {"labels": _frame(records), "how to label": pd.DataFrame({"how to label": HELP_LINES})},
        path,
        choices={"labels": {"label": LABELS5}},
        widths={"labels": (16, 40, 80, 16, 16), "how to label": (100,)},
        guard=guard,
    )


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------
def read_label_file(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV or XLSX label file as (row number, {column: value}); header is row 1.

    Raises:
        LabelImportError: unreadable file or missing columns.
    """
    if not path.is_file():
        raise LabelImportError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb["labels"] if "labels" in wb.sheetnames else wb.worksheets[0]
        table = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    else:
        raise LabelImportError(f"{path}: use a .csv or .xlsx file (as written by `feedback label export`)")
    if not table:
        raise LabelImportError(f"{path}: the file is empty")
    header = [str(h).strip().lower() for h in table[0]]
    missing = [c for c in ("feedback_id", "label") if c not in header]
    if missing:
        raise LabelImportError(f"{path}: missing column(s) {', '.join(missing)} (header row: {table[0]})")
    return [
        (n, {h: row[i] if i < len(row) else "" for i, h in enumerate(header)})
        for n, row in enumerate(table[1:], start=2)
    ]


def validate_rows(
    rows: Sequence[tuple[int, dict[str, Any]]], known_ids: set[str]
) -> tuple[list[tuple[int, str, str]], int, list[str]]:
    """Check rows; returns (valid (row, feedback_id, label5), blank count, problems)."""
    valid: list[tuple[int, str, str]] = []
    problems: list[str] = []
    blank = 0
    first_seen: dict[str, tuple[int, str]] = {}
    for n, row in rows:
        fid = str(row.get("feedback_id", "") or "").strip()
        raw = row.get("label", "")
        raw_text = "" if raw is None else str(raw).strip()
        if not fid and not raw_text:
            blank += 1
            continue
        if not raw_text:
            blank += 1
            continue
        if not fid:
            problems.append(f"row {n}: empty feedback_id")
            continue
        try:
            label = label5_from_value(raw if isinstance(raw, int | float) else raw_text)
        except ValueError:
            problems.append(f"row {n}: label {raw_text!r} is not one of {', '.join(LABELS5)} or 1-5")
            continue
        if fid not in known_ids:
            problems.append(f"row {n}: unknown feedback_id {fid!r}")
            continue
        if fid in first_seen and first_seen[fid][1] != label:
            problems.append(
                f"row {n}: feedback_id {fid!r} already labelled {first_seen[fid][1]!r} in row {first_seen[fid][0]}"
            )
            continue
        if fid not in first_seen:
            first_seen[fid] = (n, label)
            valid.append((n, fid, label))
    return valid, blank, problems


def _validated(
    con: Any, settings: Settings, path: Path
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str, str]], int]:
    # (raw rows, valid (row, feedback_id, label5), blank count) of one file; raises with every bad row.
    rows = read_label_file(path)
    ids = sorted({str(r.get("feedback_id", "") or "").strip() for _, r in rows} - {""})
    found = run_sql(con, settings, "queries/sentiment/known_ids", {"ids": ids}).fetchall() if ids else []
    valid, blank, problems = validate_rows(rows, {r[0] for r in found})
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise LabelImportError(
            f"{path}: {len(problems)} bad row(s), nothing stored:\n  {shown}{more}\n"
            f"Fix them (labels: {', '.join(LABELS5)} or 1-5) and import again."
        )
    return rows, valid, blank


def _store(con: Any, settings: Settings, records: Sequence[tuple[str, str, str | None, str, int]], batch: str) -> None:
    # records: (feedback_id, label5, reviewer, source file name, source row).
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        {
            "feedback_id": [r[0] for r in records],
            "label5": [r[1] for r in records],
            "reviewer": [r[2] for r in records],
            "source_file": [r[3] for r in records],
            "source_row": [r[4] for r in records],
            "import_batch": [batch] * len(records),
            "labelled_at": [now] * len(records),
        }
    )
    if len(frame):
        with registered(con, incoming_labels=frame):
            run_sql(con, settings, "queries/sentiment/upsert")


def _batch_id(*paths: Path) -> str:
    stamp = datetime.now(UTC).isoformat()
    key = ":".join(str(p.resolve()) for p in paths)
    return "labels-" + hashlib.sha256(f"{key}:{stamp}".encode()).hexdigest()[:12]


def import_labels(settings: Settings, path: Path, reviewer: str | None = None) -> ImportResult:
    """Validate and store a reviewed label file; all-or-nothing.

    Raises:
        LabelImportError: listing every bad row with its row number; nothing is stored.
    """
    with connect(settings) as con:
        apply_schema(con, settings)
        _, valid, blank = _validated(con, settings, path)
        batch = _batch_id(path)
        _store(con, settings, [(fid, label, reviewer, path.name, n) for n, fid, label in valid], batch)
    return ImportResult(stored=len(valid), skipped_blank=blank, batch=batch)


@dataclass
class Agreement:
    """How far two reviewers agree on the rows both labelled (Cohen's kappa, scikit-learn)."""

    n_both: int
    kappa5: float | None  # None when undefined (fewer than 2 rows, or one label throughout)
    kappa3: float | None
    agree5: float
    agree3: float
    disagreements: pd.DataFrame  # feedback_id, question, text, label_a, label_b, label3_a, label3_b

    def table(self, names: tuple[str, str] = ("a", "b")) -> str:
        """Plain-text summary."""

        def k(v: float | None) -> str:
            return "undefined" if v is None else f"{v:.3f}"

        return (
            f"{self.n_both} rows labelled by both {names[0]} and {names[1]}: Cohen's kappa 5-class {k(self.kappa5)}, "
            f"3-class {k(self.kappa3)}; same label {self.agree5:.1%} (5-class), {self.agree3:.1%} (3-class); "
            f"{len(self.disagreements)} rows disagree (5-class)"
        )


def _kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(a) < 2 or len({*a, *b}) < 2:
        return None
    value = float(cohen_kappa_score(a, b, labels=list(labels)))
    return None if math.isnan(value) else round(value, 4)


def reviewer_agreement(
    valid_a: Sequence[tuple[int, str, str]],
    valid_b: Sequence[tuple[int, str, str]],
    texts: dict[str, tuple[str, str]] | None = None,
) -> Agreement:
    """Agreement of two reviewers' validated labels ``(row, feedback_id, label5)`` on the ids both labelled.

    ``texts`` maps feedback id to (question, text) for the disagreement table.
    """
    from pipelines.sentiment.base import LABELS3, label3_of

    a = {fid: label for _, fid, label in valid_a}
    b = {fid: label for _, fid, label in valid_b}
    both = [fid for _, fid, _ in valid_a if fid in b]
    la, lb = [a[f] for f in both], [b[f] for f in both]
    a3, b3 = [label3_of(x) for x in la], [label3_of(x) for x in lb]
    texts = texts or {}
    differ = [i for i in range(len(both)) if la[i] != lb[i]]
    table = pd.DataFrame(
        {
            "feedback_id": [both[i] for i in differ],
            "question": [texts.get(both[i], ("", ""))[0] for i in differ],
            "text": [texts.get(both[i], ("", ""))[1] for i in differ],
            "label_a": [la[i] for i in differ],
            "label_b": [lb[i] for i in differ],
            "label3_a": [a3[i] for i in differ],
            "label3_b": [b3[i] for i in differ],
        }
    )
    n = len(both)
    return Agreement(
        n_both=n,
        kappa5=_kappa(la, lb, LABELS5),
        kappa3=_kappa(a3, b3, LABELS3),
        agree5=sum(x == y for x, y in zip(la, lb, strict=True)) / n if n else 0.0,
        agree3=sum(x == y for x, y in zip(a3, b3, strict=True)) / n if n else 0.0,
        disagreements=table,
    )


def import_two_reviewers(
    settings: Settings,
    path_a: Path,
    path_b: Path,
    reviewers: tuple[str | None, str | None] = (None, None),
) -> tuple[ImportResult, Agreement]:
    """Import two reviewers' files of the same rows: report agreement, store only what they agree on.

    A row labelled in one file only is stored with that label; a row both labelled the same is
    stored once; a row they label differently (5-point) is not stored but listed in
    :attr:`Agreement.disagreements` for the reviewers to settle and import again. Both files are
    validated first: any bad row in either stores nothing.

    Raises:
        LabelImportError: listing every bad row of either file.
    """
    with connect(settings) as con:
        apply_schema(con, settings)
        rows_a, valid_a, blank_a = _validated(con, settings, path_a)
        _, valid_b, blank_b = _validated(con, settings, path_b)
        texts = {
            str(r.get("feedback_id", "")).strip(): (str(r.get("question", "") or ""), str(r.get("text", "") or ""))
            for _, r in rows_a
        }
        agreement = reviewer_agreement(valid_a, valid_b, texts)
        in_a = {fid: (n, label) for n, fid, label in valid_a}
        in_b = {fid: (n, label) for n, fid, label in valid_b}
        joint = "+".join(r or "?" for r in reviewers) if any(reviewers) else None
        records: list[tuple[str, str, str | None, str, int]] = []
        for fid, (n, label) in in_a.items():
            if fid not in in_b:
                records.append((fid, label, reviewers[0], path_a.name, n))
            elif in_b[fid][1] == label:
                records.append((fid, label, joint, path_a.name, n))
        records += [(fid, label, reviewers[1], path_b.name, n) for fid, (n, label) in in_b.items() if fid not in in_a]
        batch = _batch_id(path_a, path_b)
        _store(con, settings, records, batch)
    return ImportResult(stored=len(records), skipped_blank=blank_a + blank_b, batch=batch), agreement


def label_counts(settings: Settings) -> dict[str, int]:
    """Stored reviewer labels per 5-point label."""
    with connect(settings, read_only=True) as con:
        return {r[0]: int(r[1]) for r in run_sql(con, settings, "queries/sentiment/count").fetchall()}


def organisation_examples(settings: Settings) -> list[Example]:
    """Stored labels as :class:`pipelines.sentiment.data.Example` rows (redacted text)."""
    with connect(settings, read_only=True) as con:
        rows = run_sql(con, settings, "queries/sentiment/training_set").fetchall()
    out = []
    for fid, question, text, label5 in rows:
        k = LABELS5.index(label5)
        out.append(
            Example(id=str(fid), question=question or "", text=text, label3=ROLLUP[k], label5=k, source="organisation")
        )
    return out
