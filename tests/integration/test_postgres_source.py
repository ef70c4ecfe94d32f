"""A complaints table in a real PostgreSQL server, read incrementally through SQLAlchemy.

Needs the server on 127.0.0.1:5432 (trust auth, database ``test``); the test starts the local
cluster if it is installed but stopped, and skips with the reason otherwise. Everything lives in
a uniquely named schema that is dropped at the end.
"""

from __future__ import annotations

import glob
import subprocess
import textwrap
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from pipelines.ingest import load as ingest
from tests.fixtures.ingest.helpers import query, shared_gx_dir, write_source

pytestmark = pytest.mark.postgres

HOST, PORT, DATABASE = "127.0.0.1", 5432, "test"


def _connect():  # noqa: ANN202
    import psycopg2

    errors = []
    for user in ("postgres", "root"):
        try:
            con = psycopg2.connect(host=HOST, port=PORT, user=user, dbname=DATABASE, connect_timeout=3)
            con.autocommit = True
            return con, user
        except psycopg2.OperationalError as exc:
            errors.append(f"{user}: {str(exc).strip()}")
    raise ConnectionError("; ".join(errors))


@pytest.fixture(scope="module")
def postgres():
    """(connection, user) to the server, starting the local cluster once if needed."""
    try:
        con, user = _connect()
    except ConnectionError as first:
        versions = sorted(p.rsplit("/", 1)[-1] for p in glob.glob("/etc/postgresql/*"))
        if not versions:
            pytest.skip(f"PostgreSQL not reachable on {HOST}:{PORT} and not installed here ({first})")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            capture_output=True,
            timeout=60,
        )
        try:
            con, user = _connect()
        except ConnectionError as second:
            pytest.skip(f"PostgreSQL not reachable on {HOST}:{PORT} even after pg_ctlcluster start ({second})")
    yield con, user
    con.close()


@pytest.fixture
def schema(postgres):
    con, user = postgres
    name = f"feedback_it_{uuid.uuid4().hex[:10]}"
    with con.cursor() as cur:
        cur.execute(f"create schema {name}")
        cur.execute(
            f"""create table {name}.complaints (
                complaint_ref text primary key, received_date timestamptz not null, site text, service text,
                category text, severity text, status text, acknowledged_date timestamptz, closed_date timestamptz,
                contact_count integer, handling_minutes integer, description text,
                updated_at timestamptz not null)"""
        )
    yield name, user
    with con.cursor() as cur:
        cur.execute(f"drop schema {name} cascade")


def _insert(con, schema: str, rows: list[tuple]) -> None:  # noqa: ANN001
    with con.cursor() as cur:
        cur.executemany(f"insert into {schema}.complaints values ({', '.join(['%s'] * 13)})", rows)


