"""Importing the heavy libraries with the cyclic garbage collector paused.

torch with sentence-transformers, Presidio with spaCy, Great Expectations and BERTopic each create
hundreds of thousands of long-lived objects while they import. Python's collector runs a full
collection every time the heap has grown by a quarter, so an import walks the whole heap again
and again: Great Expectations, Presidio and sentence-transformers imported one after the other in
one process (as a ``feedback run`` does) took 10.2 s, 7.2 s paused (2 cores, load 3), a fixed cost
of every increment. Paused, the import runs the same code and creates the same objects; the next
collection after it finds any garbage it left.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic garbage collection inside the block (restored after, even on error)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
