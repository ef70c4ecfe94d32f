"""The no-content rule: which answers say nothing, and what their label is given the question.

An answer is *non-informative* (:func:`is_informative`) when it has no letters, is a
complaint-form or survey-platform placeholder ("see attached letter", "Did not answer",
"Not answered"), or is at most 8 words all from a stock
vocabulary of empty answers ("nothing", "none", "no", "n/a", "all good", "fine thanks",
"everything", "no comment", "can't think of anything", ...). Such answers carry no theme (the
pipeline keeps them out of clustering) and their label comes from the question
(:func:`noncontent_label`); MODEL_CARD.md says why the rule, not the model, labels them.
"""

from __future__ import annotations

import re

from pipelines.noncontent import is_placeholder_answer, normalise_answer

# How a question is framed (drives the no-content rule and nothing else).
QUESTION_KINDS: tuple[str, ...] = ("improve", "good", "other")

_IMPROVE_Q = re.compile(
    r"improv|better|chang|differently|wrong|worse|complain|concern|disappoint|not go well|didn'?t go well|"
    r"could we do|should we|\bfix|problem|dislike|\bbad\b|ideas to"
)
_GOOD_Q = re.compile(
    r"\bgood\b|went well|do well|did well|done well|like about|did you like|\bbest\b|enjoy|positive|pleased|"
    r"\bgreat\b|excellent|what worked|stood out"
)


def question_kind(question: str | None) -> str:
    """Classify a survey question: ``improve`` (asks for criticism), ``good`` (asks for praise) or ``other``."""
    q = (question or "").lower()
    if not q.strip():
        return "other"
    if _IMPROVE_Q.search(q):
        return "improve"
    if _GOOD_Q.search(q):
        return "good"
    return "other"


# A short answer (<= _MAX_STOCK_TOKENS words) made only of the words below says nothing
# specific: it is non-informative. Any other word (staff, wait, parking, rude, excellent,
# rubbish ...) makes it informative. The word families then decide the label with the
# question (noncontent_label). Measured against the datasheets' `informative` flags: see
# MODEL_CARD.md.
_MAX_STOCK_TOKENS = 8
# fmt: off
_W_NOTHING = {"nothing", "nothin", "none", "no", "nope", "nah", "nil", "nowt", "owt", "zilch", "nada", "not",
              "little"}
_W_EVERYTHING = {"everything", "everythin", "lot", "whole", "thing", "all", "above"}
_W_FINE = {"fine", "good", "great", "happy", "satisfied", "perfect", "issues", "problems", "complaints",
           "complain", "grumble", "mustnt", "keep", "carry", "ok", "okay", "alright", "average", "suppose", "guess",
           "meh", "so"}
_W_UNSURE = {"na", "nk", "applicable", "dunno", "know", "unsure", "sure", "idea", "clue", "opinion", "pass",
             "hmm", "previous", "said", "per", "yes", "yeah", "reason", "because", "felt", "idk", "x", "xx", "xxx",
             "test"}
_W_FILLER = {
    "really", "thanks", "thank", "you", "u", "ta", "love", "at", "the", "moment", "mo", "present", "this", "time",
    "point", "in", "for", "now", "right", "to", "me", "my", "from", "side", "add", "say", "mention", "report",
    "comment", "comments", "further", "more", "else", "other", "i", "can", "cant", "think", "of", "anything",
    "springs", "comes", "mind", "much", "tbh", "honest", "be", "honestly", "needs", "needed", "changing", "change",
    "improving", "improve", "improvements", "improvement", "necessary", "answer", "as", "before", "it", "was",
    "is", "its", "dont", "particular", "deal", "very", "pretty", "with", "suggestions", "suggestion", "whatsoever",
    "that", "thats", "which", "what", "put", "where", "start", "begin", "do", "id", "would", "could", "here",
    "there", "just", "well", "up", "on", "are", "doing", "literally", "about", "an", "and", "any", "we", "been",
    "has", "have", "like", "only", "stage", "couldnt", "hard", "one", "far", "needing", "everyone", "make",
    "ha", "haha", "lol", "tho", "though", "thankyou", "cheers", "please", "ive", "im", "again", "way", "a", "n",
    "k", "see", "same",
}
# fmt: on
_STOCK_WORDS = _W_NOTHING | _W_EVERYTHING | _W_FINE | _W_UNSURE | _W_FILLER
_EVALUATIVE = {"good", "great", "happy", "satisfied", "perfect", "fine", "ok", "okay", "alright"}
_LUKEWARM = {"average", "suppose", "guess", "meh", "alright"}
_THANKS = {"thanks", "thank", "thankyou", "cheers", "ta"}
_FINE_PHRASES = ("all ok", "more of the same", "thank you for everything", "thanks for everything")
_EVERYTHING_PHRASES = (
    "whole thing",
    "all of it",
    "the lot",
    "all of the above",
    "where do i start",
    "where to start",
    "where do i begin",
)
# fmt: off
NON_CONTENT_EXAMPLES: tuple[str, ...] = (
    "Nothing", "N/A", "-", "no", "none", "all good", "fine", "everything", "no comment", "can't think of anything",
    "nothing at this time, thanks", "not sure", "see attached letter", "Did not answer", "Not answered", "nil",
    "see above",
)
# fmt: on