def test_complaints_table_ingests_incrementally_and_updates_keep_history(postgres, schema, settings, monkeypatch):
    con, _ = postgres
    name, user = schema
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    _insert(
        con,
        name,
        [
            (
                "PG-1",
                t0,
                "Riverside Infirmary",
                "ED",
                "Waiting times",
                "moderate",
                "open",
                None,
                None,
                1,
                20,
                "Waited nine hours",
                t0,
            ),
            (
                "PG-2",
                t0 + timedelta(hours=1),
                "Riverside Infirmary",
                "Finance",
                "Billing",
                "low",
                "acknowledged",
                t0 + timedelta(days=2),
                None,
                2,
                45,
                "Charged twice",
                t0 + timedelta(days=2),
            ),
            (
                "PG-3",
                t0 + timedelta(hours=2),
                "Northgate General Hospital",
                "Maternity",
                "Communication",
                "high",
                "open",
                None,
                None,
                1,
                15,
                "No results for three weeks",
                t0 + timedelta(hours=2),
            ),
        ],
    )
    monkeypatch.setenv("TEST_PG_COMPLAINTS_URL", f"postgresql+psycopg2://{user}@{HOST}:{PORT}/{DATABASE}")
    write_source(
        settings,
        "pg_complaints",
        textwrap.dedent(f"""
        stream: complaint
        preset: complaints
        format: sql
        url_env: TEST_PG_COMPLAINTS_URL
        table: {name}.complaints
        watermark_column: updated_at
        timezone: Europe/London
        country: GB
        """),
    )
    s = settings.with_(gx_dir=shared_gx_dir())

    (first,) = ingest.ingest_all(s)
    assert (first.status, first.rows_read, first.rows_loaded, first.rows_quarantined) == ("success", 3, 3, 0)
    state = query(s, "select watermark, watermark_type from raw.source_state where source = 'pg_complaints'")
    assert state.iat[0, 1] == "timestamptz"
    assert datetime.fromisoformat(state.iat[0, 0]) == t0 + timedelta(days=2)

    # The complaint is closed in the complaints system: only changed rows are pulled again.
    with con.cursor() as cur:
        cur.execute(
            f"update {name}.complaints set status = 'closed', closed_date = %s, contact_count = 3, updated_at = %s "
            "where complaint_ref = 'PG-1'",
            (t0 + timedelta(days=10), t0 + timedelta(days=10)),
        )
    (second,) = ingest.ingest_all(s)
    assert (second.rows_read, second.rows_updated, second.rows_inserted, second.rows_duplicate) == (2, 1, 0, 1)

    current = query(s, "select response_id, complaint_status, closed_at, received_at from raw.feedback order by 1")
    assert current["response_id"].tolist() == ["PG-1", "PG-2", "PG-3"]  # one complaint, never a second
    assert current["complaint_status"].tolist() == ["closed", "acknowledged", "open"]
    assert str(current["received_at"].iat[0]) == "2026-03-01 09:00:00+00:00"  # timestamptz kept its instant
    history = query(
        s, "select complaint_status from raw.feedback_history where response_id = 'PG-1' order by valid_from"
    )
    assert history["complaint_status"].tolist() == ["open", "closed"]  # two history rows


def test_query_file_with_null_safe_watermark(postgres, schema, settings, tmp_path, monkeypatch):
    con, _ = postgres
    name, user = schema
    t0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    _insert(
        con,
        name,
        [
            (
                f"Q-{i}",
                t0,
                "Riverside Infirmary",
                "ED",
                "Other",
                "low",
                "open",
                None,
                None,
                1,
                10,
                f"Complaint {i}",
                t0 + timedelta(minutes=i),
            )
            for i in range(3)
        ],
    )
    sql = tmp_path / "pull.sql"
    sql.write_text(
        f"select * from {name}.complaints where :watermark is null or updated_at >= :watermark order by updated_at"
    )
    monkeypatch.setenv("TEST_PG_COMPLAINTS_URL", f"postgresql+psycopg2://{user}@{HOST}:{PORT}/{DATABASE}")
    write_source(
        settings,
        "pg_query",
        "stream: complaint\npreset: complaints\nformat: sql\n"
        f"url_env: TEST_PG_COMPLAINTS_URL\nquery: {sql}\nwatermark_column: updated_at\n",
    )
    s = settings.with_(gx_dir=shared_gx_dir())
    assert ingest.ingest_all(s)[0].rows_loaded == 3
    again = ingest.ingest_all(s)[0]
    assert (again.rows_read, again.rows_duplicate) == (1, 1)  # only the boundary row


def _complaint(ref: str, received: datetime, updated: datetime) -> tuple:
    return (ref, received, "Riverside Infirmary", "ED", "Waiting times", "low", "open", None, None, 1, 10,
            "Waited too long", updated)  # fmt: skip


