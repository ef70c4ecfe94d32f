"""Sentiment stage: score comments and their clauses on the *redacted* text.

Incremental: a record is (re)scored only when its redacted text or the model version changed.
Names never influence a score, because scoring reads only what the privacy stage wrote. The
respondent's own rating of the same response (``raw.feedback.rating_value``) goes with each
comment as context; clauses are scored on their words alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.sentiment.base import Sentiment, SentimentScorer
from pipelines.sentiment.clauses import split_clauses

log = logging.getLogger(__name__)


def score_pending(settings: Settings, con: duckdb.DuckDBPyConnection, progress: bool = False) -> dict[str, Any]:
    """Score comments and their clauses whose redacted text or model version changed.

    Writes ``enrich.sentiment`` and replaces the re-scored comments' rows of ``enrich.aspects``
    in one transaction.

    Returns:
        ``scored`` (comments), ``clauses`` and ``model_version``.
    """
    from pipelines.sentiment.scorer import load_scorer

    scorer = load_scorer(settings)
    pending = warehouse.run_sql(con, settings, "queries/sentiment/pending_sentiment", {"version": scorer.version}).df()
    if pending.empty:
        return {"scored": 0, "model_version": scorer.version}
    texts = [t if isinstance(t, str) else "" for t in pending["text_redacted"].tolist()]
    # DuckDB hands back NULL questions as None or NaN depending on dtype: normalise to None.
    questions = [q if isinstance(q, str) else None for q in pending["question"].tolist()]
    ratings = [None if pd.isna(r) else float(r) for r in pending["rating_value"].tolist()]
    results = scorer.score(texts, questions, progress=progress, ratings=ratings)
    comments = _comment_frame(pending, results, scorer.version)
    aspects = _score_clauses(scorer, pending["feedback_id"].tolist(), texts, questions, results, progress)
    with warehouse.registered(con, incoming_sentiment=comments, incoming_aspects=aspects), warehouse.transaction(con):
        warehouse.run_sql(con, settings, "queries/sentiment/upsert_sentiment")
        warehouse.run_sql(con, settings, "queries/sentiment/replace_aspects")
    return {"scored": len(comments), "clauses": len(aspects), "model_version": scorer.version}


def _comment_frame(pending: pd.DataFrame, results: Sequence[Sentiment], version: str) -> pd.DataFrame:
    # Rows of enrich.sentiment, in the column order of queries/sentiment/upsert_sentiment.
    return pd.DataFrame(
        {
            "feedback_id": pending["feedback_id"],
            "record_hash": pending["record_hash"],
            "is_informative": [r.is_informative for r in results],
            "label5": [r.label5 for r in results],
            "label3": [r.label3 for r in results],
            "score": [r.score for r in results],
            "confidence": [r.confidence for r in results],
            "is_mixed": [r.is_mixed for r in results],
            "model_version": version,
            "scored_at": datetime.now(UTC),
        }
    )


def _score_clauses(
    scorer: SentimentScorer,
    feedback_ids: Sequence[str],
    texts: Sequence[str],
    questions: Sequence[str | None],
    results: Sequence[Sentiment],
    progress: bool,
) -> pd.DataFrame:
    # Clause-level (aspect) sentiment for informative comments: what themes attach to.
    # A comment that is a single clause reuses its own score instead of being scored twice.
    rows: list[tuple[str, int, str, str | None]] = []
    reuse: dict[int, Sentiment] = {}
    for fid, text, question, res in zip(feedback_ids, texts, questions, results, strict=True):
        if not res.is_informative:
            continue
        parts = split_clauses(text)
        for idx, clause in enumerate(parts):
            if len(parts) == 1 and clause == text:
                reuse[len(rows)] = res
            rows.append((fid, idx, clause, question))
    todo = [i for i in range(len(rows)) if i not in reuse]
    scored = scorer.score([rows[i][2] for i in todo], [rows[i][3] for i in todo], progress=progress)
    by_row = dict(zip(todo, scored, strict=True)) | reuse
    clause_scores = [by_row[i] for i in range(len(rows))]
    clauses = pd.DataFrame(rows, columns=["feedback_id", "clause_idx", "clause_text", "question"])
    return pd.DataFrame(
        {
            "feedback_id": clauses["feedback_id"],
            "clause_idx": clauses["clause_idx"].astype("int32"),
            "clause_text": clauses["clause_text"],
            "label3": [r.label3 for r in clause_scores],
            "score": [r.score for r in clause_scores],
            "model_version": scorer.version,
        }
    )
