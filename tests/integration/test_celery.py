"""The DAG chain through CeleryExecutor on the real Redis and PostgreSQL servers on localhost.

Starts what the compose file runs, as local processes: an api-server (the Execution API the
workers talk to), a scheduler, a dag-processor and two ``airflow celery worker`` processes
(concurrency 2 each), with PostgreSQL as the metadata DB and Celery result backend (a database
created for the test and dropped after it) and Redis as the broker (a dedicated DB number,
flushed before and after). The scheduler runs ``feedback_ingest`` (its latest cron run) on 200
demo records; its asset event triggers ``feedback_enrich``, and so on down the chain. Every task
must run on a Celery worker.

The whole chain (ingest -> enrich -> themes -> report) took 3.7 min here on 2 shared cores, the
BERTopic refit being most of it. On a machine too loaded for the 8-minute budget, set
``FEEDBACK_CELERY_SHORT_CHAIN=1`` to stop after enrich (``feedback_themes`` and
``feedback_report`` are then left out of the DAGs folder).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

SHORT_CHAIN = os.environ.get("FEEDBACK_CELERY_SHORT_CHAIN") == "1"
DAGS = ("feedback_ingest", "feedback_enrich", *(() if SHORT_CHAIN else ("feedback_themes", "feedback_report")))
DEADLINE_S = 440  # setup and the DAG runs; the rest of the 8 minutes is for stopping the processes

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(480)]

PG_HOST, PG_PORT, PG_ADMIN_DB = "127.0.0.1", 5432, "test"
DATABASE = "airflow_celery_test"
REDIS_URL = "redis://127.0.0.1:6379/11"  # a DB number no other test uses; flushed before and after
BIN = Path(sys.executable).parent


def _admin_connection():  # noqa: ANN202 - psycopg2 is imported lazily
    import psycopg2

    errors = []
    for user in ("postgres", "root"):
        try:
            con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_ADMIN_DB, connect_timeout=3)
            con.autocommit = True
            return con, user
        except psycopg2.OperationalError as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}: {'; '.join(errors)}")


@pytest.fixture(scope="module")
def metadata_db() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's metadata and Celery's results; dropped afterwards."""
    con, user = _admin_connection()
    with con.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")
        cur.execute(f"create database {DATABASE}")
    try:
        yield f"{user}@{PG_HOST}:{PG_PORT}/{DATABASE}"
    finally:
        with con.cursor() as cur:
            cur.execute(f"drop database if exists {DATABASE} with (force)")
        con.close()


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    """The Redis broker URL (its DB flushed before and after)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Long-running Airflow processes, each in its own process group, logged to files."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs, self.env, self.procs = logs, env, {}

    def start(self, name: str, *args: str) -> None:
        """Start ``airflow <args>`` in a new session (so its children are stopped with it)."""
        out = (self.logs / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen(
            [str(BIN / "airflow"), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def check_alive(self) -> None:
        """Fail with the log tail of any process that has exited."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        """The last lines of one process's log."""
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is left after 20 s (Celery children linger)."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # the group may outlive its leader
            proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _airflow(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    out = subprocess.run(
        [str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert out.returncode == 0, f"airflow {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def _environment(tmp: Path, db: str, broker_url: str, api_port: int) -> dict[str, str]:
    """One environment for every process, like the compose file's shared env (one secret set)."""
    from cryptography.fernet import Fernet

    dags = tmp / "dags"
    dags.mkdir()
    for name in ("_common", *DAGS):  # only the DAGs this run exercises are parsed
        (dags / f"{name}.py").symlink_to(ROOT / "dags" / f"{name}.py")
    data = tmp / "feedback"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FEEDBACK_"))},
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{db}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        # The machine is shared and loaded: Airflow's defaults (1 s to reach Redis, 5 s for an Execution API
        # call) time out, and a retried "start task" call is refused, failing the task.
        "AIRFLOW__CELERY__OPERATION_TIMEOUT": "30",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "120",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
        "TOKENIZERS_PARALLELISM": "false",
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(data / "data"),
        "FEEDBACK_WAREHOUSE": str(data / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(data / "reports"),
        "FEEDBACK_SOURCES_DIR": str(ROOT / "config" / "sources"),
        "FEEDBACK_GX_DIR": str(data / "gx"),
    }


def _wait_http(url: str, procs: Processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a localhost URL we built
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s")


def _query(db: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    user_host, dbname = db.split("/")
    user, host_port = user_host.split("@")
    host, port = host_port.split(":")
    with psycopg2.connect(host=host, port=int(port), user=user, dbname=dbname) as con, con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _wait_for(what: str, check, procs: Processes, deadline: float) -> None:  # noqa: ANN001
    while time.monotonic() < deadline:
        procs.check_alive()
        if check():
            return
        time.sleep(3)
    pytest.fail(f"timed out waiting for {what}\n" + "\n".join(f"--- {n}\n{procs.tail(n)}" for n in procs.procs))


def _patient_texts(demo: Path) -> set[str]:
    """Free-text answers in the demo exports (five words or more: site and service names are shorter)."""
    values: list[str] = []
    for path in demo.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as f:
            values += [v for row in csv.DictReader(f) for v in row.values() if v]
    for path in demo.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            values += [v for v in json.loads(line).values() if isinstance(v, str)]
    return {v.strip() for v in values if len(v.split()) >= 5 and len(v) >= 30}


@pytest.fixture(scope="module")
def celery_run(tmp_path_factory, metadata_db, broker) -> Iterator[dict]:  # noqa: D103
    started = time.monotonic()
    deadline = started + DEADLINE_S
    tmp = tmp_path_factory.mktemp("celery")
    api_port = _free_port()
    env = _environment(tmp, metadata_db, broker, api_port)
    subprocess.run(
        [str(BIN / "feedback"), "demo-data", "--rows", "200"], env=env, check=True, capture_output=True, timeout=120
    )
    _airflow(env, "db", "migrate", timeout=400)
    _airflow(env, "pools", "set", "feedback_duckdb", "1", "DuckDB allows one writer")
    logs = tmp / "process-logs"
    logs.mkdir()
    procs = Processes(logs, env)
    try:
        procs.start("api-server", "api-server", "--workers", "1")
        procs.start("scheduler", "scheduler")
        procs.start("dag-processor", "dag-processor")
        for i in (1, 2):  # two worker processes; the log server is skipped (both would take port 8793)
            procs.start(f"worker{i}", "celery", "worker", "-c", "2", "-H", f"worker{i}@%h", "--skip-serve-logs")
        _wait_http(f"http://127.0.0.1:{api_port}/api/v2/version", procs, timeout=180)
        # No manual trigger: once parsed, the scheduler itself creates feedback_ingest's run for its latest
        # cron time (catchup=False); a trigger on top would make a second run of the whole chain.

        def chain_done() -> bool:
            runs = _query(metadata_db, "select dag_id, state from dag_run")
            failed = [r for r in runs if r[1] == "failed"]
            assert not failed, f"DAG runs failed: {failed}\n" + "\n".join(procs.tail(n) for n in procs.procs)
            return {d for d, s in runs if s == "success"} >= set(DAGS)

        def results_settled() -> bool:
            # A task instance is marked success by the task runner before its Celery task returns and
            # the worker writes the result: wait for the backend to hold a final state for every task.
            tis = _query(metadata_db, "select count(*) from task_instance")[0][0]
            results = _query(metadata_db, "select status from celery_taskmeta")
            return len(results) >= tis and all(s in ("SUCCESS", "FAILURE") for (s,) in results)

        _wait_for("the DAG runs to succeed", chain_done, procs, deadline)
        _wait_for("the Celery results to settle", results_settled, procs, deadline)
        yield {"db": metadata_db, "env": env, "logs": logs, "tmp": tmp, "seconds": time.monotonic() - started}
    finally:
        procs.stop()


def test_every_task_ran_on_a_celery_worker(celery_run):
    db = celery_run["db"]
    tis = _query(db, "select dag_id, task_id, map_index, state, hostname from task_instance")
    assert {d for d, *_ in tis} == set(DAGS)
    assert all(state == "success" for *_, state, _host in tis), tis
    # Each task went through the broker: one Celery result per task instance, all successful.
    results = _query(db, "select status from celery_taskmeta")
    assert len(results) == len(tis) and {s for (s,) in results} == {"SUCCESS"}, (results, tis)
    received = {
        name: len(
            re.findall(r"Task \S*execute_workload\[[^\]]+\] received", (celery_run["logs"] / f"{name}.log").read_text())
        )
        for name in ("worker1", "worker2")
    }
    assert sum(received.values()) == len(tis), received
    print(f"chain {DAGS} through Celery in {celery_run['seconds']:.0f} s; tasks per worker: {received}")


def test_each_dag_was_triggered_by_the_asset_event_before_it_with_metadata(celery_run):
    db = celery_run["db"]
    runs = dict(_query(db, "select dag_id, run_type from dag_run"))
    assert runs["feedback_ingest"] == "scheduled"
    assert runs["feedback_enrich"] == "asset_triggered"
    events = {
        uri: extra
        for uri, extra in _query(
            db, "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id order by e.id"
        )
    }
    raw = events["feedback://warehouse/raw"]
    assert raw["rows_in"] == raw["rows_out"] > 0
    assert raw["sources"].split(",") == ["demo_complaints", "demo_fft", "demo_nps", "demo_suggestion_box"]
    enriched = events["feedback://warehouse/enriched"]
    assert enriched["rows_in"] > 0 and enriched["sentiment_model_version"] and enriched["redactor_version"]
    if SHORT_CHAIN:
        return
    assert runs["feedback_themes"] == runs["feedback_report"] == "asset_triggered"
    themed = events["feedback://warehouse/themed"]
    assert themed["rows_out"] > 0 and themed["theme_model_version"].startswith("themes-")
    assert events["feedback://reports/all"]["rows_out"] > 0


def test_mapped_ingest_tasks_are_named_after_their_source(celery_run):
    names = _query(
        celery_run["db"],
        "select rendered_map_index from task_instance where task_id = 'ingest_source' order by map_index",
    )
    assert [n for (n,) in names] == ["demo_complaints", "demo_fft", "demo_nps", "demo_suggestion_box"]


def test_partition_tasks_ran_mapped_on_the_workers_and_left_no_partition_files(celery_run):
    """Redaction and scoring ran as one mapped task per Parquet partition, loaded once, files removed."""
    rows = _query(
        celery_run["db"],
        "select task_id, rendered_map_index, hostname from task_instance where task_id in ('redact', 'score', 'embed')"
        " order by task_id, map_index",
    )
    by_task: dict[str, list[str]] = {}
    for task_id, name, _host in rows:
        by_task.setdefault(task_id, []).append(name)
    assert len(by_task["redact"]) >= 2 and len(by_task["score"]) >= 2, by_task
    count = len(by_task["redact"])
    assert [n.split(" (")[0] for n in by_task["redact"]] == [f"redact {i + 1}/{count}" for i in range(count)]
    if not SHORT_CHAIN:
        assert by_task.get("embed"), by_task
    warehouse_dir = Path(celery_run["env"]["FEEDBACK_WAREHOUSE"]).parent
    assert not (warehouse_dir / "partitions").exists() or not any((warehouse_dir / "partitions").rglob("*.parquet"))


def test_task_logs_hold_no_patient_text(celery_run):
    texts = _patient_texts(Path(celery_run["env"]["FEEDBACK_DATA_DIR"]) / "demo")
    assert len(texts) > 50  # the check below has something to find
    logs = [p for p in Path(celery_run["env"]["AIRFLOW_HOME"], "logs").rglob("*") if p.is_file()]
    logs += list(celery_run["logs"].glob("*.log"))
    assert any("ingest_source" in str(p) for p in logs), "no task logs were written"
    leaked = {p.name: t[:40] for p in logs for t in texts if t in p.read_text(errors="replace")}
    assert not leaked, f"patient text in logs: {leaked}"
