"""The layout rules of the library, checked on every test run (CI runs them through `make test`).

- import-linter contracts in .importlinter: layers, only ingest reads sources, no cycles, no benchmarks.
- deptry: pyproject.toml declares exactly what the code imports.
- no block of 10 or more duplicated lines in the library (pylint duplicate-code).
- no function over 80 lines without a reason written beside it (``# long: why``).
- the report package reads only ``reporting`` views.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MAX_FUNCTION_LINES = 80


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_import_contracts_hold():
    out = _run(str(BIN / "lint-imports"), "--no-cache")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout or "broken" not in out.stdout.split("Contracts:")[-1]


def test_declared_dependencies_match_imports():
    out = _run(str(BIN / "deptry"), ".")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_no_duplicated_blocks_in_the_library():
    out = _run(
        str(BIN / "pylint"),
        "--disable=all",
        "--enable=duplicate-code",
        "--min-similarity-lines=10",
        "--ignore-imports=yes",
        "pipelines",
    )
    assert "R0801" not in out.stdout, out.stdout[-6000:]


def _long_functions(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = node.end_lineno - node.lineno + 1
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        nearby = " ".join(lines[max(0, first - 3) : node.lineno])
        if length > MAX_FUNCTION_LINES and "# long:" not in nearby:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_long_functions_say_why():
    offenders = [f for p in sorted((ROOT / "pipelines").rglob("*.py")) for f in _long_functions(p)]
    assert not offenders, "functions over 80 lines need a '# long: <reason>' comment:\n" + "\n".join(offenders)


def test_long_function_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 1))
    plain = tmp_path / "plain.py"
    plain.write_text(f"def f():\n{body}\n", encoding="utf-8")
    explained = tmp_path / "explained.py"
    explained.write_text(f"# long: a table of constants\ndef f():\n{body}\n", encoding="utf-8")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert _long_functions(plain) == [f"plain.py:1 f ({MAX_FUNCTION_LINES + 2} lines)"]
        assert _long_functions(explained) == []
    finally:
        ROOT = saved


_SCHEMA_REF = re.compile(r"\b(raw|enrich|ops|staging|intermediate|marts)\.[a-z_]+", re.IGNORECASE)


@pytest.mark.parametrize("path", sorted((ROOT / "sql" / "queries" / "report").glob("*.sql")), ids=lambda p: p.stem)
def test_report_queries_read_only_reporting_views(path):
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    assert not _SCHEMA_REF.findall(text), f"{path.name} reads outside the reporting schema"
