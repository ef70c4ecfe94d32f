"""The console script leaves the interpreter's final garbage collections out of every run's cost."""

from __future__ import annotations

import atexit
import gc
import subprocess
import sys

from pipelines import cli


def test_main_freezes_the_heap_in_an_exit_handler(monkeypatch):
    registered = []
    monkeypatch.setattr(atexit, "register", lambda fn, *a, **k: registered.append(fn))
    monkeypatch.setattr(cli, "app", lambda: None)
    cli.main()
    assert registered == [gc.freeze]


def _console_script(*args: str) -> subprocess.CompletedProcess:
    code = f"import sys; sys.argv = ['feedback', *{list(args)!r}]; from pipelines.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_exit_codes_and_output_are_kept():
    ok = _console_script("--help")
    assert ok.returncode == 0 and "Usage" in ok.stdout and "run" in ok.stdout
    usage = _console_script("no-such-command")
    assert usage.returncode == 2 and "no-such-command" in usage.stderr
