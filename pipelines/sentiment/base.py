"""What every sentiment module shares: the labels, :class:`Sentiment`, the scorer interface.

A :class:`SentimentScorer` maps texts (and the question each answers) to one
:class:`Sentiment` each; tests swap the model-backed scorer for a fake. No heavy import here.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

LABELS5: tuple[str, ...] = ("very negative", "negative", "neutral", "positive", "very positive")
LABELS3: tuple[str, ...] = ("negative", "neutral", "positive")
# 5-point class index -> 3-class index, and the value each class contributes to ``score``.
ROLLUP: tuple[int, ...] = (0, 0, 1, 2, 2)
SCORE_WEIGHTS: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0)
DEFAULT_MIXED_THRESHOLD = 0.2


class SentimentModelError(RuntimeError):
    """A sentiment model is missing, unreadable or cannot be reached."""


@dataclass(frozen=True)
class Sentiment:
    """Sentiment of one comment (or clause).

    Attributes:
        label5: one of :data:`LABELS5`.
        label3: ``negative`` | ``neutral`` | ``positive`` (roll-up of ``label5``).
        score: expected value of the 5-class distribution with classes at
            -1, -0.5, 0, 0.5, 1; so it lies in [-1, 1].
        confidence: probability of ``label3`` (5-class probabilities summed per side);
            1.0 when the no-content rule decided.
        is_mixed: the comment holds clear praise and clear criticism: by default one of its
            clauses (:func:`~pipelines.sentiment.clauses.split_clauses`) is positive and another negative.
        is_informative: False for stock no-content answers ("nothing", "n/a", ...).
    """

    label5: str
    label3: str
    score: float
    confidence: float
    is_mixed: bool
    is_informative: bool


class SentimentScorer(ABC):
    """Scores texts, optionally with the question each text answers.

    Subclasses set :attr:`version`; it changes whenever the model (or the serving variant)
    changes, so the pipeline knows to re-score.
    """

    version: str = "unversioned"

    @abstractmethod
    def score(
        self,
        texts: Sequence[str],
        questions: Sequence[str | None] | None = None,
        progress: bool = False,
        ratings: Sequence[float | None] | None = None,
    ) -> list[Sentiment]:
        """Score ``texts`` (one :class:`Sentiment` each, same order).

        Args:
            texts: comment texts (redacted).
            questions: the question each text answers (``None``/empty when unknown);
                ``None`` means unknown for all.
            progress: show a progress bar on stderr while scoring.
            ratings: the respondent's own rating of the same response, normalised to 0..1
                (1 = best; ``raw.feedback.rating_value``), ``None`` where unrated. Context for
                a model trained with it; the label still describes the text. Scorers that do
                not use ratings ignore them.
        """


def label5_from_value(value: object) -> str:
    """Normalise a 5-point label given as a name, 1-5 or "1".."5".

    Raises:
        ValueError: if ``value`` is not a 5-point label.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a 5-point label: {value!r}")
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        if float(value).is_integer() and 1 <= int(value) <= 5:
            return LABELS5[int(value) - 1]
        raise ValueError(f"not a 5-point label: {value!r} (use 1-5 or {', '.join(LABELS5)})")
    text = " ".join(str(value).strip().lower().replace("_", " ").replace("-", " ").split())
    if text in LABELS5:
        return text
    if re.fullmatch(r"[1-5](\.0)?", text):
        return LABELS5[int(float(text)) - 1]
    raise ValueError(f"not a 5-point label: {value!r} (use 1-5 or {', '.join(LABELS5)})")


def label3_of(label5: str) -> str:
    """3-class roll-up of a 5-point label."""
    return LABELS3[ROLLUP[LABELS5.index(label5)]]


def side3(probs5: Sequence[float]) -> int:
    """Index in :data:`LABELS3` of the side holding most of a 5-class distribution."""
    side = [probs5[0] + probs5[1], probs5[2], probs5[3] + probs5[4]]
    return max(range(3), key=lambda k: side[k])


def sentiment_from_probs(
    probs5: Sequence[float], mixed_threshold: float = DEFAULT_MIXED_THRESHOLD, informative: bool = True
) -> Sentiment:
    """Turn a 5-class distribution into a :class:`Sentiment`.

    ``label3`` is the most probable side (5-class probabilities summed per side) and
    ``label5`` the most probable class on that side, so the two always agree. A comment
    is mixed when both the negative and the positive side hold at least
    ``mixed_threshold`` of the probability (threshold chosen on held-out data, see the
    model card).
    """
    p = [float(x) for x in probs5]
    total = sum(p) or 1.0
    p = [x / total for x in p]
    side = [p[0] + p[1], p[2], p[3] + p[4]]
    s3 = max(range(3), key=lambda i: side[i])
    members = [i for i in range(5) if ROLLUP[i] == s3]
    s5 = max(members, key=lambda i: p[i])
    score = sum(w * x for w, x in zip(SCORE_WEIGHTS, p, strict=True))
    return Sentiment(
        label5=LABELS5[s5],
        label3=LABELS3[s3],
        score=max(-1.0, min(1.0, score)),
        confidence=side[s3],
        is_mixed=min(side[0], side[2]) >= mixed_threshold,
        is_informative=informative,
    )
