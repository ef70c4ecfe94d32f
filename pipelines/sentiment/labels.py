"""Reviewer labels for sentiment: active-learning export, validated import, training set.

* :func:`export_uncertain` picks the comments the current model is least sure about
  (highest entropy of its 5-class distribution, from a pool of the least confident scored
  comments) and writes them as CSV **and** XLSX with ``feedback_id, question, text,
  predicted_label`` and an empty ``label`` column. Only PHI-redacted text is exported.
* :func:`import_labels` reads such a file back (CSV or XLSX), validates every row (label
  is one of the five names or 1-5; feedback id known; no conflicting duplicates) and
  stores the labels in ``enrich.sentiment_labels``. Any bad row rejects the whole file
  with the row numbers (spreadsheet numbering: the header is row 1). Rows left blank are
  skipped: reviewers need not label everything.
* :func:`organisation_examples` returns the stored labels as training examples.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Sequence
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


def export_uncertain(
    settings: Settings,
    scorer: SentimentScorer,
    n: int,
    out: Path,
    pool_factor: int = 10,
    guard: exports.ExportGuard | None = None,
) -> tuple[Path, Path, int]:
    """Write the ``n`` comments the model is least sure about to ``out`` (.csv and .xlsx).

    ``guard`` (the final privacy scan, ``pipelines.privacy.scan``) looks at both files first and
    raises ``exports.ExportBlocked`` instead of writing one that holds an identifier.

    Returns:
        (csv path, xlsx path, rows written).
    """
    with connect(settings, read_only=True) as con:
        rows = run_sql(
            con, settings, "queries/sentiment/uncertain_candidates", {"pool": max(n * pool_factor, n)}
        ).fetchall()
    rows = [r for r in rows if r[2] and r[2].strip()]
    if not rows:
        raise LabelImportError(
            "no scored, unlabelled comments in the warehouse: run the pipeline (sentiment stage) first"
        )
    texts = [r[2] for r in rows]
    questions = [r[1] for r in rows]
    probabilities = getattr(scorer, "probabilities", None)
    if probabilities is not None:
        chosen = rank_uncertain(probabilities(texts, questions), n)
        predicted = [s.label5 for s in scorer.score([texts[i] for i in chosen], [questions[i] for i in chosen])]
    else:  # a scorer without probabilities: least confident first (the SQL order)
        chosen = list(range(min(n, len(rows))))
        predicted = [rows[i][3] for i in chosen]
    records = [
        {"feedback_id": rows[i][0], "question": questions[i], "text": texts[i], "predicted_label": p, "label": ""}
        for i, p in zip(chosen, predicted, strict=True)
    ]
    csv_path, xlsx_path = _out_paths(out)
    write_csv(csv_path, records, guard)
    write_xlsx(xlsx_path, records, guard)
    return csv_path, xlsx_path, len(records)


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


def import_labels(settings: Settings, path: Path, reviewer: str | None = None) -> ImportResult:
    """Validate and store a reviewed label file; all-or-nothing.

    Raises:
        LabelImportError: listing every bad row with its row number; nothing is stored.
    """
    import pandas as pd

    rows = read_label_file(path)
    ids = sorted({str(r.get("feedback_id", "") or "").strip() for _, r in rows} - {""})
    with connect(settings) as con:
        apply_schema(con, settings)
        found = run_sql(con, settings, "queries/sentiment/known_ids", {"ids": ids}).fetchall() if ids else []
        known = {r[0] for r in found}
        valid, blank, problems = validate_rows(rows, known)
        if problems:
            shown = "\n  ".join(problems[:50])
            more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
            raise LabelImportError(
                f"{path}: {len(problems)} bad row(s), nothing stored:\n  {shown}{more}\n"
                f"Fix them (labels: {', '.join(LABELS5)} or 1-5) and import again."
            )
        now = datetime.now(UTC)
        batch = "labels-" + hashlib.sha256(f"{path.resolve()}:{now.isoformat()}".encode()).hexdigest()[:12]
        frame = pd.DataFrame(
            {
                "feedback_id": [v[1] for v in valid],
                "label5": [v[2] for v in valid],
                "reviewer": [reviewer] * len(valid),
                "source_file": [path.name] * len(valid),
                "source_row": [v[0] for v in valid],
                "import_batch": [batch] * len(valid),
                "labelled_at": [now] * len(valid),
            }
        )
        if len(frame):
            with registered(con, incoming_labels=frame):
                run_sql(con, settings, "queries/sentiment/upsert")
    return ImportResult(stored=len(valid), skipped_blank=blank, batch=batch)


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
