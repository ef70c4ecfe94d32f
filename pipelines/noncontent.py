"""What exports and patients write when there is no comment: one vocabulary for every stage.

Three stages need it, each at its own grain, and all three read it from here:

- **ingest** (``pipelines/sources/reshape.py``) blanks any *cell* equal to one of
  :data:`EXPORT_PLACEHOLDERS` (plus a source's ``options.placeholders``): what survey platforms
  write into a skipped question, in any column (a rating of "N/A" is no rating). The list is
  short and exact on purpose: a site called "Unknown" or a complaint status "Declined" is data.
- **sentiment** (``pipelines/sentiment/noncontent.py``) treats a whole *answer* that
  :func:`is_placeholder_answer` as non-informative: not scored by the model, labelled by the
  question, never a comment in the KPIs.
- **themes** (``pipelines/themes/noncontent.py``) keeps every *clause* that
  :func:`is_placeholder_answer` out of fitting and assignment, with its stock non-answers
  ("nothing", "none", "see above") and the ``noncontent`` list of ``models/themes/config.yaml``.

A placeholder is always the whole answer, never a prefix: "No response from the ward for 3
hours" is a comment.
"""

from __future__ import annotations

import re

__all__ = ["EXPORT_PLACEHOLDERS", "is_placeholder_answer", "normalise", "normalise_answer"]

# What exports write for "no answer" whatever the source; "Nothing" is an answer and is not here.
EXPORT_PLACEHOLDERS: tuple[str, ...] = ("N/A", "-", "--", "#N/A", "NULL", "Did not answer", "Not answered")

# Complaint forms and letters: the content is elsewhere ("see attached letter", "please call me").
_ELSEWHERE = re.compile(
    r"^(see (the )?(attached|email|letter|previous|above|my previous|earlier)|as (discussed|per|above|before|i said)|"
    r"details (are )?in|please (call|ring|phone|contact) me|i would prefer to (explain|discuss)|"
    r"same as (above|before)|as previously)"
)
# What survey platforms and exports write into an empty answer (matched on the whole answer).
_PLATFORM = re.compile(
    r"(did not|didnt|chose not to|declined to|prefer not to) (answer|respond|comment|say)( (this|the))?( question)?|"
    r"declined|not (answered|given|stated|provided|completed|recorded|known)|"
    r"no (answer|response|reply|text|data|entry)( given| provided| recorded)?|"
    r"(question |answer )?(skipped|left blank|blank)|none (given|provided|stated|recorded)|"
    r"(no|nil) (further |other )?comments?( given| made| to make)?( at this (time|stage))?|"
    r"see (my |the )?(other |previous |earlier )?(comments?|answers?)( (above|below))?|see below"
)
_EXPORT = frozenset(p.lower() for p in EXPORT_PLACEHOLDERS)
_REFERRAL_WORDS = 4  # "see attached letter", "please call me", "as discussed"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, every other run of non-alphanumerics one space."""
    t = (text or "").lower().replace("\u2019", "").replace("'", "")
    return " ".join(_NON_ALNUM.sub(" ", t).split())


def is_placeholder_answer(text: str | None, clause: bool = False) -> bool:
    """True when the whole answer is a placeholder: an export's marker, a platform's or a form's.

    "Did not answer", "N/A", "Not answered.", "No response given", "Question skipped",
    "See attached letter", "no further comments" -> True; "No response from the ward for 3 hours",
    "nothing", "excellent" -> False ("nothing" is a non-answer the stages judge themselves).

    A form's referral ("see attached letter", "as discussed") counts at the start of a whole
    answer (the content is elsewhere); for a ``clause`` of a comment only when it is the clause,
    at most :data:`_REFERRAL_WORDS` words ("As I said the staff were rude" is content).
    """
    raw = (text or "").strip()
    if raw.lower() in _EXPORT:
        return True
    answer = normalise_answer(raw)
    if not answer or _PLATFORM.fullmatch(answer):
        return bool(answer)
    return _ELSEWHERE.match(answer) is not None and (not clause or len(answer.split()) <= _REFERRAL_WORDS)


def normalise_answer(text: str) -> str:
    """:func:`normalise`, with "n/a" and "n/k" read as the word "na" first (the sentiment rule's form)."""
    t = (text or "").lower().replace("\u2019", "'").replace("'", "")
    t = re.sub(r"\bn/?[ak]\b", " na ", t)
    t = re.sub(r"[^a-z0-9 ]+", " ", t)
    return " ".join(t.split())
