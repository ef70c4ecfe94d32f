"""Backfill windows (pipelines.periods.DateWindow) and Airflow-connection URLs for SQL sources.

The SQL pulls run on SQLite here; tests/integration/test_postgres_source.py runs them on a real
PostgreSQL server, and through an Airflow connection in a DAG run.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from pipelines.periods import DateWindow, Period, window_period
from pipelines.sources.base import parse_source_config
from pipelines.sources.sql import connection_url, pull
from pipelines.sources.types import SourceConfig, SourceError


def sql_config(**extra) -> SourceConfig:
    raw = {"name": "db", "stream": "complaint", "preset": "complaints", "format": "sql", **extra}
    raw.setdefault("url_env", "DB_URL")
    return parse_source_config(raw)


@pytest.fixture
def db(tmp_path):
    """Complaints received from January to April; updated_at is the watermark."""
    path = tmp_path / "c.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table complaints (complaint_ref text, received_date text, logged_on text, updated_at text)")
    con.executemany(
        "insert into complaints values (?,?,?,?)",
        [
            ("jan", "2026-01-15", "2026-01-16", "2026-05-01"),
            ("feb-1", "2026-02-01", "2026-02-03", "2026-05-02"),
            ("feb-28", "2026-02-28 23:59:00", "2026-03-01", "2026-05-03"),
            ("mar", "2026-03-01 00:00:00", "2026-03-02", "2026-05-04"),
            ("apr", "2026-04-10", "2026-04-11", "2026-05-05"),
        ],
    )
    con.commit()
    return {"DB_URL": f"sqlite:///{path}"}


# --- windows ------------------------------------------------------------------------------------


def test_window_values():
    assert not DateWindow().bounded and DateWindow(end=date(2026, 1, 31)).bounded
    assert DateWindow(date(2026, 1, 1), date(2026, 1, 31)).end_exclusive == date(2026, 2, 1)
    assert str(DateWindow(date(2026, 1, 1))) == "2026-01-01 to ..."
    with pytest.raises(ValueError, match="after its end"):
        DateWindow(date(2026, 2, 1), date(2026, 1, 31))


def test_report_period_of_a_window_of_whole_months():
    assert window_period(DateWindow(date(2026, 2, 1), date(2026, 2, 28))) == Period.month(date(2026, 2, 1))
    assert window_period(DateWindow(date(2026, 4, 1), date(2026, 6, 30))).key == "2026-Q2"
    assert window_period(DateWindow(date(2026, 2, 1), date(2026, 4, 30))).key == "2026-02-to-2026-04"
    for start, end in [(date(2026, 2, 2), date(2026, 2, 28)), (date(2026, 2, 1), date(2026, 2, 27))]:
        with pytest.raises(ValueError, match="whole months"):
            window_period(DateWindow(start, end))
    with pytest.raises(ValueError, match="both start and end"):
        window_period(DateWindow(date(2026, 2, 1)))
    with pytest.raises(ValueError, match="at most 12 months"):
        window_period(DateWindow(date(2025, 1, 1), date(2026, 1, 31)))


def test_table_pull_in_a_window_filters_on_the_received_column_and_keeps_the_watermark(db):
    cfg = sql_config(table="complaints", watermark_column="updated_at")  # preset: received_at <- received_date
    february = DateWindow(date(2026, 2, 1), date(2026, 2, 28))
    got = pull(cfg, "2026-05-05", "text", db, window=february)
    assert got.rows.frame["complaint_ref"].tolist() == ["feb-1", "feb-28"]  # whatever the watermark says
    assert (got.watermark, got.watermark_type) == ("2026-05-05", "text")  # a backfill does not move it
    assert got.location == "sql:complaints dated 2026-02-01 to 2026-02-28"
    assert pull(cfg, None, None, db, window=DateWindow(start=date(2026, 3, 1))).rows.frame[
        "complaint_ref"
    ].tolist() == ["mar", "apr"]
    assert pull(cfg, None, None, db, window=DateWindow()).watermark == "2026-05-05"  # unbounded = incremental


def test_table_pull_in_a_window_on_a_named_date_column(db):
    cfg = sql_config(table="complaints", date_column="logged_on")
    got = pull(cfg, None, None, db, window=DateWindow(date(2026, 3, 1), date(2026, 3, 31)))
    assert got.rows.frame["complaint_ref"].tolist() == ["feb-28", "mar"]
    with pytest.raises(SourceError, match="no column 'nope' to window on"):
        pull(sql_config(table="complaints", date_column="nope"), None, None, db, window=DateWindow(date(2026, 3, 1)))


def test_query_file_in_a_window_gets_the_dates_and_must_use_them(db, tmp_path):
    query = tmp_path / "pull.sql"
    query.write_text(
        "select * from complaints where (:watermark is null or updated_at >= :watermark)"
        " and (:window_start is null or received_date >= :window_start)"
        " and (:window_end is null or received_date < date(:window_end, '+1 day')) order by updated_at"
    )
    cfg = sql_config(query=str(query), watermark_column="updated_at")
    got = pull(cfg, "2026-05-04", "text", db, window=DateWindow(date(2026, 1, 1), date(2026, 2, 28)))
    assert got.rows.frame["complaint_ref"].tolist() == ["jan", "feb-1", "feb-28"]
    assert got.watermark == "2026-05-04"
    plain = pull(cfg, "2026-05-04", "text", db)  # no window: both NULL, the watermark applies
    assert plain.rows.frame["complaint_ref"].tolist() == ["mar", "apr"]
    bare = tmp_path / "bare.sql"
    bare.write_text("select * from complaints")
    with pytest.raises(
        SourceError, match="cannot be restricted to a window: it must use :window_start and :window_end"
    ):
        pull(sql_config(query=str(bare)), None, None, db, window=DateWindow(date(2026, 1, 1)))
    assert len(pull(sql_config(query=str(bare)), None, None, db).rows.frame) == 5


# --- Airflow connections --------------------------------------------------------------------------


def test_connection_key_replaces_or_backs_up_url_env(db):
    only = sql_config(table="complaints", connection="feedback_db", url_env=None)
    assert (only.connection, only.url_env) == ("feedback_db", None)
    got = pull(only, None, None, {}, urls={"feedback_db": db["DB_URL"]})
    assert len(got.rows.frame) == 5
    with pytest.raises(SourceError, match="Airflow connection 'feedback_db', which only an Airflow task resolves"):
        pull(only, None, None, db)
    both = sql_config(table="complaints", connection="feedback_db")
    assert len(pull(both, None, None, db).rows.frame) == 5  # outside Airflow: the variable
    with pytest.raises(SourceError, match="not resolved .* and environment variable DB_URL"):
        pull(both, None, None, {})
    with pytest.raises(SourceError) as err:
        pull(only, None, None, {}, urls={"feedback_db": "postgresql://u:hunter2@127.0.0.1:1/x"})
    assert "hunter2" not in str(err.value) and "feedback_db" in str(err.value)


def test_connection_config_checks():
    with pytest.raises(SourceError, match="needs 'url_env' .* or 'connection'"):
        sql_config(table="complaints", url_env=None)
    with pytest.raises(SourceError, match="must be an Airflow connection id"):
        sql_config(table="complaints", connection="bad id; drop")
    csv = {"name": "f", "stream": "survey", "preset": "fft", "format": "csv", "path": "x.csv"}
    for key in ("connection", "date_column"):
        with pytest.raises(SourceError, match=f"'{key}' is for sql sources"):
            parse_source_config({**csv, key: "x"})


def test_connection_url_from_airflow_connection_fields():
    assert connection_url("postgres", "db.local", "reader", None, 5432, "feedback") == (
        "postgresql+psycopg2://reader@db.local:5432/feedback"
    )
    assert connection_url("postgres", "h", "u", "p@ss:/w?rd", None, "d", {"query": {"sslmode": "require"}}) == (
        "postgresql+psycopg2://u:p%40ss%3A%2Fw%3Frd@h/d?sslmode=require"
    )
    assert connection_url("generic", "h", extra={"sqlalchemy_scheme": "postgresql+psycopg"}).startswith(
        "postgresql+psycopg://h/"
    )
    with pytest.raises(SourceError, match="no SQLAlchemy driver"):
        connection_url("http", "h")
    import sqlalchemy as sa

    url = sa.make_url(connection_url("postgres", "h", "u", "p@ss:/w?rd", 5433, "d"))
    assert (url.username, url.password, url.host, url.port, url.database) == ("u", "p@ss:/w?rd", "h", 5433, "d")


# --- a windowed ingest through the stage the DAG calls ---------------------------------------------

_COLUMNS = (
    "complaint_ref text, received_date text, site text, service text, category text, severity text, status text,"
    " acknowledged_date text, closed_date text, contact_count integer, handling_minutes integer, description text,"
    " updated_at text"
)


def test_windowed_ingest_stage_loads_only_the_window_and_skips_file_sources(settings):
    from pipelines import stages
    from tests.fixtures.ingest.helpers import query, stage, write_source

    path = settings.data_dir / "complaints.sqlite"
    con = sqlite3.connect(path)
    con.execute(f"create table complaints ({_COLUMNS})")
    rows = [(f"C-{m}", f"2026-0{m}-10", "Riverside Infirmary", "ED", "Waiting times", "low", "open") for m in (1, 2, 3)]
    con.executemany(
        "insert into complaints values (?,?,?,?,?,?,?,null,null,1,10,'Waited too long',?)",
        [(*r, f"2026-04-0{i + 1}") for i, r in enumerate(rows)],
    )
    con.commit()
    con.close()
    s = stage(settings, ["fft_csv"], source_urls={"complaints_db": f"sqlite:///{path}"})
    write_source(
        s,
        "db_complaints",
        "stream: complaint\npreset: complaints\nformat: sql\nconnection: complaints_db\n"
        "table: complaints\nwatermark_column: updated_at\n",
    )

    summary = stages.ingest_stage(s, "run-backfill", start=date(2026, 2, 1), end=date(2026, 2, 28))
    batches = {b["source"]: b for b in summary["batches"]}
    assert batches["db_complaints"]["rows_loaded"] == 1
    assert (
        batches["fft_csv"]["status"] == "no window" and "applies to SQL sources only" in batches["fft_csv"]["message"]
    )
    assert query(s, "select response_id from raw.feedback")["response_id"].tolist() == ["C-2"]
    assert query(s, "select watermark from raw.source_state where source = 'db_complaints'")["watermark"].isna().all()

    summary = stages.ingest_stage(s, "run-daily")  # no window: everything new, files too
    assert sorted(query(s, "select response_id from raw.feedback where channel = 'complaint'")["response_id"]) == [
        "C-1",
        "C-2",
        "C-3",
    ]
    assert query(s, "select count(*) as n from raw.feedback where source = 'fft_csv'")["n"].iat[0] > 0
    state = query(s, "select watermark from raw.source_state where source = 'db_complaints'")
    assert state["watermark"].tolist() == ["2026-04-03"]
