"""Importing the heavy libraries with the cyclic garbage collector paused.

torch with sentence-transformers, Presidio with spaCy, Great Expectations and BERTopic each create
hundreds of thousands of long-lived objects while they import. Python's collector runs a full
collection every time the heap has grown by a quarter, so an import walks the whole heap again
and again: Great Expectations, Presidio and sentence-transformers imported one after the other in
one process (as a ``feedback run`` does) took 10.2 s, 7.2 s paused (2 cores, load 3), a fixed cost
of every increment. Paused, the import runs the same code and creates the same objects; the next
collection after it finds any garbage it left.

:func:`cache_numba_compilations` keeps what numba compiles for umap-learn and pynndescent between
processes, so that a refit does not compile UMAP again each time.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import warnings
from collections.abc import Iterator

__all__ = ["cache_numba_compilations", "gc_paused"]


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


def cache_numba_compilations(*packages: str) -> int:
    """Cache the machine code numba compiles for the module-level functions of imported ``packages``.

    umap-learn declares its ``@numba.njit`` functions without ``cache=True`` (pynndescent only some
    of them), so every process that fits UMAP compiled them again, a fixed cost of every refit
    (2 cores, first fit in a fresh process: 3,000 rows 19.5 s compiling, 4.6 s from the cache;
    6,000 rows, semi-supervised, 41-47 s and 21 s; models/themes/MODEL_CARD.md). This turns on numba's own
    on-disk cache for them (``Dispatcher.enable_caching``, what ``cache=True`` does): numba keys each
    entry by the function's source file and signature and by the CPU, and writes beside the source
    in ``__pycache__`` or, where that is read-only, in the user's cache folder (``NUMBA_CACHE_DIR``
    moves it; with no writable folder at all nothing changes). A function numba cannot cache (it
    uses dynamic globals: pynndescent's ``nn_descent``) is compiled as before; numba's warning
    about that is silenced.

    Returns:
        How many functions were newly set to cache (0 when numba or the packages are not imported).
    """
    try:
        from numba.core.dispatcher import Dispatcher
        from numba.core.errors import NumbaWarning
    except ImportError:  # pragma: no cover - numba comes with umap-learn
        return 0
    warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in packages:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and type(value._cache).__name__ == "NullCache":
                try:
                    value.enable_caching()
                except RuntimeError:  # no writable cache folder anywhere: compile as before
                    return count
                count += 1
    return count
