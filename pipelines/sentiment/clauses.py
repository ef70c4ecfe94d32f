"""Clauses (aspect units): a comment split at sentence ends and contrast words.

"staff were lovely but I waited five hours" holds two aspects with opposite polarity; the
sentiment stage scores each clause (what themes attach to) and the mixed flag asks whether one
clause is positive and another negative.
"""

from __future__ import annotations

import re

_ABBREV = re.compile(r"\b(dr|mr|mrs|ms|st|no|approx|etc|e\.g|i\.e|vs)\.$", re.IGNORECASE)
_SENT_END = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*")
# Contrast and concession turn the polarity; they start a new aspect clause.
_CONTRAST = re.compile(
    r"(?:,\s*|\s+)(?:but|however|although|though|whereas|except|yet|apart from|other than|"
    r"on the other hand|unfortunately|sadly|then again)\b[,\s]*",
    re.IGNORECASE,
)
_CONJUNCTION = re.compile(r"^(?:but|however|although|though|whereas|yet|then again)\b[,\s]*", re.IGNORECASE)
_MIN_WORDS = 2


def _strip_connector(piece: str) -> str:
    # Drop a leading conjunction; keep words that carry sentiment ("unfortunately").
    return _CONJUNCTION.sub("", piece.strip(" ,;:-")).strip(" ,;:-")


def _sentences(text: str) -> list[str]:
    # Split at sentence ends, but glue "Dr." (and other abbreviations) to what follows.
    sentences: list[str] = []
    for part in _SENT_END.split(text):
        part = part.strip()
        if not part:
            continue
        if sentences and _ABBREV.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


def _contrast_clauses(sentence: str) -> list[str]:
    # Spans of the sentence, each starting at a contrast connector; a span of fewer than
    # _MIN_WORDS words (after its connector) is merged into the one before it.
    cuts = [0] + [m.start() for m in _CONTRAST.finditer(sentence) if m.start() > 0] + [len(sentence)]
    spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if sentence[a:b].strip(" ,;:-")]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        short = len(_strip_connector(sentence[a:b]).split()) < _MIN_WORDS
        if merged and (short or len(_strip_connector(sentence[slice(*merged[-1])]).split()) < _MIN_WORDS):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [_strip_connector(sentence[a:b]) for a, b in merged]


def split_clauses(text: str) -> list[str]:
    """Split a comment into sentences and contrastive clauses for aspect sentiment.

    "staff were lovely but I waited five hours" -> ["staff were lovely", "I waited five hours"].
    Splits on sentence ends (not after "Dr." or inside "2.5") and on contrast words (but,
    however, although, unfortunately, ...); a fragment shorter than two words is merged
    back into its neighbour. Returns ``[text.strip()]`` when there is nothing to split and
    ``[]`` for an empty text; never returns empty strings.
    """
    stripped = (text or "").strip()
    if not stripped:
        return []
    clauses = [c.strip() for sentence in _sentences(stripped) for c in _contrast_clauses(sentence)]
    return [c for c in clauses if c] or [stripped]
