"""The whole pipeline through real Airflow DAG runs (dag.test) on generated demo data.

Runs ingest -> enrich -> themes -> report as four DAG runs against an embedded (SQLite)
metadata DB and a real DuckDB file, then runs them again and checks nothing is duplicated.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

DAG_ORDER = ("feedback_ingest", "feedback_enrich", "feedback_themes", "feedback_report")


def _run_dag(dag_id: str) -> str:
    module = importlib.import_module(dag_id)
    run = module.dag.test()
    failed = [(ti.task_id, ti.map_index, ti.state) for ti in run.get_task_instances() if ti.state != "success"]
    assert run.state == "success", f"{dag_id} failed: {failed}"
    return run.run_id


@pytest.fixture(scope="module")
def pipeline(airflow_home, tmp_path_factory):
    from pipelines.config import Settings
    from pipelines.demo import generator as demo_data

    root = tmp_path_factory.mktemp("e2e")
    env = {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(root / "data"),
        "FEEDBACK_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(root / "reports"),
        "FEEDBACK_SOURCES_DIR": str(ROOT / "config" / "sources"),
        "FEEDBACK_GX_DIR": str(root / "gx"),
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "dags"))
    try:
        manifest = demo_data.generate(root / "data" / "demo", rows=1000, seed=42)
        settings = Settings.from_env()
        first = [_run_dag(d) for d in DAG_ORDER]
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        counts_first = _counts(con)
        con.close()
        second = [_run_dag(d) for d in DAG_ORDER]
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        yield {
            "settings": settings,
            "manifest": manifest,
            "con": con,
            "runs": (first, second),
            "counts_first": counts_first,
        }
        con.close()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rels = [
        "raw.feedback",
        "raw.feedback_history",
        "raw.quarantine",
        "enrich.sentiment",
        "enrich.aspects",
        "enrich.theme_assignments",
        "marts.fct_feedback",
        "reporting.rpt_feedback_comments",
    ]
    return {r: con.execute("select count(*) from query_table($r)", {"r": r}).fetchone()[0] for r in rels}


def test_every_stage_ran_in_airflow_and_was_recorded(pipeline):
    con = pipeline["con"]
    stages = {row[0] for row in con.execute("select stage from ops.stage_runs where status = 'success'").fetchall()}
    assert {"ingest", "enrich", "themes", "report"} <= stages
    assert con.execute("select count(*) from ops.stage_runs where status <> 'success'").fetchone()[0] == 0


def test_all_demo_records_loaded_and_reconciled(pipeline):
    con = pipeline["con"]
    counts = pipeline["manifest"]["counts"]
    responses = con.execute("select count(distinct response_id) from raw.feedback").fetchone()[0]
    quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    assert responses + quarantined >= 0.99 * sum(counts.values())
    bad = con.execute("select count(*) from reporting.rpt_ingest_reconciliation where not reconciles").fetchone()[0]
    assert bad == 0


def test_every_comment_has_sentiment_and_informative_ones_a_theme(pipeline):
    con = pipeline["con"]
    total, scored, informative, themed = con.execute(
        """
        select count(*), count(sentiment_label), count(*) filter (where is_informative),
               count(*) filter (where is_informative and len(theme_ids) > 0)
        from reporting.rpt_feedback_comments
        """
    ).fetchone()
    assert total > 500
    assert scored == total
    assert themed >= 0.9 * informative


def test_second_run_changes_no_counts(pipeline):
    con = pipeline["con"]
    assert _counts(con) == pipeline["counts_first"]


def test_reports_written_and_free_of_planted_identifiers(pipeline):
    reports = pipeline["settings"].reports_dir
    html = sorted(reports.glob("**/*.html"))
    assert html, f"no HTML report in {reports}"
    planted = [p for p in pipeline["manifest"].get("planted_identifiers", []) if len(p) >= 4]
    assert planted, "demo data should plant identifiers"
    con = pipeline["con"]
    views = [
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables where table_schema = 'reporting'"
        ).fetchall()
    ]
    leaks = []
    for view in views:
        dump = json.dumps(con.execute("select * from query_table($v)", {"v": view}).fetchall(), default=str)
        leaks += [(view, p) for p in planted if p in dump]
    for path in html + sorted(reports.glob("**/*.csv")):
        text = path.read_text(errors="ignore")
        leaks += [(path.name, p) for p in planted if p in text]
    assert leaks == []
