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
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["phrase_label"]

_PIECES = re.compile(r"\s*(?:[,;:.!?()]+|\s-\s|\band then\b|\bbut\b)\s*", re.IGNORECASE)
_LEAD = {
    "and",
    "but",
    "so",
    "also",
    "just",
    "very",
    "really",
    "then",
    "because",
    "as",
    "oh",
    "well",
    "the",
    "a",
    "both",
    "all",
}
_TRAIL = {"and", "but", "so", "the", "a", "to", "of", "for", "with", "was", "were", "is", "i", "we", "my"}
_WORD = re.compile(r"[A-Za-z0-9&'\u00a3$][A-Za-z0-9&'.]*(?<!\.)")


def _clean(piece: str) -> str:
    words = _WORD.findall(piece)
    while words and words[0].lower() in _LEAD:
        words.pop(0)
    while words and words[-1].lower() in _TRAIL:
        words.pop()
    return " ".join(words)


# A redaction placeholder ("[NAME]", "[PHONE]"): _WORD drops its brackets, so it is looked for in
# the piece before cleaning ("We saw Staff Nurse NAME" is no label).
_REDACTED = re.compile(r"\[[A-Z_]+\]")


def _candidates(text: str, min_words: int, max_words: int) -> list[str]:
    out = []
    for piece in [text, *_PIECES.split(text or "")]:
        if _REDACTED.search(piece):
            continue
        phrase = _clean(piece)
        if min_words <= len(phrase.split()) <= max_words:
            out.append(phrase)
    return list(dict.fromkeys(out))


# An amount or a duration ("6 hours", "£4") is one patient's story, not the theme's name.
_NUMBER = re.compile(r"[\u00a3$]\s*\d|\b\d+\s*(?:hrs?|hours?|mins?|minutes?|days?|weeks?|months?|years?|times)\b", re.I)
_PRONOUN_LEAD = {"i", "we", "he", "she", "they", "it", "you", "me", "my", "our"}


def _stems(words: Sequence[str], stop: set[str]) -> set[str]:
    return {w[:5] for w in words if w not in stop and len(w) > 2}


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
    encode: Callable[[list[str]], np.ndarray] | None = None,
) -> str | None:
    """A 2-6 word label from the member clauses closest to ``centroid``, or None when none fits.

    Candidates are the pieces of the ``top`` most central member clauses. A candidate scores
    its closeness to the centroid (its own embedding when ``encode`` is given, else its clause's)
    plus how typical its content words are of the members (share of members sharing one), with
    small penalties for numbers ("6 hours" is one patient's story, not the theme), a leading
    pronoun and length beyond four words.

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
        encode: optional embedder of the candidate phrases (L2-normalised rows).
    """
    if len(texts) == 0:
        return None
    sims = embeddings @ centroid
    key_tokens = {w for k in keywords[:6] for w in k.lower().split()}
    member_stems = [_stems(_WORD.findall(t.lower()), stop) for t in texts]
    cands: list[tuple[str, float]] = []
    for i in np.argsort(-sims, kind="stable")[:top]:
        for phrase in _candidates(texts[int(i)], min_words, max_words):
            words = [w.lower() for w in phrase.split()]
            if not [w for w in words if w not in stop] or phrase.lower() in used:
                continue
            cands.append((phrase, float(sims[i])))
    cands = list(dict((p.lower(), (p, c)) for p, c in reversed(cands)).values())[::-1]
    if not cands:
        return None
    closeness = np.array([c for _, c in cands])
    if encode is not None:
        closeness = np.asarray(encode([p for p, _ in cands]), dtype=np.float32) @ centroid
    best: tuple[float, str] | None = None
    for (phrase, _), close in zip(cands, closeness, strict=True):
        words = [w.lower() for w in phrase.split()]
        stems = _stems(words, stop)
        typical = np.mean([bool(stems & m) for m in member_stems]) if stems else 0.0
        score = (
            float(close)
            + 0.3 * float(typical)
            + 0.03 * len(set(words) & key_tokens)
            - 0.02 * max(0, len(words) - 4)
            - 0.08 * bool(_NUMBER.search(phrase))
            - 0.04 * (words[0] in _PRONOUN_LEAD)
        )
        if best is None or score > best[0]:
            best = (score, phrase)
    assert best is not None
    label = best[1]
    return label[0].upper() + label[1:]
