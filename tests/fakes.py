"""Test doubles shared by several test modules."""

from __future__ import annotations

import re

import numpy as np

from pipelines.themes.model import Embedder


class BagEmbedder(Embedder):
    """Deterministic bag-of-words embedding: one dimension per hashed word, L2-normalised.

    ``positional`` weights each letter by its position in the word (fewer words share a
    dimension, e.g. anagrams no longer do); ``name`` is what the theme stage records.
    """

    def __init__(self, dim: int = 64, positional: bool = False, name: str = "bag") -> None:
        self.dim, self.positional, self.name = dim, positional, name

    def _slot(self, word: str) -> int:
        if self.positional:
            return sum(ord(c) * (k + 1) for k, c in enumerate(word)) % self.dim
        return sum(map(ord, word)) % self.dim

    def encode(self, texts, progress=False):  # noqa: ANN001, ANN201 (Embedder's signature)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                out[i, self._slot(w)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)
