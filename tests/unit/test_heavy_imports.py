"""pipelines.heavy: heavy libraries import with the garbage collector paused, and it is always restored."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from pipelines.heavy import gc_paused


def test_collector_paused_inside_and_restored_after():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_after_an_error():
    with pytest.raises(ImportError), gc_paused():
        import pipelines_no_such_module  # noqa: F401
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_presidio_imports_with_the_collector_paused():
    # The import runs inside gc_paused: no automatic full collection is counted while it runs.
    code = (
        "import gc\n"
        "from pipelines.privacy import engine\n"
        "before = gc.get_stats()[2]['collections']\n"
        "engine.import_presidio()\n"
        "print(gc.get_stats()[2]['collections'] - before, gc.isenabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["0", "True"]
