"""Task logs are free of patient text: the DAG chain on demo data with planted identifiers.

Runs ingest -> enrich -> themes -> report as four ``dag.test()`` runs, each in its own process
(``python dags/<dag_id>.py``, what an operator runs), on 1000 generated demo records whose
comments carry planted fictional identifiers (names, NHS numbers, phones, e-mails, postcodes,
dates of birth, hospital numbers, addresses). Everything the runs print (stdout, stderr) and
every file under the Airflow home's ``logs/`` must be free of those identifiers and of every
comment's text. The same run checks the PHI-free reporting extract it wrote, and prints its
size and the time it took.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

DAG_ORDER = ("feedback_ingest", "feedback_enrich", "feedback_themes", "feedback_report")
# Comments shorter than this are phrases any log might contain ("Very good", "No comment").
MIN_COMMENT_CHARS = 25


@pytest.fixture(scope="module")
def chain(airflow_home, tmp_path_factory):
    from pipelines.demo import generator as demo_data

    root = tmp_path_factory.mktemp("task-logs")
    env = {
        **os.environ,
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(root / "data"),
        "FEEDBACK_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(root / "reports"),
        "FEEDBACK_SOURCES_DIR": str(ROOT / "config" / "sources"),
        "FEEDBACK_GX_DIR": str(root / "gx"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("FEEDBACK_REPORTING_EXTRACT", None)
    manifest = demo_data.generate(root / "data" / "demo", rows=1000, seed=42)
    outputs = {}
    for dag_id in DAG_ORDER:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "dags" / f"{dag_id}.py")],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        outputs[dag_id] = proc.stdout + proc.stderr
        (root / f"{dag_id}.log").write_text(outputs[dag_id], encoding="utf-8")  # kept for a post-mortem
        assert proc.returncode == 0, f"{dag_id} failed:\n{outputs[dag_id][-3000:]}"
    files = {
        str(p.relative_to(airflow_home)): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted((airflow_home / "logs").rglob("*"))
        if p.is_file()
    }
    con = duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True)
    try:
        comments = sorted(
            {r[0] for r in con.execute("select text from raw.feedback where text is not null").fetchall()}
        )
        failed = con.execute("select count(*) from ops.stage_runs where status <> 'success'").fetchone()[0]
    finally:
        con.close()
    return {
        "outputs": outputs,
        "files": files,
        "manifest": manifest,
        "comments": comments,
        "root": root,
        "failed": failed,
    }


def test_the_chain_ran_and_its_task_logs_were_captured(chain):
    assert chain["failed"] == 0  # dag.test() exits 0 with a failed task: the stage records say how it went
    text = "\n".join(chain["outputs"].values())
    # The tasks' own log lines are in what was captured (else the leak checks below would prove nothing).
    for needle in ("ingested ", "reporting extract", "reports for"):
        assert needle in text, needle


def test_task_logs_carry_no_planted_identifier_and_no_comment_text(chain):
    planted = sorted({p for p in chain["manifest"].get("planted_identifiers", []) if len(p) >= 4})
    comments = [c for c in chain["comments"] if len(c.strip()) >= MIN_COMMENT_CHARS]
    assert len(planted) > 20 and len(comments) > 300
    sources = {**{f"output of {k}": v for k, v in chain["outputs"].items()}, **chain["files"]}
    leaks = [(where, p) for where, text in sources.items() for p in planted if p in text]
    leaks += [(where, c[:40]) for where, text in sources.items() for c in comments if c in text]
    assert leaks == [], leaks[:10]


def test_the_run_wrote_a_phi_free_reporting_extract(chain):
    path = chain["root"] / "data" / "reporting.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        dump = json.dumps(
            [con.execute("select * from query_table($t)", {"t": n}).fetchall() for n in names], default=str
        )
        meta = con.execute("select run_id, tables from meta").fetchone()
        rows = con.execute("select sum(rows) from meta_tables").fetchone()[0]
    finally:
        con.close()
    assert {"meta", "meta_tables", "rpt_feedback_comments"} <= set(names) and len(names) == meta[1] + 2
    planted = [p for p in chain["manifest"].get("planted_identifiers", []) if len(p) >= 4]
    assert [p for p in planted if p in dump] == []
    line = re.search(
        r"reporting extract .*: (\d+) tables, (\d+) rows, ([\d.]+) MB in ([\d.]+) s",
        chain["outputs"]["feedback_report"],
    )
    assert line, "the report task logs the extract's size and time"
    print(f"\nreporting extract on the 1000-record demo: {line.group(0)} ({path.stat().st_size} bytes, {rows} rows)")
