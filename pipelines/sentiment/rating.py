"""The respondent's own rating: as a feature next to the text model, or as a segment of its input.

Two ways to use it (``rating_feature`` / ``rating_input`` in ``config.yaml``; MODEL_CARD.md
measures both). **As a feature** (:func:`apply_rating`): the model reads the text alone and the
rating band enters by naive Bayes, ``p(label | text) * P(band | label)``, with the likelihood table
counted on the rated training rows (:func:`rating_likelihoods`) and stored in the build's manifest.
**As input**: a rating reaches the model as words appended to the question segment of the sentence pair,
``"What could we improve? [rating: very good]"``, so one model reads FFT, NPS, HCAHPS and star
ratings alike: every scale is first normalised to 0..1 (1 = best, as ``raw.feedback.rating_value``
holds it) and then named by one of five bands. The label still describes the text; the rating is
context (a suggestion under a "very good" FFT rating stays negative). No rating means no segment,
and the model is trained with and without it (see ``rating_dropout`` in ``config.yaml``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# Lower bound of each band on the 0..1 scale, best first (FFT's five answers sit in the middle
# of theirs: 1.0, 0.75, 0.5, 0.25, 0.0; NPS 9-10 is "very good", 7-8 "good", 4-6 "neither").
RATING_BANDS: tuple[tuple[float, str], ...] = (
    (0.875, "very good"),
    (0.625, "good"),
    (0.375, "neither good nor poor"),
    (0.125, "poor"),
    (-math.inf, "very poor"),
)

# Training-data scales (datasheets of parts 4a/4b): raw rating -> 0..1, None when unscored.
_FFT_VALUES = {1: 1.0, 2: 0.75, 3: 0.5, 4: 0.25, 5: 0.0}  # 6 = "don't know": unscored


def rating_value(scale: str | None, rating: float | None) -> float | None:
    """Normalise a training-data rating (``fft`` 1-6, ``nps``/``hcahps`` 0-10, ``stars`` 1-5) to 0..1.

    Returns None for no rating, an unknown scale or FFT 6 ("don't know").
    """
    if rating is None or scale in (None, "", "none"):
        return None
    r = float(rating)
    if scale == "fft":
        return _FFT_VALUES.get(int(r))
    if scale in ("nps", "hcahps", "rating0_10"):
        return r / 10.0 if 0 <= r <= 10 else None
    if scale == "stars":
        return (r - 1) / 4.0 if 1 <= r <= 5 else None
    return None


def rating_words(value: float | None) -> str | None:
    """The band of a 0..1 rating ("very good" .. "very poor"); None for no rating."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = min(1.0, max(0.0, float(value)))
    return next(name for low, name in RATING_BANDS if v >= low)


def with_rating(question: str | None, value: float | None) -> str:
    """The first segment of the model input: the question, plus ``[rating: <band>]`` when rated."""
    q = question or ""
    words = rating_words(value)
    if words is None:
        return q
    return f"{q} [rating: {words}]".strip()


def keeps_rating(example_id: str, dropout: float, salt: str = "rating-dropout-v1") -> bool:
    """Whether a training example keeps its rating (deterministic by id; ``dropout`` share lose it)."""
    digest = hashlib.sha256(f"{salt}:{example_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 >= dropout


# --------------------------------------------------------------------------------------
# The rating as a feature: naive Bayes on top of the text model's probabilities
# --------------------------------------------------------------------------------------
def rating_band(value: float | None) -> int | None:
    """Index of a 0..1 rating's band in :data:`RATING_BANDS` (0 = very good); None for no rating."""
    words = rating_words(value)
    return None if words is None else [name for _, name in RATING_BANDS].index(words)


def rating_likelihoods(examples: Sequence[Any]) -> list[list[float]]:
    """P(rating band | 5-point label) from labelled examples with a rating (add-one smoothed).

    Rows are the 5 labels (very negative .. very positive), columns the bands of
    :data:`RATING_BANDS` (very good .. very poor). Examples need ``label5`` and ``rating``
    (0..1 or None); the others are skipped.
    """
    counts = [[1.0] * len(RATING_BANDS) for _ in range(5)]
    for e in examples:
        band = rating_band(e.rating)
        if band is not None and e.label5 is not None:
            counts[e.label5][band] += 1.0
    return [[round(c / sum(row), 6) for c in row] for row in counts]


def apply_rating(
    probs: np.ndarray, ratings: Sequence[float | None], likelihoods: Sequence[Sequence[float]]
) -> np.ndarray:
    """Posterior 5-class probabilities given the text and the rating (naive Bayes).

    ``p(label | text, rating) ~ p(label | text) * P(band | label)``: the text model's
    probabilities times the likelihood of the respondent's rating band under each label,
    renormalised. Rows without a rating are returned unchanged. A clear text (probability near
    1 on one side) keeps its side under any rating; the rating moves the texts the model is
    unsure about, which is how it breaks ties.
    """
    import numpy as np

    if len(ratings) != len(probs):
        raise ValueError(f"{len(probs)} probability rows but {len(ratings)} ratings")
    table = np.asarray(likelihoods, dtype=np.float64)
    out = np.array(probs, dtype=np.float64, copy=True)
    for i, value in enumerate(ratings):
        band = rating_band(value)
        if band is not None:
            row = out[i] * table[:, band]
            out[i] = row / row.sum()
    return out.astype(np.float32)
