"""`feedback demo-data` + `feedback run` as a new user runs them (the `make demo` path).

Checks the run is idempotent and that no planted identifier leaks into any log line,
reporting view or report file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
FEEDBACK = str(Path(sys.executable).parent / "feedback")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(root / "data"),
        "FEEDBACK_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(root / "reports"),
        "FEEDBACK_GX_DIR": str(root / "gx"),
        "COLUMNS": "200",
    }
    logs = []
    for args in (["demo-data", "--rows", "800", "--seed", "7"], ["run", "--no-progress"], ["run", "--no-progress"]):
        out = subprocess.run([FEEDBACK, *args], env=env, capture_output=True, text=True, timeout=1200)
        logs.append(out.stdout + out.stderr)
        assert out.returncode == 0, f"feedback {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    manifest = json.loads((root / "data" / "demo" / "manifest.json").read_text())
    return {"root": root, "logs": logs, "manifest": manifest}


def test_run_prints_where_results_are(demo):
    assert "warehouse:" in demo["logs"][1]
    assert "report:" in demo["logs"][1]


def test_second_run_ingests_nothing_new(demo):
    con = duckdb.connect(str(demo["root"] / "data" / "warehouse.duckdb"), read_only=True)
    statuses = con.execute("select status, count(*) from raw.ingest_batches group by all").fetchall()
    history = con.execute("select count(*) from raw.feedback_history").fetchone()[0]
    records = con.execute("select count(*) from raw.feedback").fetchone()[0]
    con.close()
    assert dict(statuses) == {"success": 4}
    assert history == records
    assert "nothing new to ingest" in demo["logs"][2]


def test_no_planted_identifier_in_logs_views_or_reports(demo):
    planted = [p for p in demo["manifest"]["planted_identifiers"] if len(p) >= 4]
    assert planted
    leaks = [("log", p) for log in demo["logs"][1:] for p in planted if p in log]
    con = duckdb.connect(str(demo["root"] / "data" / "warehouse.duckdb"), read_only=True)
    views = [
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('reporting', 'marts')"
        ).fetchall()
    ]
    for view in views:
        dump = json.dumps(con.execute("select * from query_table($v)", {"v": view}).fetchall(), default=str)
        leaks += [(view, p) for p in planted if p in dump]
    con.close()
    for path in sorted((demo["root"] / "reports").rglob("*")):
        if path.suffix in {".html", ".csv", ".json", ".txt", ".md"}:
            text = path.read_text(errors="ignore")
            leaks += [(path.name, p) for p in planted if p in text]
    assert leaks == []
