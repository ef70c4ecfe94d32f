"""A pytest plugin for ``make reliability``: counts tests and hypothesis examples into a JSON file.

Loaded with ``-p benchmarks.reliability_tally`` when ``RELIABILITY_TALLY`` names the file to write;
``benchmarks/reliability.py`` reads it back. Hypothesis examples are read from the statistics
hypothesis's own pytest plugin attaches to each test item (set during the call, read at teardown).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

_TALLY: dict[str, Any] = {"passed": 0, "failed": 0, "skipped": 0, "examples": 0, "failures": [], "finished": False}
_CASES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def pytest_runtest_logreport(report: Any) -> None:  # pytest.TestReport (pytest is a dev dependency)
    """Count each test once: its call, or its setup when that failed or skipped."""
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "failed" if report.failed else report.outcome
        _TALLY[outcome] = _TALLY.get(outcome, 0) + 1
        if report.failed:
            _TALLY["failures"].append({"test": report.nodeid, "error": _last_line(report)})
        _write()  # after every test: a run stopped at its time budget still reports what it did


def pytest_runtest_teardown(item: Any) -> None:
    """Add the examples hypothesis ran for this test (every phase: explicit, generate, shrink)."""
    stats = getattr(item, "hypothesis_statistics", "")
    _TALLY["examples"] += sum(int(a) + int(b) + int(c) for a, b, c in _CASES.findall(stats))


def pytest_sessionfinish(session: Any) -> None:
    """Write the final tally."""
    _TALLY["finished"] = True
    _write()


def _write() -> None:
    target = os.environ.get("RELIABILITY_TALLY")
    if target:
        Path(target).write_text(json.dumps(_TALLY, indent=2), encoding="utf-8")


def _last_line(report: Any) -> str:
    text = str(report.longrepr or "")
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    telling = [line for line in lines if re.match(r"\w+(Error|Exception)\b", line)] or lines
    return (telling[0] if telling else text.splitlines()[-1] if text else "")[:300]
