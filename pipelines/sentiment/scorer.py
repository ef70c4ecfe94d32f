"""Question-aware sentiment for patient feedback: 5-point label, mixed flag, clauses.

The shipped default is all-MiniLM-L6-v2 fine-tuned as a **sentence-pair classifier on
(question, answer)**: "Nothing" answering "What could we improve?" is praise, answering
"What was good?" it is criticism. ``make models`` builds it from ``models/sentiment/``
(see its MODEL_CARD.md) into ``models/sentiment/build/<version>/``; the file
``build/current`` names the version :func:`load_scorer` serves (``feedback train sentiment``
moves it to an organisation-tuned version, ``build/default`` keeps the shipped one).

Backends (``FEEDBACK_SENTIMENT_BACKEND``): ``onnx`` serves the build with ONNX Runtime,
int8 when the build accepted it (3-class agreement with fp32 >= 97% on held-out data) and
fp32 otherwise; ``onnx-fp32``; ``torch``. ONNX serving needs neither torch nor
transformers. ``FEEDBACK_SENTIMENT_MODEL`` may instead name any local Hugging Face
sequence-classification directory or, on a machine that is online, a hub id.

No-content rule (:func:`is_informative`): an answer is *non-informative* when it has no
letters, is a complaint-form placeholder ("see attached letter"), or is at most 8 words all
from a stock vocabulary of empty answers ("nothing", "none", "no", "n/a", "all good",
"fine thanks", "everything", "no comment", "can't think of anything", ...). Such
answers carry no theme (the pipeline keeps them out of clustering) and their label comes
from the question: see :func:`noncontent_label` and MODEL_CARD.md for why the rule, not
the model, labels them.

Heavy libraries (numpy, onnxruntime, tokenizers, torch, transformers) load lazily inside
the backends, never at import.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

LABELS5: tuple[str, ...] = ("very negative", "negative", "neutral", "positive", "very positive")
LABELS3: tuple[str, ...] = ("negative", "neutral", "positive")
# 5-point class index -> 3-class index, and the value each class contributes to ``score``.
ROLLUP: tuple[int, ...] = (0, 0, 1, 2, 2)
SCORE_WEIGHTS: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0)
# How a question is framed (drives the no-content rule and nothing else).
QUESTION_KINDS: tuple[str, ...] = ("improve", "good", "other")

DEFAULT_MIXED_THRESHOLD = 0.2
ONNX_THREADS = 2
# Bumped whenever the rules around the model change (no-content rule, clauses, mixed flag):
# part of every scorer version, so the pipeline re-scores when they change.
RULES_VERSION = "r2"


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
            clauses (:func:`split_clauses`) is positive and another negative.
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
    ) -> list[Sentiment]:
        """Score ``texts`` (one :class:`Sentiment` each, same order).

        Args:
            texts: comment texts (redacted).
            questions: the question each text answers (``None``/empty when unknown);
                ``None`` means unknown for all.
            progress: print a progress line to stderr while scoring.
        """


# --------------------------------------------------------------------------------------
# Label helpers
# --------------------------------------------------------------------------------------
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


_IMPROVE_Q = re.compile(
    r"improv|better|chang|differently|wrong|worse|complain|concern|disappoint|not go well|didn'?t go well|"
    r"could we do|should we|\bfix|problem|dislike|\bbad\b|ideas to"
)
_GOOD_Q = re.compile(
    r"\bgood\b|went well|do well|did well|done well|like about|did you like|\bbest\b|enjoy|positive|pleased|"
    r"\bgreat\b|excellent|what worked|stood out"
)


# --------------------------------------------------------------------------------------
# No-content rule
# --------------------------------------------------------------------------------------
# A short answer (<= _MAX_STOCK_TOKENS words) made only of the words below says nothing
# specific: it is non-informative. Any other word (staff, wait, parking, rude, excellent,
# rubbish ...) makes it informative. The word families then decide the label with the
# question (noncontent_label). Measured against the datasheets' `informative` flags: see
# MODEL_CARD.md.
_MAX_STOCK_TOKENS = 8
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
_STOCK_WORDS = _W_NOTHING | _W_EVERYTHING | _W_FINE | _W_UNSURE | _W_FILLER
_EVALUATIVE = {"good", "great", "happy", "satisfied", "perfect", "fine", "ok", "okay", "alright"}
# Placeholders on complaint forms: the content is elsewhere.
_PLACEHOLDER = re.compile(
    r"^(see (the )?(attached|email|letter|previous|above|my previous|earlier)|as (discussed|per|above|before|i said)|"
    r"details (are )?in|please (call|ring|phone|contact) me|i would prefer to (explain|discuss)|"
    r"same as (above|before)|as previously)"
)
NON_CONTENT_EXAMPLES: tuple[str, ...] = (
    "Nothing", "N/A", "-", "no", "none", "all good", "fine", "everything", "no comment", "can't think of anything",
    "nothing at this time, thanks", "not sure", "see attached letter",
)


def _normalise_answer(text: str) -> str:
    t = (text or "").lower().replace("\u2019", "'").replace("'", "")
    t = re.sub(r"\bn/?[ak]\b", " na ", t)
    t = re.sub(r"[^a-z0-9 ]+", " ", t)
    return " ".join(t.split())


def is_informative(text: str) -> bool:
    """Apply the no-content rule: False for empty, letter-less or stock answers.

    Non-informative: no letters ("-", "?", "..."), a complaint-form placeholder ("see
    attached letter", "please call me"), or at most 8 words all from the stock vocabulary
    of no-content answers ("Nothing", "N/A", "no", "none", "all good", "fine thanks",
    "everything", "no comment", "can't think of anything", "not sure", "nothing at this
    time"). A negated verdict ("not good", "not happy") and any specific word ("Nothing,
    the nurse was rude", "excellent", "rubbish") make the answer informative.
    """
    if not re.search(r"[A-Za-z]", text or ""):
        return False
    a = _normalise_answer(text)
    if _PLACEHOLDER.match(a):
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
    ok / average / "I suppose"     neutral         neutral         neutral
    everything + good/fine         positive        very positive   positive
    all good / fine / no issues    positive        positive        positive
    everything / the lot           negative        very positive   neutral
    nothing / none / no / not much positive        negative        neutral
    thanks only                    positive        positive        positive
    =============================  ==============  ==============  ==========
    """
    a = _normalise_answer(text)
    kind = question_kind(question)
    tokens = a.split()
    words = set(tokens)
    if not tokens or _PLACEHOLDER.match(a) or words & _W_UNSURE:
        return "neutral"
    if words & {"average", "suppose", "guess", "meh", "alright"} or a in {"so so", "ok", "okay", "it was ok"} or (
        words & {"ok", "okay"} and "all" not in words
    ):
        return "neutral"
    a_clean = a.replace("great deal", "")
    fine = bool(set(a_clean.split()) & (_W_FINE - {"so"})) or any(
        p in a for p in ("all ok", "more of the same", "thank you for everything", "thanks for everything"))
    everything = bool(words & {"everything", "everythin"}) or any(
        p in a
        for p in ("whole thing", "all of it", "the lot", "all of the above", "where do i start", "where to start",
                  "where do i begin")
    )
    if everything and fine:
        return "very positive" if kind == "good" else "positive"
    if fine:
        return "positive"
    if everything:
        return {"improve": "negative", "good": "very positive"}.get(kind, "neutral")
    if words & _W_NOTHING or "cant think" in a or "couldnt think" in a:
        return {"improve": "positive", "good": "negative"}.get(kind, "neutral")
    if words & {"thanks", "thank", "thankyou", "cheers", "ta"}:
        return "positive"
    return "neutral"


# --------------------------------------------------------------------------------------
# Clauses (aspect units)
# --------------------------------------------------------------------------------------
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
    sentences: list[str] = []
    for part in _SENT_END.split(stripped):
        part = part.strip()
        if not part:
            continue
        if sentences and _ABBREV.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    clauses: list[str] = []
    for sentence in sentences:
        # Spans of the original sentence: each starts at a contrast connector.
        cuts = [0] + [m.start() for m in _CONTRAST.finditer(sentence) if m.start() > 0] + [len(sentence)]
        spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if sentence[a:b].strip(" ,;:-")]
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            short = len(_strip_connector(sentence[a:b]).split()) < _MIN_WORDS
            if merged and (short or len(_strip_connector(sentence[slice(*merged[-1])]).split()) < _MIN_WORDS):
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        clauses.extend(_strip_connector(sentence[a:b]) for a, b in merged)
    clauses = [c for c in (c.strip() for c in clauses) if c]
    return clauses or [stripped]


# --------------------------------------------------------------------------------------
# From probabilities to a Sentiment
# --------------------------------------------------------------------------------------
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


def sentiment_from_rule(text: str, question: str | None) -> Sentiment:
    """Sentiment of a non-informative answer by the no-content rule."""
    label5 = noncontent_label(text, question)
    return Sentiment(
        label5=label5,
        label3=label3_of(label5),
        score=SCORE_WEIGHTS[LABELS5.index(label5)],
        confidence=1.0,
        is_mixed=False,
        is_informative=False,
    )


# --------------------------------------------------------------------------------------
# Batched model scorer
# --------------------------------------------------------------------------------------
Predictor = Callable[[list[str], list[str] | None], "np.ndarray"]


class ModelSentimentScorer(SentimentScorer):
    """A scorer around any function mapping (texts, questions) to 5-class probabilities.

    Non-informative answers are labelled by the no-content rule (``noncontent="rule"``)
    or by the model (``"model"``); either way ``is_informative`` is False for them.
    """

    def __init__(
        self,
        predict: Predictor,
        version: str,
        *,
        mixed_threshold: float = DEFAULT_MIXED_THRESHOLD,
        noncontent: str = "rule",
        pair_input: bool = True,
        mixed_rule: str = "clauses",
    ) -> None:
        if noncontent not in ("rule", "model"):
            raise ValueError("noncontent must be 'rule' or 'model'")
        if mixed_rule not in ("clauses", "probability"):
            raise ValueError("mixed_rule must be 'clauses' or 'probability'")
        self._predict = predict
        self.version = version
        self.mixed_threshold = mixed_threshold
        self.noncontent = noncontent
        self.pair_input = pair_input
        self.mixed_rule = mixed_rule

    def probabilities(self, texts: Sequence[str], questions: Sequence[str | None] | None = None) -> np.ndarray:
        """Raw 5-class probabilities (n x 5), model only (no rule)."""
        qs = _questions(texts, questions) if self.pair_input else None
        return self._predict([t or "" for t in texts], qs)

    def score(
        self,
        texts: Sequence[str],
        questions: Sequence[str | None] | None = None,
        progress: bool = False,
    ) -> list[Sentiment]:
        """Score ``texts``; see :class:`SentimentScorer`."""
        texts = [t or "" for t in texts]
        qs = _questions(texts, questions)
        informative = [is_informative(t) for t in texts]
        out: list[Sentiment | None] = [None] * len(texts)
        todo = [i for i, inf in enumerate(informative) if inf or self.noncontent == "model"]
        for i, inf in enumerate(informative):
            if not inf and self.noncontent == "rule":
                out[i] = sentiment_from_rule(texts[i], qs[i])
        if not todo:
            return [s for s in out if s is not None]
        # Mixed by clauses: comments with several clauses also have each clause scored, in
        # the same length-sorted batches; mixed = one clause positive and another negative.
        extra_texts: list[str] = []
        extra_owner: list[int] = []
        if self.mixed_rule == "clauses":
            for i in todo:
                if informative[i]:
                    clauses = split_clauses(texts[i])
                    if len(clauses) > 1:
                        extra_texts.extend(clauses)
                        extra_owner.extend([i] * len(clauses))
        all_texts = [texts[i] for i in todo] + extra_texts
        all_qs = [qs[i] for i in todo] + [qs[i] for i in extra_owner]
        probs = _chunked(self._predict, all_texts, all_qs if self.pair_input else None, progress)
        sides: dict[int, set[int]] = {}
        for row, i in zip(probs[len(todo) :], extra_owner, strict=True):
            sides.setdefault(i, set()).add(_side(row))
        for row, i in zip(probs[: len(todo)], todo, strict=True):
            s = sentiment_from_probs(row, self.mixed_threshold, informative[i])
            if self.mixed_rule == "clauses":
                s = replace(s, is_mixed={0, 2} <= sides.get(i, set()))
            out[i] = s
        return [s for s in out if s is not None]


def _side(row: Sequence[float]) -> int:
    side = [row[0] + row[1], row[2], row[3] + row[4]]
    return max(range(3), key=lambda k: side[k])


def _questions(texts: Sequence[str], questions: Sequence[str | None] | None) -> list[str]:
    if questions is None:
        return [""] * len(texts)
    if len(questions) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(questions)} questions")
    return [q or "" for q in questions]


