"""Labels a coder would write: a short phrase taken from the theme's own most central clauses.

Keyword pairs ("Ambulance, time") say what a theme mentions, not what patients said about it.
A coder names the issue and its direction ("Long wait for an ambulance", "Kind, reassuring
crew"); the closest thing in the data is a short clause near the theme's centroid. So the label
is the best 2-6 word piece of a member clause (clauses cut at commas and "and"), scored by
closeness to the centroid plus the theme's key words it contains, unique among the labels used.
Built offline from the clauses only, so no tokenizer can glue two words together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["phrase_label"]

_PIECES = re.compile(r"\s*(?:[,;:.!?()]+|\s-\s|\band then\b|\bbut\b)\s*", re.IGNORECASE)
_LEAD = {"and", "but", "so", "also", "just", "very", "really", "then", "because", "as", "oh", "well", "the", "a"}
_TRAIL = {"and", "but", "so", "the", "a", "to", "of", "for", "with", "was", "were", "is", "i", "we", "my"}
_WORD = re.compile(r"[A-Za-z&'][A-Za-z&']*")


def _clean(piece: str) -> str:
    words = _WORD.findall(piece)
    while words and words[0].lower() in _LEAD:
        words.pop(0)
    while words and words[-1].lower() in _TRAIL:
        words.pop()
    return " ".join(words)


def _candidates(text: str, min_words: int, max_words: int) -> list[str]:
    out = []
    for piece in [text, *_PIECES.split(text or "")]:
        phrase = _clean(piece)
        if min_words <= len(phrase.split()) <= max_words:
            out.append(phrase)
    return list(dict.fromkeys(out))


def phrase_label(
    texts: Sequence[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    keywords: Sequence[str],
    stop: set[str],
    used: set[str],
    top: int = 40,
    min_words: int = 2,
    max_words: int = 6,
) -> str | None:
    """A 2-6 word label from the member clauses closest to ``centroid``, or None when none fits.

    Args:
        texts: member clause texts.
        embeddings: their L2-normalised embeddings.
        centroid: the theme centroid.
        keywords: the theme's key words (a candidate that contains them scores higher).
        stop: stop words (a candidate needs a content word).
        used: lower-cased labels already taken (the label must differ).
        top: how many central clauses to consider.
        min_words: shortest label.
        max_words: longest label.
    """
    if len(texts) == 0:
        return None
    sims = embeddings @ centroid
    key_tokens = {w for k in keywords[:6] for w in k.lower().split()}
    best: tuple[float, str] | None = None
    for i in np.argsort(-sims, kind="stable")[:top]:
        for phrase in _candidates(texts[int(i)], min_words, max_words):
            words = [w.lower() for w in phrase.split()]
            content = [w for w in words if w not in stop]
            if not content or phrase.lower() in used or "[" in phrase:
                continue
            score = float(sims[i]) + 0.04 * len(set(words) & key_tokens) - 0.02 * max(0, len(words) - 4)
            if best is None or score > best[0]:
                best = (score, phrase)
    if best is None:
        return None
    label = best[1]
    return label[0].upper() + label[1:]