# Around the clock change of 29 March 2026 (BST): a London-midnight cut is 00:00 UTC before, 23:00 UTC after.
WINDOW_ROWS = [
    ("W-feb", datetime(2026, 2, 28, 23, 30, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),  # 28 Feb in London
    ("W-mar-1", datetime(2026, 3, 1, 0, 30, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)),
    ("W-mar-31", datetime(2026, 3, 31, 22, 30, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC)),  # 23:30 on 31 Mar BST
    ("W-apr-1", datetime(2026, 3, 31, 23, 30, tzinfo=UTC), datetime(2026, 4, 4, tzinfo=UTC)),  # 00:30 on 1 Apr BST
]


def test_window_pull_cuts_timestamptz_at_the_sources_local_midnight(postgres, schema):
    from pipelines.periods import DateWindow
    from pipelines.sources.base import parse_source_config
    from pipelines.sources.sql import pull

    con, _ = postgres
    name, user = schema
    _insert(con, name, [_complaint(*r) for r in WINDOW_ROWS])
    config = parse_source_config(
        {
            "name": "pg",
            "stream": "complaint",
            "preset": "complaints",
            "format": "sql",
            "connection": "feedback_pg",
            "table": f"{name}.complaints",
            "watermark_column": "updated_at",
            "timezone": "Europe/London",
        }
    )
    urls = {"feedback_pg": f"postgresql+psycopg2://{user}@{HOST}:{PORT}/{DATABASE}"}
    march = pull(config, None, None, {}, urls=urls, window=DateWindow(date(2026, 3, 1), date(2026, 3, 31)))
    assert march.rows.frame["complaint_ref"].tolist() == ["W-mar-1", "W-mar-31"]
    assert march.watermark is None  # a backfill leaves the watermark alone
    everything = pull(config, None, None, {}, urls=urls)
    assert len(everything.rows.frame) == 4 and datetime.fromisoformat(everything.watermark).day == 4


@pytest.fixture
def dag_env(airflow_home, tmp_path, monkeypatch):
    """FEEDBACK_* paths in a fresh folder, as the DAG tasks read them from the environment."""
    from pipelines.config import Settings

    (tmp_path / "sources").mkdir()
    env = {
        "FEEDBACK_DATA_DIR": str(tmp_path / "data"),
        "FEEDBACK_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(tmp_path / "reports"),
        "FEEDBACK_SOURCES_DIR": str(tmp_path / "sources"),
        "FEEDBACK_GX_DIR": str(shared_gx_dir()),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


def test_airflow_connection_and_backfill_window_in_a_dag_run(postgres, schema, dag_env, monkeypatch):
    """feedback_ingest through dag.test(): the source names an Airflow connection defined by AIRFLOW_CONN_*."""
    import feedback_ingest

    con, _ = postgres
    name, user = schema
    _insert(con, name, [_complaint(*r) for r in WINDOW_ROWS])
    monkeypatch.setenv("AIRFLOW_CONN_FEEDBACK_PG", f"postgresql://{user}@{HOST}:{PORT}/{DATABASE}")
    monkeypatch.delenv("FEEDBACK_PG_URL", raising=False)
    (dag_env.sources_dir / "pg_complaints.yaml").write_text(
        f"stream: complaint\npreset: complaints\nformat: sql\nconnection: feedback_pg\n"
        f"table: {name}.complaints\nwatermark_column: updated_at\ntimezone: Europe/London\n",
        encoding="utf-8",
    )

    backfill = feedback_ingest.dag.test(run_conf={"start": "2026-03-01", "end": "2026-03-31"})
    assert backfill.state == "success", [(t.task_id, t.state) for t in backfill.get_task_instances()]
    loaded = query(dag_env, "select response_id from raw.feedback order by 1")["response_id"].tolist()
    assert loaded == ["W-mar-1", "W-mar-31"]
    assert query(dag_env, "select watermark from raw.source_state")["watermark"].isna().all()

    # No window: the watermark pull takes everything new. The empty window is passed explicitly because
    # in one process a run's conf stays in the DAG object's params (Airflow's ParamsDict resolves the
    # conf into the DAG's own Param objects); a worker runs each task in a fresh process.
    daily = feedback_ingest.dag.test(run_conf={"start": None, "end": None})
    assert daily.state == "success"
    loaded = query(dag_env, "select response_id from raw.feedback order by 1")["response_id"].tolist()
    assert loaded == ["W-apr-1", "W-feb", "W-mar-1", "W-mar-31"]
    batches = query(dag_env, "select location, rows_loaded, rows_duplicate from raw.ingest_batches order by started_at")
    assert batches["location"].tolist()[0].endswith("dated 2026-03-01 to 2026-03-31")
    assert batches[["rows_loaded", "rows_duplicate"]].values.tolist() == [[2, 0], [2, 2]]