def _chunked(predict: Predictor, texts: list[str], questions: list[str] | None, progress: bool) -> np.ndarray:
    import sys

    import numpy as np

    step = 2048
    parts = []
    for start in range(0, len(texts), step):
        qs = questions[start : start + step] if questions is not None else None
        parts.append(predict(texts[start : start + step], qs))
        if progress:
            print(f"sentiment: {min(start + step, len(texts))}/{len(texts)}", file=sys.stderr)
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------------------
# Tokenisation and batching shared by training and serving
# --------------------------------------------------------------------------------------
def load_tokenizer(tokenizer_json: Path | str, max_len: int) -> Any:
    """Fast tokenizer from ``tokenizer.json`` with truncation and no fixed padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.enable_truncation(max_length=max_len, strategy="longest_first")
    return tok


def encode(tok: Any, texts: Sequence[str], questions: Sequence[str] | None) -> list[Any]:
    """Encode (question, text) pairs, or texts alone when ``questions`` is None."""
    if questions is None:
        return tok.encode_batch(list(texts))
    return tok.encode_batch(list(zip(questions, texts, strict=True)))


def length_batches(lengths: Sequence[int], max_batch: int = 64, max_tokens: int = 4096) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted), bounded by size and padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = max(lengths[i], max((lengths[j] for j in cur), default=0))
        if cur and (len(cur) >= max_batch or longest * (len(cur) + 1) > max_tokens):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


def pad_batch(encodings: Sequence[Any]) -> dict[str, np.ndarray]:
    """Pad a batch to its own longest sequence (int64 arrays for ONNX/torch)."""
    import numpy as np

    width = max(len(e.ids) for e in encodings)
    n = len(encodings)
    ids = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    for r, e in enumerate(encodings):
        k = len(e.ids)
        ids[r, :k] = e.ids
        mask[r, :k] = 1
        types[r, :k] = e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def _softmax(x: np.ndarray) -> np.ndarray:
    import numpy as np

    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class OnnxPredictor:
    """ONNX Runtime inference: explicit threads, length-sorted batches, per-batch padding."""

    def __init__(
        self,
        onnx_path: Path,
        tokenizer_json: Path,
        max_len: int = 128,
        threads: int = ONNX_THREADS,
        max_batch: int = 32,
        max_tokens: int = 1024,
    ) -> None:
        # Batches of <= 32 comments and <= 1024 padded tokens: measured 5-10% more
        # comments per CPU-second than 64/4096 on 2 cores (activations stay in cache).
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on install
            raise SentimentModelError("onnxruntime is not installed: pip install onnxruntime") from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # No busy-waiting between ops: on a 2-core machine shared with anything else,
        # spinning threads steal the cores the work needs.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tok = load_tokenizer(tokenizer_json, max_len)
        self.max_batch = max_batch
        self.max_tokens = max_tokens

    def __call__(self, texts: list[str], questions: list[str] | None) -> np.ndarray:
        """5-class probabilities for ``texts`` (n x 5)."""
        import numpy as np

        encs = encode(self.tok, texts, questions)
        out = np.zeros((len(texts), 5), dtype=np.float32)
        for batch in length_batches([len(e.ids) for e in encs], self.max_batch, self.max_tokens):
            feed = {k: v for k, v in pad_batch([encs[i] for i in batch]).items() if k in self.input_names}
            logits = self.session.run(None, feed)[0]
            out[batch] = _softmax(logits.astype(np.float32))
        return out


class TorchPredictor:
    """PyTorch inference for a Hugging Face sequence-classification model (dir or hub id)."""

    def __init__(
        self,
        model_ref: str,
        max_len: int = 128,
        threads: int = ONNX_THREADS,
        max_batch: int = 64,
        max_tokens: int = 4096,
        tokenizer_json: Path | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on install
            raise SentimentModelError("the torch backend needs torch and transformers installed") from exc
        torch.set_num_threads(threads)
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(model_ref)
            hf_tok = None if tokenizer_json else AutoTokenizer.from_pretrained(model_ref)
        except OSError as exc:
            raise SentimentModelError(
                f"cannot load sentiment model {model_ref!r}: not a local model directory, and the hub is "
                f"not reachable from here (hub ids need a machine that is online): {exc}"
            ) from exc
        self.model.eval()
        if tokenizer_json is not None:
            self.tok = load_tokenizer(tokenizer_json, max_len)
        else:
            self.tok = hf_tok.backend_tokenizer
            self.tok.no_padding()
            self.tok.enable_truncation(max_length=max_len, strategy="longest_first")
        self.matrix = label_matrix(self.model.config.id2label)
        self.uses_types = "token_type_ids" in getattr(hf_tok, "model_input_names", ["token_type_ids"])
        self.max_batch = max_batch
        self.max_tokens = max_tokens

    def __call__(self, texts: list[str], questions: list[str] | None) -> np.ndarray:
        """5-class probabilities for ``texts`` (n x 5)."""
        import numpy as np
        import torch

        encs = encode(self.tok, texts, questions)
        out = np.zeros((len(texts), 5), dtype=np.float32)
        with torch.inference_mode():
            for batch in length_batches([len(e.ids) for e in encs], self.max_batch, self.max_tokens):
                arrays = pad_batch([encs[i] for i in batch])
                if not self.uses_types:
                    arrays.pop("token_type_ids")
                logits = self.model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits
                probs = torch.softmax(logits.float(), dim=-1).numpy()
                out[batch] = probs @ self.matrix
        return out


def label_matrix(id2label: dict[int, str] | dict[str, str]) -> np.ndarray:
    """Map a model's own classes onto the 5 classes (k x 5 matrix, rows sum to 1).

    Understands our 5 names, "1 star".."5 stars", "LABEL_0".."LABEL_4" (ordered 5-class),
    negative/neutral/positive (mapped to negative/neutral/positive) and 2-class
    negative/positive models.

    Raises:
        SentimentModelError: when the classes cannot be mapped.
    """
    import numpy as np

    names = [str(id2label[k]).lower() for k in sorted(id2label, key=lambda k: int(k))]
    k = len(names)
    m = np.zeros((k, 5), dtype=np.float32)
    for i, name in enumerate(names):
        n = name.replace("_", " ").strip()
        star = re.match(r"^([1-5])\s*stars?$", n)
        if n in LABELS5:
            m[i, LABELS5.index(n)] = 1
        elif star:
            m[i, int(star.group(1)) - 1] = 1
        elif n.startswith("neg"):
            m[i, 1] = 1
        elif n.startswith("neu"):
            m[i, 2] = 1
        elif n.startswith("pos"):
            m[i, 3] = 1
        elif k == 5 and re.fullmatch(r"label \d", n):
            m[i, int(n[-1])] = 1
        elif k == 3 and re.fullmatch(r"label \d", n):
            m[i, (1, 2, 3)[int(n[-1])]] = 1
        elif k == 2 and re.fullmatch(r"label \d", n):
            m[i, (1, 3)[int(n[-1])]] = 1
        else:
            raise SentimentModelError(f"cannot map model class {name!r} to {LABELS5}")
    return m


# --------------------------------------------------------------------------------------
# Builds and loading
# --------------------------------------------------------------------------------------
CURRENT_FILE = "current"
DEFAULT_FILE = "default"


def current_build(build_dir: Path, pointer: str = CURRENT_FILE) -> Path | None:
    """The build folder named by ``build_dir/<pointer>`` (falls back to ``default``), or None."""
    for name in (pointer, DEFAULT_FILE):
        file = build_dir / name
        if file.is_file():
            version = file.read_text(encoding="utf-8").strip()
            folder = build_dir / version
            if version and (folder / "manifest.json").is_file():
                return folder
    return None


def read_manifest(build: Path) -> dict[str, Any]:
    """The ``manifest.json`` of a build folder."""
    return json.loads((build / "manifest.json").read_text(encoding="utf-8"))


def build_scorer(build: Path, backend: str = "onnx") -> ModelSentimentScorer:
    """Scorer for one of our build folders (``models/sentiment/build/<version>``).

    Raises:
        SentimentModelError: for an unknown backend or missing files.
    """
    manifest = read_manifest(build)
    serving = manifest.get("serving", {})
    max_len = int(manifest.get("config", {}).get("max_len", 128))
    tok_json = build / "hf" / "tokenizer.json"
    if backend == "onnx":
        int8 = build / "model.int8.onnx"
        accepted = bool(manifest.get("quantization", {}).get("accepted"))
        variant, path = ("onnx-int8", int8) if accepted and int8.is_file() else ("onnx-fp32", build / "model.onnx")
        predict: Predictor = OnnxPredictor(path, tok_json, max_len)
    elif backend == "onnx-fp32":
        variant = "onnx-fp32"
        predict = OnnxPredictor(build / "model.onnx", tok_json, max_len)
    elif backend == "torch":
        variant = "torch"
        predict = TorchPredictor(str(build / "hf"), max_len, tokenizer_json=tok_json)
    else:
        raise SentimentModelError(f"unknown sentiment backend {backend!r}: use onnx, onnx-fp32 or torch")
    return ModelSentimentScorer(
        predict,
        f"{manifest['version']}:{variant}:{RULES_VERSION}",
        mixed_threshold=float(serving.get("mixed_threshold", DEFAULT_MIXED_THRESHOLD)),
        noncontent=str(serving.get("noncontent", "rule")),
        pair_input=True,
        mixed_rule=str(serving.get("mixed_rule", "clauses")),
    )


def _hf_version(ref: str) -> str:
    path = Path(ref)
    if not path.is_dir():
        return f"hub:{ref}"
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".onnx", ".txt"}:
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"hf:{path.name}:{h.hexdigest()[:10]}"


def load_scorer(settings: Settings) -> SentimentScorer:
    """The scorer chosen by ``settings.sentiment_model`` / ``settings.sentiment_backend``.

    * ``default``: the build named by ``<sentiment_build_dir>/current`` (``make models``);
    * a folder with ``manifest.json``: that build of ours;
    * any other local folder: a Hugging Face sequence-classification model (torch, text
      only, classes mapped by :func:`label_matrix`);
    * anything else: a hub id (needs a machine that is online).

    Raises:
        SentimentModelError: when the model is missing (with what to run) or cannot load.
    """
    ref = settings.sentiment_model
    backend = settings.sentiment_backend
    if ref == "default":
        build = current_build(settings.sentiment_build_dir)
        if build is None:
            raise SentimentModelError(
                f"no sentiment model is built in {settings.sentiment_build_dir}: run `make models` "
                "(or `python models/sentiment/train.py`), or set FEEDBACK_SENTIMENT_MODEL to a local "
                "Hugging Face model directory"
            )
        return build_scorer(build, backend)
    path = Path(ref).expanduser()
    if path.is_dir() and (path / "manifest.json").is_file():
        return build_scorer(path, backend)
    if path.is_dir():
        return ModelSentimentScorer(
            TorchPredictor(str(path)), f"{_hf_version(str(path))}:{RULES_VERSION}", pair_input=False
        )
    if ref.startswith(("/", ".", "~")) or "\\" in ref:
        raise SentimentModelError(f"FEEDBACK_SENTIMENT_MODEL={ref!r}: no such model directory")
    # A hub id: only works on a machine that can reach the hub.
    return ModelSentimentScorer(TorchPredictor(ref), f"{_hf_version(ref)}:{RULES_VERSION}", pair_input=False)
