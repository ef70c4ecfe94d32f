"""Sentiment stage: score comments and their clauses on the *redacted* text.

Incremental: a record is (re)scored only when its redacted text or the model version changed.
Names never influence a score, because scoring reads only what the privacy stage wrote. The
respondent's own rating of the same response (``raw.feedback.rating_value``) goes with each
comment as context; clauses are scored on their words alone.

Partitioned like redaction (:mod:`pipelines.partitions`): :func:`plan_scoring`,
:func:`score_partition` (anywhere, no warehouse), :func:`load_scores`; :func:`score_pending` does
all three.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from pipelines import partitions, warehouse
from pipelines.config import Settings
from pipelines.sentiment.base import Sentiment, SentimentScorer
from pipelines.sentiment.clauses import split_clauses

log = logging.getLogger(__name__)


STEP = "score"
WORK = "pipelines.sentiment.stage:score_partition"
# The scorer of this process, by the settings that choose it and when the served build last
# changed: planning loads it to learn its version, the partitions scored here reuse it.
_SCORER: dict[tuple[Any, ...], SentimentScorer] = {}


def scorer_for(settings: Settings) -> SentimentScorer:
    """The configured sentiment scorer (loaded once per process and served build)."""
    from pipelines.sentiment.scorer import load_scorer

    pointer = settings.sentiment_build_dir / "current"
    stamp = pointer.stat().st_mtime_ns if pointer.is_file() else 0
    build_dir = str(settings.sentiment_build_dir)
    key = (id(load_scorer), settings.sentiment_model, settings.sentiment_backend, build_dir, stamp)
    if key not in _SCORER:
        _SCORER.clear()
        _SCORER[key] = load_scorer(settings)
    return _SCORER[key]


def plan_scoring(
    settings: Settings, con: duckdb.DuckDBPyConnection, run_id: str, count: int
) -> tuple[list[partitions.Partition], str]:
    """Write the redacted comments to (re)score into ``count`` partitions (by feedback id).

    Returns:
        The partitions (none when nothing is pending) and the model version.
    """
    scorer = scorer_for(settings)
    pending = warehouse.run_sql(con, settings, "queries/sentiment/pending_sentiment", {"version": scorer.version}).df()
    parts = partitions.plan(settings, run_id, STEP, pending, "feedback_id", count, {"model_version": scorer.version})
    return parts, scorer.version


def score_partition(settings: Settings, part: partitions.Partition, progress: bool = False) -> None:
    """Score one partition's comments and their clauses and write its outputs (needs no warehouse).

    Raises:
        PartitionError: if the partition's input is gone.
        RuntimeError: if this worker's model differs from the planner's.
    """
    started = time.perf_counter()
    pending = partitions.read_input(settings, part)
    scorer = scorer_for(settings)
    if scorer.version != part.params["model_version"]:
        raise RuntimeError(
            f"{part.label}: this worker's sentiment model is {scorer.version}, the plan's "
            f"{part.params['model_version']} (deploy the same model build to every worker)"
        )
    texts = [t if isinstance(t, str) else "" for t in pending["text_redacted"].tolist()]
    # DuckDB hands back NULL questions as None or NaN depending on dtype: normalise to None.
    questions = [q if isinstance(q, str) else None for q in pending["question"].tolist()]
    ratings = [None if pd.isna(r) else float(r) for r in pending["rating_value"].tolist()]
    results = scorer.score(texts, questions, progress=progress, ratings=ratings)
    comments = _comment_frame(pending, results, scorer.version)
    aspects = _score_clauses(scorer, pending["feedback_id"].tolist(), texts, questions, results, progress)
    partitions.write_outputs(settings, part, {"sentiment": comments, "aspects": aspects}, time.perf_counter() - started)


def load_scores(
    settings: Settings, con: duckdb.DuckDBPyConnection, parts: list[partitions.Partition]
) -> dict[str, int]:
    """Upsert every partition's comment scores and replace their clauses, in one transaction.

    Idempotent: rows are keyed by feedback id (and clause index).

    Raises:
        PartitionError: if a partition did not finish (nothing is loaded).
    """
    if not parts:
        return {"scored": 0, "clauses": 0}
    comments = partitions.read_outputs(settings, parts, "sentiment")
    aspects = partitions.read_outputs(settings, parts, "aspects")
    if aspects.empty:
        aspects = _empty_aspects()
    with warehouse.registered(con, incoming_sentiment=comments, incoming_aspects=aspects), warehouse.transaction(con):
        warehouse.run_sql(con, settings, "queries/sentiment/upsert_sentiment")
        warehouse.run_sql(con, settings, "queries/sentiment/replace_aspects")
    return {"scored": len(comments), "clauses": len(aspects)}


def score_pending(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    progress: bool = False,
    run_id: str = "local",
    workers: int = 1,
) -> dict[str, Any]:
    """Score comments and their clauses whose redacted text or model version changed.

    Writes ``enrich.sentiment`` and replaces the re-scored comments' rows of ``enrich.aspects``
    in one transaction. With ``workers > 1`` the partitions are scored in that many processes.

    Returns:
        ``scored`` (comments), ``clauses``, ``model_version`` and, when anything was scored,
        ``partitions``.
    """
    parts, version = plan_scoring(settings, con, run_id, max(1, workers))
    if not parts:
        return {"scored": 0, "model_version": version}
    try:
        partitions.run(settings, parts, WORK, workers=workers, progress=progress)
        loaded = load_scores(settings, con, parts)
        summary = {**loaded, "model_version": version, "partitions": partitions.stats(parts)}
    finally:
        partitions.clear(settings, run_id, STEP)
    return summary


def _empty_aspects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feedback_id": pd.Series(dtype="object"),
            "clause_idx": pd.Series(dtype="int32"),
            "clause_text": pd.Series(dtype="object"),
            "label3": pd.Series(dtype="object"),
            "score": pd.Series(dtype="float64"),
            "model_version": pd.Series(dtype="object"),
        }
    )


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