def is_informative(text: str) -> bool:
    """Apply the no-content rule: False for empty, letter-less or stock answers.

    Non-informative: no letters ("-", "?", "..."), a complaint-form placeholder ("see
    attached letter", "please call me"), a survey platform's placeholder for an empty answer
    as the whole answer ("Did not answer", "Not answered", "No response", "see above"), or at
    most 8 words all from the stock vocabulary
    of no-content answers ("Nothing", "N/A", "no", "none", "all good", "fine thanks",
    "everything", "no comment", "can't think of anything", "not sure", "nothing at this
    time"). A negated verdict ("not good", "not happy") and any specific word ("Nothing,
    the nurse was rude", "excellent", "rubbish") make the answer informative.
    """
    if not re.search(r"[A-Za-z]", text or ""):
        return False
    a = normalise_answer(text)
    if is_placeholder_answer(text):
        return False
    tokens = a.split()
    if not tokens or len(tokens) > _MAX_STOCK_TOKENS:
        return True
    if any(t not in _STOCK_WORDS for t in tokens):
        return True
    # "not good", "no good", "not happy": a short verdict, not an empty answer.
    return any(t in ("not", "no", "never") and nxt in _EVALUATIVE for t, nxt in zip(tokens, tokens[1:], strict=False))


def noncontent_label(text: str, question: str | None) -> str:
    """5-point label of a non-informative answer from its word family and the question.

    =============================  ==============  ==============  ==========
    answer family (first match)    "improve" q.    "good" q.       other / none
    =============================  ==============  ==============  ==========
    unsure / n/a / placeholder     neutral         neutral         neutral
    "no comment" (declines)        neutral         neutral         neutral
    ok / average / "I suppose"     neutral         neutral         neutral
    everything + good/fine         positive        very positive   positive
    all good / fine / no issues    positive        positive        positive
    everything / the lot           negative        very positive   neutral
    nothing / none / no / not much positive        negative        neutral
    thanks only                    positive        positive        positive
    =============================  ==============  ==============  ==========
    """
    a = normalise_answer(text)
    kind = question_kind(question)
    tokens = a.split()
    words = set(tokens)
    if not tokens or is_placeholder_answer(text) or words & _W_UNSURE:
        return "neutral"
    # "no comment", "nil comments": declines to comment, under any question (CODING.md).
    if words & {"comment", "comments"} and not words & _W_FINE:
        return "neutral"
    if (
        words & _LUKEWARM
        or a in {"so so", "ok", "okay", "it was ok"}
        or (words & {"ok", "okay"} and "all" not in words)
    ):
        return "neutral"
    # "a great deal" is not praise ("not a great deal" = not much).
    fine = bool(set(a.replace("great deal", "").split()) & (_W_FINE - {"so"})) or any(p in a for p in _FINE_PHRASES)
    everything = bool(words & {"everything", "everythin"}) or any(p in a for p in _EVERYTHING_PHRASES)
    if everything and fine:
        return "very positive" if kind == "good" else "positive"
    if fine:
        return "positive"
    if everything:
        return {"improve": "negative", "good": "very positive"}.get(kind, "neutral")
    if words & _W_NOTHING or "cant think" in a or "couldnt think" in a:
        return {"improve": "positive", "good": "negative"}.get(kind, "neutral")
    if words & _THANKS:
        return "positive"
    return "neutral"
