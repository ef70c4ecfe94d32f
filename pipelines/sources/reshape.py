"""Rows prepared for mapping: placeholder answers blanked, long exports pivoted to one row per respondent.

Survey platforms write a placeholder where a question was skipped ("Did not answer", "N/A"): the
common ones (:data:`DEFAULT_PLACEHOLDERS`) and those a source adds in ``options.placeholders`` are
read as blank cells, so they are not loaded as comments or ratings (a response left with nothing
is then quarantined as empty, with its reason).

Some platforms export one row per answer::

    Response ID, Date, Site, Ward, Question,                   Answer
    R1,          ...,  ...,  ..., Overall experience,          Very good
    R1,          ...,  ...,  ..., What was good?,              Kind staff

:func:`pivot_long` turns that into one row per response with one column per question (the
question text is the column name), so the usual mapping, validation and quarantine apply and a
"row" is again a respondent. A source says its export is long with
``options: {long: {id: Response ID, question: Question, answer: Answer}}``.

:func:`prepare_rows` is the step a reader calls before mapping (a no-op for a source with
neither option); :func:`find_long_layout` recognises the layout for ``feedback source add``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.noncontent import EXPORT_PLACEHOLDERS
from pipelines.sources.types import SourceConfig, SourceError, SourceRows

_QUESTION = re.compile(r"\?|^q\d|\b(what|why|how|overall|please|comment|rate|rating|experience)\b", re.IGNORECASE)
_ID = re.compile(r"\b(id|ref|reference|respondent)\b|response ?(id|no|number)", re.IGNORECASE)
_ANSWER = re.compile(r"answer|response|value|text|comment|result", re.IGNORECASE)


@dataclass(frozen=True)
class LongLayout:
    """The columns of a long export: who answered, which question, the answer."""

    id_column: str
    question_column: str
    answer_column: str
    why: str = ""

    @classmethod
    def from_options(cls, value: Any, origin: str = "source") -> LongLayout:
        """From ``options.long`` of a source config.

        Raises:
            SourceError: unless it maps ``id``, ``question`` and ``answer`` to column names.
        """
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("id", "question", "answer")):
            raise SourceError(f"{origin}: options.long needs id, question and answer column names")
        return cls(value["id"], value["question"], value["answer"])

    def as_options(self) -> dict[str, str]:
        """The ``options.long`` mapping for a source YAML."""
        return {"id": self.id_column, "question": self.question_column, "answer": self.answer_column}


# What exports write for "no answer" whatever the source (shared with sentiment and themes).
DEFAULT_PLACEHOLDERS = EXPORT_PLACEHOLDERS


def prepare_rows(config: SourceConfig, rows: SourceRows) -> SourceRows:
    """``rows`` with placeholders blanked and, for a long export, pivoted.

    The placeholders are :data:`DEFAULT_PLACEHOLDERS` plus the source's ``options.placeholders``.
    """
    rows = blank_placeholders(rows, [*DEFAULT_PLACEHOLDERS, *(config.options.get("placeholders") or [])])
    if config.options.get("long"):
        rows = pivot_long(rows, LongLayout.from_options(config.options["long"], f"source {config.name}"))
    return rows


def blank_placeholders(rows: SourceRows, placeholders: list[str]) -> SourceRows:
    """Cells equal to a placeholder (ignoring case and surrounding spaces) become blank; counted in a note.

    ``raw_row`` of a quarantined row then shows the cell blank, as the mapping saw it; ``rows``
    itself is returned when no cell is a placeholder.
    """
    wanted = {str(v).strip().casefold() for v in placeholders}
    frame = rows.frame.copy()
    blanked: dict[str, int] = {}
    for column in [c for c in frame.columns if not str(c).startswith("_")]:
        text = frame[column].astype("string")
        hit = text.str.strip().str.casefold().isin(wanted).fillna(False)
        if hit.any():
            for value, count in text[hit].str.strip().value_counts().items():
                blanked[str(value)] = blanked.get(str(value), 0) + int(count)
            frame[column] = text.mask(hit)
    if not blanked:
        return rows
    notes = [
        *rows.notes,
        f"{rows.name}: {sum(blanked.values())} placeholder answer(s) ({', '.join(blanked)}) read as blank",
    ]
    return SourceRows(frame, list(rows.rejects), notes, rows.name)


def pivot_long(rows: SourceRows, layout: LongLayout) -> SourceRows:
    """One row per respondent: other columns from their first row, one column per question.

    A respondent's row number is that of their first answer. Rows without an id cannot be
    grouped: each stays a row of its own (and is quarantined for its missing id). A second
    answer to the same question is dropped and counted in a note.

    Raises:
        SourceError: when a layout column is not in the file.
    """
    frame = rows.frame.reset_index(drop=True)
    missing = [c for c in (layout.id_column, layout.question_column, layout.answer_column) if c not in frame]
    if missing:
        raise SourceError(f"{rows.name}: long layout column(s) {missing} not in the file; found {list(frame.columns)}")
    ids = frame[layout.id_column].astype("string").str.strip()
    key = ids.mask(ids.eq("")).fillna(pd.Series("\x00row" + frame.index.astype(str), index=frame.index))
    order = pd.unique(key)
    other = [c for c in frame.columns if c not in (layout.question_column, layout.answer_column, "_raw")]
    firsts = frame[other].groupby(key, sort=False).first().reindex(order)
    questions = frame[layout.question_column].astype("string").str.strip()
    answered = frame.assign(_key=key, _question=questions)[questions.notna() & questions.ne("")]
    repeats = int(answered.duplicated(["_key", "_question"]).sum())
    wide = answered.drop_duplicates(["_key", "_question"]).pivot(
        index="_key", columns="_question", values=layout.answer_column
    )
    wide = wide.reindex(order)[list(pd.unique(answered["_question"]))]
    clash = [q for q in wide.columns if q in firsts.columns]
    if clash:
        wide = wide.rename(columns={q: f"{q} (answer)" for q in clash})
    out = pd.concat([firsts, wide.astype("string")], axis=1).reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    out["_row_number"] = out["_row_number"].astype("int64")
    notes = [*rows.notes, f"{rows.name}: long layout: {len(frame)} answers -> {len(out)} responses"]
    if repeats:
        notes.append(f"{rows.name}: {repeats} repeated answer(s) to the same question dropped (the first is kept)")
    return SourceRows(out, list(rows.rejects), notes, rows.name)


def find_long_layout(frame: pd.DataFrame) -> LongLayout | None:
    """A question column, an answer column and an id repeated once per question, if the export is long."""
    if frame.empty:
        return None
    text = {c: frame[c].astype("string").str.strip().replace("", pd.NA) for c in frame.columns}
    for question in frame.columns:
        values = text[question].dropna()
        distinct = values.unique()
        if not (2 <= len(distinct) <= 60) or len(values) < 0.9 * len(frame) or len(distinct) > 0.2 * len(values):
            continue
        if sum(bool(_QUESTION.search(str(v))) for v in distinct) < 0.5 * len(distinct):
            continue
        ids = [
            c
            for c in frame.columns
            if c != question
            and text[c].notna().mean() >= 0.9
            and text[c].nunique() < 0.9 * text[c].notna().sum()
            and not pd.DataFrame({"i": text[c], "q": text[question]}).dropna().duplicated().mean() > 0.05
        ]
        answers = [c for c in frame.columns if c not in (question, *ids)]
        if not ids or not answers:
            continue
        id_column = max(
            ids, key=lambda c: (bool(_ID.search(c)), (~text[c].str.contains(" ", na=False)).mean(), text[c].nunique())
        )
        answer = max(answers, key=lambda c: (bool(_ANSWER.search(c)), text[c].nunique()))
        why = (
            f"one row per answer: {question!r} holds {len(distinct)} questions, {answer!r} the answers, "
            f"{id_column!r} repeats once per question ({len(frame)} rows, {text[id_column].nunique()} responses)"
        )
        return LongLayout(id_column, question, answer, why)
    return None
