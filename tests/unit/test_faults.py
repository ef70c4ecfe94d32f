"""Faults: reruns on unchanged data, a stage killed with kill -9, two runs at once, a failing source.

Fast by design: the stage under fault is ingest on the small preset fixtures, run in child
processes (Great Expectations stubbed out there: it is not under test and costs seconds to
import). The whole pipeline under kill -9 is the ``slow`` test at the bottom.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import stages, warehouse
from tests.conftest import ROOT
from tests.fixtures.ingest.helpers import query, stage, write_source

SOURCES = ["fft_csv", "suggestions_jsonl", "nps_csv"]
# Logs that grow by one row per stage run by design; everything else must not grow on unchanged data.
RUN_LOGS = {"ops.stage_runs", "reporting.rpt_run_status", "reporting.rpt_model_versions"}
SCHEMAS = ("raw", "enrich", "ops", "staging", "intermediate", "marts", "published", "reporting")

# Prepended to every child script: settings from the environment, GX stubbed.
PRELUDE = """
import logging, os, sys, time
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
from pipelines import stages, warehouse
from pipelines.config import Settings
from pipelines.ingest import quality
quality.validate = lambda df, stream, gx_dir: quality.Outcome(success=True)
settings = Settings.from_env()
"""

# Child hook: the N-th load transaction stops between two statements (marker file, then sleep).
STALL = """
real_run_sql = warehouse.run_sql
calls = 0
def stalling(con, settings_, name, params=None):
    global calls
    if name == "queries/ingest/append_quarantine":
        calls += 1
        if calls == STALL_AT:
            open(MARKER, "w").close()
            time.sleep(STALL_SECONDS)
    return real_run_sql(con, settings_, name, params)
