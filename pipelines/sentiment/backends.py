"""Model backends: 5-class probabilities for (question, text) pairs from ONNX Runtime or PyTorch.

A *predictor* is any callable ``(texts, questions) -> n x 5 probabilities``
(:data:`Predictor`); :class:`~pipelines.sentiment.scorer.ModelSentimentScorer` turns those
into labels. Both backends tokenise with the fast ``tokenizers`` library, sort the batch by
length and pad each batch only to its own longest sequence. numpy, onnxruntime, tokenizers,
torch and transformers load inside the functions, never at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.sentiment.base import LABELS5, SentimentModelError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

ONNX_THREADS = 2
# Served batch size of a model whose scores do not depend on batch companions (fp32, static int8):
# batches of <= 32 comments and <= 1024 padded tokens were measured 5-10% more comments per
# CPU-second than 64/4096 on 2 cores (activations stay in cache).
BATCHED_MAX = 32
Predictor = Callable[[list[str], list[str] | None], "np.ndarray"]


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
    """ONNX Runtime inference: length-sorted batches, per-batch padding, one batch per core at a time.

    ``threads`` cores are used as ``threads`` workers that each run whole batches on one
    intra-op thread (a shared session; ``run`` is thread-safe and releases the GIL), not as
    intra-op threads that split every operator. Measured on 2 cores (MODEL_CARD.md, speed):
    a 44-token comment's operators are small, and waking a second thread for each of them
    cost more than it gave. ``workers=1`` with ``threads=2`` is the intra-op layout.
    Batches and their padding do not depend on the layout, so neither do the probabilities.

    One comment per run by default (``max_batch=1``), for a **dynamically** quantised int8 model:
    each activation's scale is taken over the whole batch tensor, padding included, so a comment's
    probabilities would depend on the comments batched with it, i.e. on what else arrived in the
    same delivery (measured: 120 demo comments scored in one call and in two calls of 60 differed by
    up to 0.21 in a probability, 4 labels flipped). fp32 and **statically** quantised int8 (fixed,
    calibrated activation scales) give a comment the same probabilities alone or in any padded
    batch (up to float noise), so :func:`~pipelines.sentiment.scorer.build_scorer` serves them in
    batches of :data:`BATCHED_MAX`.
    """

    def __init__(
        self,
        onnx_path: Path,
        tokenizer_json: Path,
        max_len: int = 128,
        threads: int = ONNX_THREADS,
        max_batch: int = 1,
        max_tokens: int = 1024,
        workers: int | None = None,
    ) -> None:
        # max_batch > 1 only for a model whose scores do not depend on batch companions (fp32,
        # static int8) or where they may (speed comparisons).
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on install
            raise SentimentModelError("onnxruntime is not installed: pip install onnxruntime") from exc
        self.workers = max(1, threads if workers is None else workers)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads // self.workers)
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
        self._pool: Any = None

    def __call__(self, texts: list[str], questions: list[str] | None) -> np.ndarray:
        """5-class probabilities for ``texts`` (n x 5)."""
        import numpy as np

        encs = encode(self.tok, texts, questions)
        out = np.zeros((len(texts), 5), dtype=np.float32)

        def run(batch: list[int]) -> None:
            feed = {k: v for k, v in pad_batch([encs[i] for i in batch]).items() if k in self.input_names}
            out[batch] = _softmax(self.session.run(None, feed)[0].astype(np.float32))

        batches = length_batches([len(e.ids) for e in encs], self.max_batch, self.max_tokens)
        if self.workers == 1 or len(batches) == 1:
            for batch in batches:
                run(batch)
        else:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sentiment-onnx")
            # Longest batches first: the last batch to finish is a short one (less idle tail).
            list(self._pool.map(run, batches[::-1]))
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
