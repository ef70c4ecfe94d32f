"""No-content clauses never make a theme: placeholders, non-answers, and themes of one repeated text.

Survey platforms write placeholders into empty answers ("Did not answer", "Not answered", "N/A",
"-"), and people answer "nothing", "none", "no comment", "see above". The comment-level rule of
the sentiment stage (``pipelines/sentiment/noncontent.py``) flags whole answers; a clause of an
informative comment ("Nothing. Thank you") still reaches the theme stage, so the theme stage
applies its own clause-level rule: the placeholders every stage shares
(:func:`pipelines.noncontent.is_placeholder_answer`), plus the non-answers below and the
vocabulary in ``models/themes/config.yaml`` (``noncontent``), whose defaults mirror the sentiment
stage's stock words. A fitted theme more than ``dominance.max_share`` of whose clauses are one
normalised text is refused (see :func:`dominated_themes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipelines.noncontent import is_placeholder_answer, normalise

__all__ = ["NonContent", "dominated_themes", "normalise"]

# Non-answers matched on the whole normalised clause, beyond the placeholders every stage shares
# (pipelines.noncontent.is_placeholder_answer: "did not answer", "no comment", "see above", ...).
DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "unanswered", "not specified", "none", "nil", "na", "n a", "not applicable", "nothing",
    "nothing to add", "nothing to say", "nothing else", "nothing further", "refused", "dont know",
    "do not know", "not sure", "unknown", "test", "xxx", "x",
)  # fmt: skip
# Words that say nothing on their own (the sentiment stage's stock vocabulary, abridged):
# a short clause made only of these is a non-answer ("nothing at all thank you", "no not really").
DEFAULT_STOCK_WORDS: tuple[str, ...] = (
    "nothing", "none", "no", "nope", "nah", "nil", "nowt", "not", "really", "thanks", "thank", "you",
    "thankyou", "cheers", "at", "all", "the", "moment", "this", "time", "for", "now", "to", "add", "say",
    "comment", "comments", "further", "more", "else", "other", "i", "can", "cant", "think", "of",
    "anything", "answer", "answered", "did", "didnt", "as", "above", "see", "same", "before", "na", "n",
    "a", "applicable", "that", "is", "it", "was", "in", "particular", "much", "just", "ok", "okay",
    "comes", "mind", "springs", "sure", "unsure", "dont", "know", "idea", "pass", "whatsoever",
)  # fmt: skip


class NonContent:
    """The clause-level no-content rule built from the ``noncontent`` config section."""

    def __init__(self, cfg: dict[str, Any] | None = None) -> None:
        ncfg = (cfg or {}).get("noncontent") or {}
        self.placeholders = frozenset(normalise(p) for p in (*DEFAULT_PLACEHOLDERS, *(ncfg.get("placeholders") or [])))
        self.stock = frozenset(w.lower() for w in (*DEFAULT_STOCK_WORDS, *(ncfg.get("stock_words") or [])))
        self.max_tokens = int(ncfg.get("max_tokens") or 8)

    def is_noncontent(self, text: str) -> bool:
        """True for an empty or letter-less clause, a placeholder, or a short clause of stock words only.

        "Did not answer", "N/A", "-", "none", "see above", "Nothing. Thank you" -> True;
        "nothing, the nurse was rude", "not good", "excellent" -> False.
        """
        if not re.search(r"[A-Za-z]", text or ""):
            return True
        norm = normalise(text)
        if norm in self.placeholders or is_placeholder_answer(text, clause=True):
            return True
        tokens = norm.split()
        # Any word outside the stock vocabulary ("good" in "not good", "rude") is content.
        return bool(tokens) and len(tokens) <= self.max_tokens and all(t in self.stock for t in tokens)

    def mask(self, texts: Sequence[str]) -> np.ndarray:
        """Boolean mask: True where the text has content."""
        return np.fromiter((not self.is_noncontent(t) for t in texts), dtype=bool, count=len(texts))


def dominated_themes(index: np.ndarray, keys: Sequence[str], weights: np.ndarray, max_share: float) -> dict[int, str]:
    """Themes more than ``max_share`` of whose clauses share one normalised text.

    Args:
        index: theme position per unique text (-1: none).
        keys: normalised text per unique text (several unique texts may share a key).
        weights: clauses per unique text (a text repeated 500 times weighs 500).
        max_share: the largest share one text may hold in a theme.

    Returns:
        Theme position -> the dominating normalised text.
    """
    out: dict[int, str] = {}
    keys_arr = np.asarray(keys, dtype=object)
    for j in sorted(set(index.tolist()) - {-1}):
        rows = np.flatnonzero(index == j)
        total = float(weights[rows].sum())
        if total <= 0 or len(rows) == 0:
            continue
        per_key: dict[str, float] = {}
        for k, w in zip(keys_arr[rows], weights[rows], strict=True):
            per_key[k] = per_key.get(k, 0.0) + float(w)
        key, top = max(per_key.items(), key=lambda kv: kv[1])
        # A theme of one distinct text repeated twice is not a 'theme of one repeated text'.
        if top / total > max_share and top >= 3:
            out[int(j)] = key
    return out
