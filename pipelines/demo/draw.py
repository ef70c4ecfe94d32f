"""Fast scalar random draws for the demo text, from one deterministic numpy stream."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


class Draw:
    """Fast scalar draws backed by blocks of numpy uniforms (one deterministic stream)."""

    __slots__ = ("_gen", "_buf", "_i", "_n", "memo")

    def __init__(self, gen: np.random.Generator, block: int = 1 << 15) -> None:
        self.memo: dict[str, str] = {}  # per-comment choices (one relative per comment)
        self._gen = gen
        self._n = block
        self._buf: list[float] = gen.random(block).tolist()
        self._i = 0

    def u(self) -> float:
        """A uniform float in [0, 1)."""
        i = self._i
        if i >= self._n:
            self._buf = self._gen.random(self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def below(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        v = int(self.u() * n)
        return v if v < n else n - 1

    def between(self, lo: int, hi: int) -> int:
        """A uniform integer in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def pick(self, seq: Sequence[Any]) -> Any:
        """One element of ``seq``."""
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.u() < p

    def weighted(self, cum: Sequence[float]) -> int:
        """An index drawn with the weights whose running totals are ``cum``."""
        i = bisect.bisect_right(cum, self.u() * cum[-1])
        return i if i < len(cum) else len(cum) - 1


def cumulative(weights: Iterable[float]) -> list[float]:
    """Running totals of ``weights`` (as floats), the form ``Draw.weighted`` takes."""
    out, total = [], 0.0
    for w in weights:
        total += float(w)
        out.append(total)
    return out