warehouse.run_sql = stalling
"""


def relation_counts_of(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Rows of one relation on an open connection."""
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def relation_counts(settings) -> dict[str, int]:  # noqa: ANN001
    """Rows of every table and view of the warehouse (run logs excepted) and a fingerprint of raw.feedback."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ? order by 1",
            [list(SCHEMAS)],
        ).fetchall()
        out = {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names if n not in RUN_LOGS}
        out["raw.feedback#hash"] = con.execute(
            "select coalesce(sum(hash(feedback_id, record_hash)), 0) from raw.feedback"
        ).fetchone()[0]
    return out


def child(settings, body: str, **constants: object) -> subprocess.Popen:  # noqa: ANN001
    """Start a Python child on ``settings``' warehouse running PRELUDE + constants + ``body``."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GX_ANALYTICS_ENABLED": "false",
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(settings.data_dir),
        "FEEDBACK_WAREHOUSE": str(settings.warehouse),
        "FEEDBACK_SOURCES_DIR": str(settings.sources_dir),
        "FEEDBACK_REPORTS_DIR": str(settings.reports_dir),
        "FEEDBACK_GX_DIR": str(settings.gx_dir),
    }
    header = "".join(f"{k} = {v!r}\n" for k, v in constants.items())
    script = PRELUDE + header + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> None:
    """Until ``path`` exists; fails with the child's output if it ends first."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"child ended (rc {proc.returncode}) before {path.name}:\n{out}\n{err[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"child never reached {path.name}")
        time.sleep(0.1)


@pytest.fixture
def staged(settings, tmp_path):
    """Three small sources staged, and the counts a clean ingest of them gives (its own warehouse)."""
    s = stage(settings, SOURCES)
    clean = s.with_(warehouse=tmp_path / "clean" / "warehouse.duckdb")
    stages.ingest_stage(clean, "clean-run")
    return s, relation_counts(clean)


def test_the_same_interval_run_three_times_grows_no_table(staged):
    s, clean = staged
    seen = []
    for n in range(3):
        stages.ingest_stage(s, f"run-{n}")
        seen.append(relation_counts(s))
    assert seen[0] == clean
    assert seen[1] == seen[0] and seen[2] == seen[0]
    runs = query(s, "select run_id, status from ops.stage_runs order by run_id")
    assert runs.values.tolist() == [["run-0", "success"], ["run-1", "success"], ["run-2", "success"]]


def test_a_stage_killed_is_shown_interrupted_and_a_rerun_restores_the_counts(staged, tmp_path):
    s, clean = staged
    marker = tmp_path / "stalled"
    # Killed inside the second file's load transaction: the first file is committed, the second not.
    proc = child(
        s,
        STALL + "stages.ingest_stage(settings, 'killed-run')\n",
        STALL_AT=2,
        STALL_SECONDS=300,
        MARKER=str(marker),
    )
    wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    killed = query(s, "select status, pid from ops.stage_runs where run_id = 'killed-run'")
    assert killed.values.tolist() == [["running", proc.pid]]  # what was left behind

    stages.ingest_stage(s, "rerun")
    assert relation_counts(s) == clean
    rows = query(s, "select run_id, status, message from ops.stage_runs order by run_id").set_index("run_id")
    assert rows.at["killed-run", "status"] == "failed" and rows.at["rerun", "status"] == "success"
    assert rows.at["killed-run", "message"].startswith(f"interrupted: its process (pid {proc.pid} on ")
    with warehouse.connect(s, read_only=True) as con:
        status = warehouse.run_sql(con, s, "queries/pipeline/status_runs", {"limit": 10}).fetchall()
    assert {(r[0], r[2]) for r in status} == {("killed-run", "failed (interrupted)"), ("rerun", "success")}
    view = query(s, "select count(*) from reporting.rpt_run_status where status = 'running'")
    assert view.iat[0, 0] == 0


# Reporting views that show ingest and run progress live (from raw and ops tables), by design.
LIVE_VIEWS = {"reporting.rpt_ingest_reconciliation", "reporting.rpt_quarantine", "reporting.rpt_quarantine_batches"}


def test_an_unfinished_run_leaves_every_reporting_view_as_the_last_complete_run(settings):
    """A new delivery loaded but not yet enriched (a run killed after ingest) never changes the
    reporting views: they move when the run completes (the report rebuilds the marts, then publishes)."""
    s = stage(settings, ["fft_csv"])
    stages.ingest_stage(s, "first")
    warehouse.init(s)  # the first run completes: published
    before = relation_counts(s)
    stage(s, ["nps_csv", "suggestions_jsonl"])
    stages.ingest_stage(s, "second")  # what a run killed after its ingest stage leaves
    during = relation_counts(s)
    assert during["raw.feedback"] > before["raw.feedback"]
    content = [k for k in during if k.startswith("reporting.") and k not in LIVE_VIEWS]
    assert content and [k for k in content if during[k] != before[k]] == []
    with warehouse.connect(s) as con:
        assert warehouse.refresh_models(con, s).built, "the marts follow the new delivery"
        assert [k for k in content if relation_counts_of(con, k) != before[k]] == [], "not before publishing"
        assert warehouse.publish(con, s)
    after = relation_counts(s)
    assert after["marts.fct_feedback"] > before["marts.fct_feedback"]
    assert [k for k in content if after[k] != before[k]], "publishing shows the new delivery"


def test_two_runs_at_once_the_second_waits_then_does_its_work(staged, tmp_path):
    s, clean = staged
    marker = tmp_path / "first-holds"
    first = child(
        s, STALL + "stages.ingest_stage(settings, 'first')\n", STALL_AT=1, STALL_SECONDS=3, MARKER=str(marker)
    )
    wait_for(marker, first)
    # The second run, started while the first holds the warehouse, as the CLI and the DAG call it.
    second = child(s, "stages.ingest_stage(settings, 'second')\n")
    out2, err2 = second.communicate(timeout=300)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err2[-3000:]
    assert f"waiting for the warehouse held by another run (pid {first.pid} on " in err2
    assert relation_counts(s) == clean
    runs = query(s, "select run_id, status, started_at from ops.stage_runs order by started_at")
    assert runs[["run_id", "status"]].values.tolist() == [["first", "success"], ["second", "success"]]


def test_a_run_that_will_not_wait_says_which_run_holds_the_warehouse(staged, tmp_path):
    s, _ = staged
    marker = tmp_path / "holding"
    holder = child(
        s,
        """
        with warehouse.run_lock(settings):
            open(MARKER, "w").close()
            time.sleep(30)
        """,
        MARKER=str(marker),
    )
    try:
        wait_for(marker, holder)
        told: list[str] = []
        started = time.monotonic()
        with (
            pytest.raises(
                warehouse.WarehouseBusy, match=rf"another run \(pid {holder.pid} on .*\) holds the warehouse"
            ),
            warehouse.run_lock(s, timeout=0.6, on_wait=told.append),
        ):
            pass
        assert 0.5 < time.monotonic() - started < 10
        assert told and told[0].startswith(f"waiting for the warehouse held by another run (pid {holder.pid} on ")
        with pytest.raises(warehouse.WarehouseBusy), warehouse.run_lock(s, timeout=0):
            pass
    finally:
        holder.kill()
        holder.communicate()
    # The lock dies with its holder: nothing to clean up, the next run goes straight in.
    with warehouse.run_lock(s, timeout=0):
        stages.ingest_stage(s, "after")


def test_the_lock_is_reentrant_within_a_run(settings):
    with warehouse.run_lock(settings, timeout=0), warehouse.run_lock(settings, timeout=0):
        warehouse.init(settings)
    with warehouse.run_lock(settings, timeout=0):  # released: taken again at once
        pass


def test_a_failing_source_does_not_stop_enrichment_and_reports(settings, monkeypatch):
    # Regression (issue 17): `feedback run` stopped after ingest with a traceback.
    s = stage(settings, ["nps_csv"])
    write_source(s, "broken", "stream: survey\npreset: fft\nformat: csv\npath: missing_dir/*.csv\n")
    (s.data_dir / "missing_dir").mkdir()
    (s.data_dir / "missing_dir" / "bad.csv").write_text("no,columns,we,know\n1,2,3,4\n")
    called: list[str] = []

    def fake(name: str):  # noqa: ANN202
        def body(settings_, run_id, **kwargs):  # noqa: ANN001, ANN003, ANN202
            called.append(name)
            with warehouse.connect(settings_, read_only=True) as con:
                loaded = con.execute("select count(*) from raw.feedback").fetchone()[0]
            return {"rows_in": loaded, "files": [], "stage": name}

        return body

    for name in ("enrich_stage", "themes_stage", "report_stage"):
        monkeypatch.setattr(stages, name, fake(name))
    with pytest.raises(stages.RunIncomplete, match=r"^1 source\(s\) failed to ingest: broken$") as err:
        stages.run_all(s)
    assert list(err.value.failures) == ["broken"] and "no column(s)" in err.value.failures["broken"]
    assert called == ["enrich_stage", "themes_stage", "report_stage"]
    summary = err.value.summary
    assert summary["enrich"]["rows_in"] == 5  # the good source was loaded and enriched
    batches = {b["source"]: b["status"] for b in summary["ingest"]["batches"]}
    assert batches == {"broken": "failed", "nps_csv": "success"}
    assert query(s, "select status from ops.stage_runs where stage = 'ingest'").iat[0, 0] == "failed"


def test_feedback_run_names_the_failed_source_and_exits_non_zero(settings, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    s = stage(settings, ["nps_csv"])
    write_source(s, "broken", "stream: survey\npreset: fft\nformat: csv\npath: other/*.csv\n")
    (s.data_dir / "other").mkdir()
    (s.data_dir / "other" / "bad.csv").write_text("no,columns,we,know\n1,2,3,4\n")
    for name in ("enrich_stage", "themes_stage", "report_stage"):
        monkeypatch.setattr(stages, name, lambda *a, **k: {"files": []})
    for key, value in {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(s.data_dir),
        "FEEDBACK_WAREHOUSE": str(s.warehouse),
        "FEEDBACK_SOURCES_DIR": str(s.sources_dir),
        "FEEDBACK_REPORTS_DIR": str(s.reports_dir),
        "FEEDBACK_GX_DIR": str(s.gx_dir),
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        app, ["run", "--no-progress", "--wait", "0"], catch_exceptions=False, env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1, result.output
    assert "1 source(s) failed to ingest: broken" in result.output
    assert "broken: bad.csv: no column(s) ['submitted_at', 'response_id']" in result.output
    assert "the other sources were enriched and reported" in result.output
    assert "Traceback" not in result.output


def test_run_status_columns_are_added_to_an_existing_warehouse(settings):
    # A warehouse made before pid/host existed: applying the schema adds them, twice is harmless.
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("create schema ops")
        con.execute(
            "create table ops.stage_runs (run_id varchar not null, stage varchar not null, "
            "started_at timestamptz not null, finished_at timestamptz, status varchar not null, rows_in bigint, "
            "rows_out bigint, seed bigint, data_from timestamptz, data_to timestamptz, versions varchar, "
            "message varchar, primary key (run_id, stage))"
        )
        con.execute(
            "insert into ops.stage_runs (run_id, stage, started_at, status) values ('old', 'enrich', now(), 'running')"
        )
    warehouse.init(settings)
    warehouse.init(settings)
    stages.ingest_stage(settings.with_(gx_dir=settings.gx_dir), "new")
    rows = query(settings, "select run_id, status, pid, message from ops.stage_runs order by run_id")
    assert rows["run_id"].tolist() == ["new", "old"]
    assert rows["status"].tolist() == ["success", "failed"] and rows["pid"].iat[0] == os.getpid()
    assert rows["message"].iat[1].startswith("interrupted: its process (pid unknown)")


# Child hook: the model rebuild stops before the model STALL_MODEL (marker file, then sleep).
STALL_BUILD = """
real_execute_model = warehouse._execute_model
def stalling_model(con, model):
    if model.name == STALL_MODEL.replace("/", "."):
        open(MARKER, "w").close()
        time.sleep(300)
    return real_execute_model(con, model)
