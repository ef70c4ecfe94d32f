"""PERSON spans from the fine-tuned token-classification model (ONNX int8, onnxruntime).

The model is MiniLM-L6 (uncased) fine-tuned on synthetic patient comments with BIO labels
(``models/privacy/train_names.py``). The tokenizer lower-cases everything, so capitalisation is
passed in the ``token_type_ids`` input instead: 1 for the sub-words of a word that starts with
a capital letter, 0 otherwise (0 everywhere in ALL-CAPS comments, where case says nothing).

onnxruntime and tokenizers are imported when a :class:`NameModel` is built, never at import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
class _Encoded:
    index: int  # which text
    word_spans: list[tuple[int, int]]
    ids: list[int]
    types: list[int]
    first_subword: list[int]  # position of each word's first sub-word (-1 when truncated)


class NameModel:
    """Runs the names model over texts; returns person spans with offsets into each text.

    Args:
        build_dir: Folder with ``model.int8.onnx``, ``tokenizer.json`` and ``manifest.json``.
        threshold: Minimum probability of B or I for a word to count as part of a name.
        threads: onnxruntime intra-op threads (1: the Redactor runs the model beside the rules,
            one core each).

    Raises:
        NamesModelMissing: if the model file is absent.
    """

    def __init__(self, build_dir: Path | None = None, threshold: float = 0.5, threads: int = 1) -> None:
        self.build_dir = Path(build_dir or DEFAULT_BUILD_DIR)
        self.path = self.build_dir / MODEL_FILE
        if not self.path.is_file():
            raise NamesModelMissing(
                f"names model not found at {self.path}: build it with `make privacy-model` "
                "(python models/privacy/train_names.py), or construct the Redactor with rules_only=True"
            )
        from tokenizers import Tokenizer

        self.sha256 = sha256_file(self.path)
        self.threshold = threshold
        self._threads = threads
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
            out.append(_Encoded(index, chunk, ids, types, first))
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

    def find_many(self, texts: Sequence[str], batch_size: int = 1) -> list[list[PersonSpan]]:
        """Person spans for each text, each text's chunks run alone by default.

        The int8 model is quantised dynamically: each activation's scale is taken over the whole
        batch tensor (padding included), so with ``batch_size`` > 1 whether a word is a name
        depends on the texts batched with it, i.e. on what else arrived in the same delivery
        ("One niggle: ..." was redacted to "One [NAME]: ..." in one delivery and kept in
        another). Measured on 348 demo comments: 19 got different spans when split over two
        calls at 32 per batch; one per run costs ~27% more CPU (1.41 against 1.11 CPU-s).
        Larger batches are length-sorted so padding stays small.
        """
        encoded = [e for i, t in enumerate(texts) for e in self._encode(i, t)]
        encoded.sort(key=lambda e: len(e.ids))
        found: list[list[PersonSpan]] = [[] for _ in texts]
        for b in range(0, len(encoded), batch_size):
            batch = encoded[b : b + batch_size]
            name_prob = self._run(batch)
            for r, e in enumerate(batch):
                probs = [float(name_prob[r, p]) if p >= 0 else 0.0 for p in e.first_subword]
                found[e.index].extend(decode(texts[e.index], e.word_spans, probs, self.threshold))
        return [sorted(f) for f in found]

    def find(self, text: str) -> list[PersonSpan]:
        """Person spans in one text."""
        return self.find_many([text])[0]
