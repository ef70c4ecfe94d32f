"""PERSON spans from the fine-tuned token-classification model (ONNX int8, onnxruntime).

The model is MiniLM-L6 (uncased) fine-tuned on synthetic patient comments with BIO labels
(``models/privacy/train_names.py``). The tokenizer lower-cases everything, so capitalisation is
passed in the ``token_type_ids`` input instead: 1 for the sub-words of a word that starts with
a capital letter, 0 otherwise (0 everywhere in ALL-CAPS comments, where case says nothing).

onnxruntime and tokenizers are imported when a :class:`NameModel` is built, never at import.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.int8 import equal_length_batches
from pipelines.provenance import sha256_file

DEFAULT_BUILD_DIR = Path(__file__).resolve().parents[2] / "models" / "privacy" / "build" / "names"
MODEL_FILE = "model.int8.onnx"
LABELS = ("O", "B-PER", "I-PER")
# A word is a run of letters/digits with inner apostrophes or hyphens ("O'Sullivan", "Pemberton-
# Hughes"), or one punctuation character. A possessive 's is its own word, so it is never redacted.
_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s]")
_POSSESSIVE_RE = re.compile(r"['’][sS]$")
# Two name words separated only by this are one name ("T. Ramsbottom", "S.J. Pickering").
_JOIN_GAP_RE = re.compile(r"[\s.]{0,3}")
MAX_WORDS = 96  # longer texts are read in windows of this many words
MAX_SUBWORDS = 192
BATCH = 32  # chunks per run for a per-token int8 model

PersonSpan = tuple[int, int, float]


class NamesModelMissing(FileNotFoundError):
    """The names model has not been built (``make privacy-model``)."""


def words(text: str) -> list[tuple[int, int]]:
    """Character spans of the words the model labels (possessive ``'s`` split off)."""
    out: list[tuple[int, int]] = []
    for m in _WORD_RE.finditer(text):
        s, e = m.span()
        if e - s > 2 and _POSSESSIVE_RE.search(m.group()):
            out += [(s, e - 2), (e - 2, e)]
        else:
            out.append((s, e))
    return out


def shouting(text: str) -> bool:
    """True for mostly upper-case comments (case carries no signal there)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def case_flags(text: str, spans: Sequence[tuple[int, int]]) -> list[int]:
    """1 for a word starting with a capital letter, else 0; all 0 in an ALL-CAPS comment."""
    if shouting(text):
        return [0] * len(spans)
    return [int(text[s].isupper()) for s, _ in spans]


def bio_labels(word_spans: Sequence[tuple[int, int]], names: Sequence[tuple[int, int]]) -> list[int]:
    """BIO label ids (see :data:`LABELS`) of ``word_spans`` for the name character spans."""
    labels = []
    for s, e in word_spans:
        lab = 0
        for ns, ne in names:
            if ns <= s and e <= ne:
                lab = 1 if s == ns else 2
                break
        labels.append(lab)
    return labels


def decode(
    text: str, word_spans: Sequence[tuple[int, int]], name_prob: Sequence[float], threshold: float
) -> list[PersonSpan]:
    """Person spans from per-word name probabilities: adjacent name words are merged."""
    spans: list[list[float]] = []
    for (s, e), p in zip(word_spans, name_prob, strict=True):
        if p < threshold or not any(c.isalnum() for c in text[s:e]):
            continue
        if spans and _JOIN_GAP_RE.fullmatch(text[int(spans[-1][1]) : s]):
            spans[-1][1] = e
            spans[-1][2] = min(spans[-1][2], p)
        else:
            spans.append([s, e, p])
    return [(int(s), int(e), round(float(p), 4)) for s, e, p in spans]


@dataclass(frozen=True)
class WordProbs:
    """The words of one text and their name probabilities (see :meth:`NameModel.word_probs_many`)."""

    spans: list[tuple[int, int]]
    first: list[float]  # probability of the word's first sub-word
    max: list[float]  # highest probability over the word's sub-words


_THRESHOLDS = ("threshold", "capital_threshold", "extend_threshold", "lowercase_threshold")


@dataclass(frozen=True)
class Decoding:
    """How word probabilities become person spans (``names_model:`` in ``recognizers.yaml``).

    Attributes:
        threshold: A word is a name word at this probability or more.
        subword: ``"first"``: a word's probability is its first sub-word's; ``"max"``: its highest
            sub-word's.
        capital_threshold: Lower bar (or None) for a word starting with a capital letter that does
            not start a sentence (case is a name cue; never used in ALL-CAPS comments).
        extend_threshold: Lower bar (or None) for a word next to a name word (only a space, full
            stop or hyphen between): "Bartholomew St John-Smythe", a surname after a first name.
        lowercase_threshold: Higher bar (or None) for a word with no capital letter in a comment
            that is not ALL CAPS (never lower than ``threshold``); it lets a low threshold
            catch capitalised names without redacting lower-case words the model is unsure of
            ("referral", "pls"). Checked after ``capital_threshold``, before ``extend_threshold``.
    """

    threshold: float = 0.5
    subword: str = "first"
    capital_threshold: float | None = None
    extend_threshold: float | None = None
    lowercase_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.subword not in ("first", "max"):
            raise ValueError(f"names_model.subword must be 'first' or 'max', got {self.subword!r}")
        for name in _THRESHOLDS:
            v = getattr(self, name)
            if v is not None and not 0.0 < float(v) <= 1.0:
                raise ValueError(f"names_model.{name} must be in (0, 1], got {v!r}")

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> Decoding:
        """From the ``names_model:`` mapping of the recognizer YAML (missing keys: defaults)."""
        cfg = dict(cfg or {})
        unknown = set(cfg) - {"subword", *_THRESHOLDS}
        if unknown:
            raise ValueError(f"unknown names_model settings: {sorted(unknown)}")
        return cls(**cfg)


_SENTENCE_OPENERS = frozenset('.!?:;"“(')


def starts_sentence(text: str, start: int) -> bool:
    """True if the word at ``start`` opens the text, a line or a sentence."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_OPENERS or text[i] in "\r\n"


def decode_words(text: str, wp: WordProbs, how: Decoding) -> list[PersonSpan]:
    """Person spans from one text's word probabilities under the decoding settings ``how``."""
    probs = wp.first if how.subword == "first" else wp.max
    if how.capital_threshold is None and how.extend_threshold is None and how.lowercase_threshold is None:
        return decode(text, wp.spans, probs, how.threshold)
    caps = not shouting(text)
    bar = []
    for s, e in wp.spans:
        t = how.threshold
        if how.capital_threshold is not None and caps and text[s].isupper() and not starts_sentence(text, s):
            t = min(t, how.capital_threshold)
        if how.lowercase_threshold is not None and caps and not any(c.isupper() for c in text[s:e]):
            t = max(t, how.lowercase_threshold)
        bar.append(t)
    name = [p >= t for p, t in zip(probs, bar, strict=True)]
    if how.extend_threshold is not None:
        changed = True
        while changed:
            changed = False
            for i, (s, e) in enumerate(wp.spans):
                if name[i] or probs[i] < how.extend_threshold:
                    continue
                left = i > 0 and name[i - 1] and _JOIN_GAP_RE.fullmatch(text[wp.spans[i - 1][1] : s])
                right = i + 1 < len(name) and name[i + 1] and _JOIN_GAP_RE.fullmatch(text[e : wp.spans[i + 1][0]])
                if left or right:
                    name[i] = changed = True
    return decode(text, wp.spans, [p if n else 0.0 for p, n in zip(probs, name, strict=True)], 1e-9)


@dataclass(frozen=True)
class _Encoded:
    index: int  # which text
    word_spans: list[tuple[int, int]]
    ids: list[int]
    types: list[int]
    first_subword: list[int]  # position of each word's first sub-word (-1 when truncated)
    word_of: list[int]  # word index (in this chunk) of each sub-word position, -1 for [CLS]/[SEP]


class NameModel:
    """Runs the names model over texts; returns person spans with offsets into each text.

    Args:
        build_dir: Folder with ``model.int8.onnx``, ``tokenizer.json`` and ``manifest.json``.
        threshold: Minimum probability of B or I for a word to count as part of a name (overrides
            ``decoding.threshold``).
        threads: onnxruntime intra-op threads per run.
        workers: runs side by side (one thread each: onnxruntime releases the GIL while it runs).
            The model is ~90% of redaction's time (the rules, on the Redactor's own thread, ~8%),
            so on 2 cores it runs two texts at once: 3,000 demo comments took 17.5 s with one run
            at a time, ~9 s with two.
        decoding: How word probabilities become spans (default: first sub-word, 0.5).

    Raises:
        NamesModelMissing: if the model file is absent.
    """

    def __init__(
        self,
        build_dir: Path | None = None,
        threshold: float | None = None,
        threads: int = 1,
        decoding: Decoding | None = None,
        workers: int = 2,
    ) -> None:
        self.build_dir = Path(build_dir or DEFAULT_BUILD_DIR)
        self.path = self.build_dir / MODEL_FILE
        if not self.path.is_file():
            raise NamesModelMissing(
                f"names model not found at {self.path}: build it with `make privacy-model` "
                "(python models/privacy/train_names.py), or construct the Redactor with rules_only=True"
            )
        from tokenizers import Tokenizer

        self.sha256 = sha256_file(self.path)
        self.decoding = decoding or Decoding()
        if threshold is not None:
            self.decoding = dataclasses.replace(self.decoding, threshold=threshold)
        self.threshold = self.decoding.threshold
        self._threads = threads
        self.workers = max(1, int(workers))
        #: quantised with one activation scale per token (pipelines.int8): chunks can run batched
        self.per_token = self.manifest().get("int8", {}).get("activations") == "per_token"
        self._pool: Any = None
        self._session_obj: Any = None
        self._tok = Tokenizer.from_file(str(self.build_dir / "tokenizer.json"))
        self._tok.no_padding()  # the shipped tokenizer.json pads to 128
        self._tok.no_truncation()

    @property
    def _session(self) -> Any:
        """The onnxruntime session, created on first use (~0.3 s)."""
        if self._session_obj is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self._threads
            opts.inter_op_num_threads = 1
            # No busy-waiting between ops: on a shared 2-core machine spinning threads steal the
            # core the rules run on.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session_obj = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        return self._session_obj

    @_session.setter
    def _session(self, session: Any) -> None:
        self._session_obj = session

    def manifest(self) -> dict[str, Any]:
        """The build's ``manifest.json`` (empty if missing)."""
        path = self.build_dir / "manifest.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _encode(self, index: int, text: str) -> list[_Encoded]:
        spans = words(text)
        flags = case_flags(text, spans)
        out = []
        for w0 in range(0, max(len(spans), 1), MAX_WORDS):
            chunk = spans[w0 : w0 + MAX_WORDS]
            if not chunk:
                continue
            enc = self._tok.encode([text[s:e] for s, e in chunk], is_pretokenized=True)
            ids, word_ids = enc.ids[:MAX_SUBWORDS], enc.word_ids[:MAX_SUBWORDS]
            if ids[-1] != enc.ids[-1]:
                ids[-1], word_ids[-1] = enc.ids[-1], None  # keep [SEP]
            first = [-1] * len(chunk)
            types = []
            for pos, w in enumerate(word_ids):
                types.append(flags[w0 + w] if w is not None else 0)
                if w is not None and first[w] < 0:
                    first[w] = pos
            word_of = [w if w is not None else -1 for w in word_ids]
            out.append(_Encoded(index, chunk, ids, types, first, word_of))
        return out

    def _run(self, batch: list[_Encoded]) -> Any:
        import numpy as np

        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for r, e in enumerate(batch):
            ids[r, : len(e.ids)] = e.ids
            mask[r, : len(e.ids)] = 1
            types[r, : len(e.types)] = e.types
        logits = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        z = logits - logits.max(axis=-1, keepdims=True)
        prob = np.exp(z)
        prob /= prob.sum(axis=-1, keepdims=True)
        return 1.0 - prob[..., 0]  # P(B) + P(I)

    def word_probs_many(self, texts: Sequence[str], batch_size: int | None = None) -> list[WordProbs]:
        """Per text: the word spans and each word's name probability, first sub-word and any sub-word.

        A word's "first" probability is that of its first sub-word (what the model was trained to
        label); "max" is the highest over its sub-words (a name split into pieces, "ram|sbottom",
        counts when any piece looks like a name). Words past :data:`MAX_SUBWORDS` get 0.

        A model quantised with one activation scale per token (:attr:`per_token`, the builds since
        2026-12-07) runs chunks of the same sub-word length together, ``batch_size`` (default
        :data:`BATCH`) at a time: a chunk's probabilities are then bit-identical to a run of it
        alone. A model quantised with one scale per run (older builds) runs each chunk alone by
        default: its scale is taken over the whole batch tensor (padding included), so in a batch
        whether a word is a name would depend on the texts batched with it, i.e. on what else
        arrived in the same delivery ("One niggle: ..." was redacted to "One [NAME]: ..." in one
        delivery and kept in another; 19 of 348 demo comments got different spans when split over
        two calls at 32 per batch).
        """
        if batch_size is None:
            batch_size = BATCH if self.per_token else 1
        encoded = [e for i, t in enumerate(texts) for e in self._encode(i, t)]
        parts: list[list[tuple[int, list[tuple[int, int]], list[float], list[float]]]] = [[] for _ in texts]
        batches = [[encoded[k] for k in b] for b in equal_length_batches([len(e.ids) for e in encoded], batch_size)]
        for batch, name_prob in zip(batches, self._map_runs(batches), strict=True):
            for r, e in enumerate(batch):
                first = [float(name_prob[r, p]) if p >= 0 else 0.0 for p in e.first_subword]
                top = list(first)
                for pos, w in enumerate(e.word_of):
                    if w >= 0:
                        top[w] = max(top[w], float(name_prob[r, pos]))
                parts[e.index].append((e.word_spans[0][0] if e.word_spans else 0, e.word_spans, first, top))
        out = []
        for chunks in parts:
            chunks.sort(key=lambda c: c[0])
            out.append(
                WordProbs(
                    [w for c in chunks for w in c[1]],
                    [p for c in chunks for p in c[2]],
                    [p for c in chunks for p in c[3]],
                )
            )
        return out

    def _map_runs(self, batches: list[list[_Encoded]]) -> Any:
        """:meth:`_run` over the batches, in order; ``workers`` runs at a time (one session, thread-safe)."""
        if self.workers == 1 or len(batches) < 2:
            return map(self._run, batches)
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="names-onnx")
        return self._pool.map(self._run, batches)

    def find_many(self, texts: Sequence[str], batch_size: int | None = None) -> list[list[PersonSpan]]:
        """Person spans for each text (batched as :meth:`word_probs_many` says)."""
        return [
            decode_words(t, wp, self.decoding)
            for t, wp in zip(texts, self.word_probs_many(texts, batch_size), strict=True)
        ]

    def find(self, text: str) -> list[PersonSpan]:
        """Person spans in one text."""
        return self.find_many([text])[0]