warehouse._execute_model = stalling_model
"""


def test_a_model_rebuild_killed_midway_leaves_every_model_as_it_was(staged, tmp_path):
    # Regression (issue 17): models were rebuilt one statement at a time, so a kill mid-rebuild left
    # some marts new and others old, and reporting views showed a mix no run ever produced.
    s, clean = staged
    stages.ingest_stage(s, "first", sources=[SOURCES[0]])
    before = relation_counts(s)
    # Status views read raw.ingest_batches and raw.quarantine directly: live by design (a file's batch row
    # is committed with its rows). Every other mart and reporting view is rebuilt by build_models.
    live = {"reporting.rpt_ingest_reconciliation", "reporting.rpt_quarantine", "reporting.rpt_quarantine_batches"}
    modelled = [k for k in before if k.split(".")[0] in ("marts", "reporting") and k not in live]
    assert any(before[k] != clean[k] for k in modelled if k.startswith("marts.fct_feedback"))  # the test can fail
    marts = [f"marts/{p.stem}" for p in warehouse.model_files(s) if p.parent.name == "marts"]
    stall = "marts/fct_responses" if "marts/fct_responses" in marts else marts[len(marts) // 2]
    assert marts.index(stall) > marts.index("marts/fct_feedback")
    marker = tmp_path / "building"
    # A run's model build: the report stage's (the stages before it refresh views only).
    body = "stages.ingest_stage(settings, 'second')\nwarehouse.init(settings, publish_marts=False)\n"
    proc = child(s, STALL_BUILD + body, STALL_MODEL=stall, MARKER=str(marker))
    wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    after = relation_counts(s)
    assert {k: after[k] for k in modelled} == {k: before[k] for k in modelled}  # all old, none half-built
    assert after["raw.feedback"] == clean["raw.feedback"]  # the loads themselves were committed
    stages.ingest_stage(s, "rerun")
    warehouse.init(s, publish_marts=False)
    assert relation_counts(s) == clean


def test_the_disk_filling_mid_write_says_so_and_a_rerun_with_room_restores_the_counts(staged):
    s, clean = staged
    stages.ingest_stage(s, "first", sources=[SOURCES[0]])
    before = relation_counts(s)
    # No file may grow past 32 KiB (the write-ahead log of the next load does): the write fails with
    # EFBIG, as it would with ENOSPC on a full disk (SIGXFSZ ignored, so the write returns the error).
    limit = 32_768
    body = """
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    try:
        stages.ingest_stage(settings, "full")
        warehouse.init(settings, publish_marts=False)  # the run's model build (the report stage's)
    except warehouse.WarehouseError as exc:
        print("warehouse:", exc)
        sys.exit(2)
    """
    proc = child(s, body, LIMIT=limit)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err[-3000:]
    assert f"warehouse: the disk holding {s.warehouse} is full" in out
    assert "free some space and run again" in out
    after = relation_counts(s)  # the file opens
    assert after["marts.fct_feedback"] in (before["marts.fct_feedback"], clean["marts.fct_feedback"])
    stages.ingest_stage(s, "rerun")
    warehouse.init(s, publish_marts=False)
    assert relation_counts(s) == clean


@pytest.mark.parametrize("content", [None, "", "  \n"])
def test_an_unreadable_or_empty_key_file_is_a_clear_settings_error(tmp_path, content):
    from pipelines.config import Settings, SettingsError

    key_file = tmp_path / "warehouse.key"
    if content is not None:
        key_file.write_text(content, encoding="utf-8")
    env = {"FEEDBACK_DATA_DIR": str(tmp_path), "FEEDBACK_ENCRYPTION_KEY_FILE": str(key_file)}
    with pytest.raises(SettingsError, match=r"FEEDBACK_ENCRYPTION_KEY_FILE .* (cannot be read|is empty)"):
        Settings.from_env(env)
    assert list(tmp_path.iterdir()) == ([key_file] if content is not None else [])  # no warehouse made
