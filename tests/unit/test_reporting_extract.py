"""The PHI-free reporting extract (pipelines/report/extract.py) on the synthetic report warehouse.

The sample warehouse carries planted identifiers in its raw text (``report_sample.PLANTED_PHI``);
more are planted here in raw rows no report reads (quarantine, history), so their absence from
the extract means the copy took the reporting views and nothing else.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import stages, warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.periods import Period
from pipelines.report.extract import ExtractError, write_extract

ROOT = Path(__file__).resolve().parents[2]
# Planted in raw rows that no reporting view reads.
QUARANTINED_PHI = "Bartholomew Quarantinedperson 943 476 5927"
HISTORY_PHI = "Winifred Historyname, 07700 900456"


def _settings(base: Path, **env: str) -> Settings:
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_WAREHOUSE": str(base / "data" / "wh.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(base / "out"),
            "FEEDBACK_SOURCES_DIR": str(base / "sources"),
            **env,
        }
    )


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("extract")
    (base / "sources").mkdir()
    settings = _settings(base)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=400)
        prepare_reporting(settings, con)
        con.execute(
            "insert into raw.quarantine values ('b-x', 'sample_fft', 99, 'F-x', ?, 'parse', 'bad row', now())",
            [json.dumps({"comment": QUARANTINED_PHI})],
        )
        con.execute(
            "insert into raw.feedback_history select * replace (? as text), now() from raw.feedback "
            "where text is not null limit 1",
            [HISTORY_PHI],
        )
        raw = " ".join(r[0] for r in con.execute("select text from raw.feedback where text is not null").fetchall())
    assert all(p in raw for p in sample.PLANTED_PHI), "the sample should plant identifiers in the raw text"
    return settings


@pytest.fixture
def settings(sample_warehouse, tmp_path) -> Settings:
    """The sample warehouse, with the extract written to a fresh folder per test."""
    return sample_warehouse.with_(reporting_extract=tmp_path / "bi" / "reporting.duckdb")


@pytest.fixture(scope="module")
def written(sample_warehouse, tmp_path_factory) -> Path:
    """One extract of the sample warehouse, for the tests that only read it."""
    settings = sample_warehouse.with_(reporting_extract=tmp_path_factory.mktemp("bi") / "reporting.duckdb")
    return _write(settings, "run-meta", Period.month(date(2026, 10, 1)))


def _write(settings: Settings, run_id: str, period=None) -> Path:  # noqa: ANN001
    with warehouse.connect(settings) as con:
        (path,) = write_extract(settings, con, run_id, period)
    return path


def _tables(path: Path) -> dict[str, dict[str, str]]:
    """schema -> {table name: table type} of a DuckDB file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database()"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, str]] = {}
    for schema, name, kind in rows:
        out.setdefault(schema, {})[name] = kind
    return out


def _reporting_views(settings: Settings) -> dict[str, int]:
    with warehouse.connect(settings, read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'reporting'"
            ).fetchall()
        ]
        return {
            n: con.execute("select count(*) from query_table($r)", {"r": f"reporting.{n}"}).fetchone()[0] for n in names
        }


def _meta(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.execute("select * from main.meta").df()
    finally:
        con.close()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_extract_holds_every_reporting_view_as_a_table_and_nothing_else(sample_warehouse, written):
    path = written
    views = _reporting_views(sample_warehouse)
    assert len(views) > 20
    tables = _tables(path)
    # Every view as a table of the same name (data, not views over a PHI file), and the two meta tables.
    assert tables == {"main": dict.fromkeys([*views, "meta", "meta_tables"], "BASE TABLE")}
    con = duckdb.connect(str(path), read_only=True)
    try:
        copied = {n: con.execute("select count(*) from query_table($r)", {"r": n}).fetchone()[0] for n in views}
        listed = dict(con.execute("select table_name, rows from main.meta_tables").fetchall())
        columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
    finally:
        con.close()
    assert copied == views
    assert listed == views
    assert sum(views.values()) > 1000
    assert not columns & {"text", "raw_row"}


def test_planted_identifiers_in_raw_rows_never_reach_the_extract(written):
    path = written
    planted = [*sample.PLANTED_PHI, QUARANTINED_PHI, HISTORY_PHI, "Bartholomew", "Winifred", "943 476 5927"]
    con = duckdb.connect(str(path), read_only=True)
    try:
        leaks = []
        names = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
        for (name,) in names:
            dump = json.dumps(con.execute("select * from query_table($r)", {"r": name}).fetchall(), default=str)
            leaks += [(name, p) for p in planted if p in dump]
        redacted = con.execute("select count(*) from rpt_feedback_comments").fetchone()[0]
    finally:
        con.close()
    assert redacted > 100  # the comments are there, redacted
    assert leaks == []
    assert all(p.encode() not in path.read_bytes() for p in planted)  # nor in a free page of the file


def test_meta_records_run_window_versions_and_source(sample_warehouse, written):
    settings = sample_warehouse
    meta = _meta(written)
    assert meta["run_id"] == "run-meta" and meta["report_period"] == "2026-10"
    assert meta["source_warehouse"] == "wh.duckdb"
    with warehouse.connect(settings, read_only=True) as con:
        window = con.execute("select min(received_local), max(received_local) from marts.fct_feedback").fetchone()
    assert (meta["data_from"], meta["data_to"]) == window
    assert str(window[1])[:7] == "2026-10"
    assert meta["records"] > 300
    versions = json.loads(meta["model_versions"])
    assert {"enrich", "themes"} <= set(versions), versions
    assert json.loads(meta["source_runs"])["enrich"] == sample.SAMPLE_RUN
    assert meta["tables"] == len(_reporting_views(settings))
    assert meta["pipelines_version"] and meta["created_at"] is not None


def test_published_read_only_without_temporary_files(written):
    assert stat.S_IMODE(written.stat().st_mode) == 0o444
    assert sorted(p.name for p in written.parent.iterdir()) == ["reporting.duckdb"]  # no temp file, WAL or Parquet


_READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select run_id from main.meta").fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute("select run_id from main.meta").fetchone()[0], flush=True)
    print(con.execute("select count(*) from rpt_feedback_comments").fetchone()[0], flush=True)
    """
)


def test_a_bi_tool_holding_the_old_extract_does_not_block_the_next_one(settings):
    path = _write(settings, "run-old")
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "run-old"  # the BI tool has the file open
        started = time.monotonic()
        _write(settings, "run-new")
        assert time.monotonic() - started < 60
        out, err = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, err
    still, comments = out.split()
    assert still == "run-old"  # it keeps reading a whole, consistent old file
    assert int(comments) > 100
    assert _meta(path)["run_id"] == "run-new"  # a new connection sees the new extract
    assert stat.S_IMODE(path.stat().st_mode) == 0o444  # the read-only old file was replaced by a read-only new one
    assert sorted(p.name for p in path.parent.iterdir()) == ["reporting.duckdb"]


def test_a_failed_extract_leaves_the_previous_one_and_no_temporary_file(settings, tmp_path):
    path = _write(settings, "run-good")
    broken = settings.with_(warehouse=tmp_path / "broken.duckdb")
    with warehouse.connect(broken) as con:
        con.execute("create schema reporting")
        con.execute("create view reporting.rpt_boom as select error('cannot compute') as x")
        with pytest.raises(ExtractError, match="cannot write the reporting extract"):
            write_extract(broken, con, "run-bad")
        con.execute("create view reporting.rpt_leak as select 'Jane' as text")
        with pytest.raises(ExtractError, match=r"unredacted text columns \['reporting.rpt_leak.text'\]"):
            write_extract(broken, con, "run-bad")
    assert _meta(path)["run_id"] == "run-good"
    assert sorted(p.name for p in path.parent.iterdir()) == ["reporting.duckdb"]


def test_stale_temporary_file_of_a_dead_run_is_removed(settings):
    target = settings.reporting_extract
    target.parent.mkdir(parents=True)
    stale = target.with_name(".reporting.duckdb.999999.tmp")
    stale.write_bytes(b"half a file")
    _write(settings, "run-1")
    assert not stale.exists()


def test_default_path_beside_the_warehouse_and_the_off_switch(tmp_path):
    assert _settings(tmp_path).reporting_extract == tmp_path / "data" / "reporting.duckdb"
    custom = _settings(tmp_path, FEEDBACK_REPORTING_EXTRACT=str(tmp_path / "bi.duckdb"))
    assert custom.reporting_extract == tmp_path / "bi.duckdb"
    for off in ("off", "OFF", "none", "0", "false"):
        assert _settings(tmp_path, FEEDBACK_REPORTING_EXTRACT=off).reporting_extract is None
    off = _settings(tmp_path, FEEDBACK_REPORTING_EXTRACT="off")
    with warehouse.connect(off) as con:
        assert write_extract(off, con, "run-1") == []
    assert not (tmp_path / "data" / "reporting.duckdb").exists()


def test_the_report_stage_writes_the_extract(sample_warehouse, tmp_path):
    settings = sample_warehouse.with_(
        reports_dir=tmp_path / "out", reporting_extract=tmp_path / "bi" / "reporting.duckdb"
    )
    from pipelines.exports import ExportBlocked

    try:
        files = stages.report_stage(settings, "run-stage", period=Period.month(date(2026, 10, 1)))["files"]
    except ExportBlocked as exc:
        # The scan may hold back a page (a Plotly colour-scale name read as a person, on this sample):
        # the stage still wrote the extract before failing, and the extract was not what it held back.
        assert all(f.file != str(settings.reporting_extract) for f in exc.findings), exc.findings
        files = [str(settings.reporting_extract)] if settings.reporting_extract.exists() else []
    assert str(settings.reporting_extract) in files
    assert _meta(settings.reporting_extract)["run_id"] == "run-stage"
    assert os.access(settings.reporting_extract, os.R_OK)


def test_a_report_stage_that_fails_while_the_copy_runs_leaves_the_previous_extract(
    sample_warehouse, tmp_path, monkeypatch
):
    settings = sample_warehouse.with_(
        reports_dir=tmp_path / "out", reporting_extract=tmp_path / "bi" / "reporting.duckdb"
    )
    path = _write(settings, "run-before")
    from pipelines import report

    copying = []
    real_start = report.start_extract

    def start_then_fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        pending = real_start(*args, **kwargs)
        copying.append(pending)
        return pending

    def pages_fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        assert copying and not copying[0]._future.done()  # the copy runs while the pages are written
        raise RuntimeError("a page could not be written")

    monkeypatch.setattr(report, "start_extract", start_then_fail)
    monkeypatch.setattr(report, "write_reports", pages_fail)
    with pytest.raises(RuntimeError, match="a page could not be written"):
        stages.report_stage(settings, "run-failed", period=Period.month(date(2026, 10, 1)), force=True)
    assert _meta(path)["run_id"] == "run-before"
    assert sorted(p.name for p in path.parent.iterdir()) == ["reporting.duckdb"]  # no half-copied file
    with warehouse.connect(settings, read_only=True) as con:
        status = con.execute("select status from ops.stage_runs where run_id = 'run-failed'").fetchone()[0]
    assert status == "failed"


def test_an_encrypted_warehouse_gives_the_same_extract_unencrypted(tmp_path):
    settings = _settings(tmp_path, FEEDBACK_ENCRYPTION_KEY="k" * 32)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=150)
        prepare_reporting(settings, con)
        (path,) = write_extract(settings, con, "run-encrypted")
        views = con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema = 'reporting'"
        ).fetchone()[0]
    assert path == tmp_path / "data" / "reporting.duckdb"
    meta = _meta(path)  # opens without a key
    assert meta["run_id"] == "run-encrypted" and meta["tables"] == views > 20


def test_the_final_privacy_scan_passes_the_real_views_and_blocks_a_leaking_one(settings, tmp_path):
    from pipelines.privacy.scan import ExportScan

    with warehouse.connect(settings) as con:
        guard = ExportScan(settings, con, "run-scanned", record=False)
        (path,) = write_extract(settings, con, "run-scanned", guard=guard)
    assert guard.blocked == [] and guard.files_scanned == 1  # no false alarm on the sample's views

    leaky = settings.with_(warehouse=tmp_path / "leaky.duckdb")
    with warehouse.connect(leaky) as con:
        warehouse.build_models(con, leaky)  # an empty warehouse with every view, plus a leaking one
        con.execute("create view reporting.rpt_note as select 'Please call me back on 07700 900123' as note")
        guard = ExportScan(leaky, con, "run-leaky", record=False)
        assert write_extract(leaky, con, "run-leaky", guard=guard) == []
    (finding,) = guard.blocked
    assert (finding.column, finding.kind) == ("rpt_note.note", "PHONE")
    assert not path.exists()  # the previous extract goes too: it may hold the same text
    assert list(path.parent.iterdir()) == []


def _strings_by_loop(value) -> list[str]:
    # The definition: every non-empty str in a cell, inside lists, structs and maps (keys too).
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_strings_by_loop(k), *_strings_by_loop(v))]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _strings_by_loop(v)]
    return []


class _Recorder:
    """A guard that records what it is shown and finds nothing."""

    def __init__(self) -> None:
        self.cells: dict[str, list[str]] = {}

    def check(self, path, cells):  # noqa: ANN001, ANN201
        self.cells = {k: list(v) for k, v in cells.items()}
        return []


def test_the_scan_is_shown_every_distinct_text_of_every_column_type_once(tmp_path):
    from pipelines.report.extract import _check

    settings = _settings(tmp_path)
    temp = tmp_path / "extract.duckdb"
    con = duckdb.connect(str(temp))
    con.execute(
        """
        create table rpt_a as select * from (values
            ('b', 1, 1.5, true, timestamp '2026-01-01', ['x', 'b', null, ''], 'Mrs Smith',
             {'who': 'Dr Jones', 'n': 1}, map(['k'], ['Ward 7']), [['deep']], '{"a": "j"}'::json, uuid()),
            (null, 2, null, false, null, null, 'Mrs Smith', null, null, null, null, uuid()),
            ('a', null, 2.5, null, timestamp '2026-02-01', ['y'], '', {'who': 'Dr Jones', 'n': 2},
             map(['k'], ['Ward 8']), [['deep', 'er']], null, null),
            ('b', 3, 0.5, true, timestamp '2026-03-01', [], 'Ward 5', {'who': null, 'n': 3}, null, [], null, uuid())
        ) t(s, i, f, b, ts, l, quote, st, m, ll, j, u)
        """
    )
    con.execute("create table rpt_b as select 'only' as s, 1 as i")
    con.execute("create table rpt_empty as select 'never' as s limit 0")
    expected: dict[str, list[str]] = {}
    for table in ("rpt_a", "rpt_b", "rpt_empty"):
        names = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
        for index, column in enumerate(names):
            rows = con.execute(f"select * from {table}").fetchall()
            texts = list(dict.fromkeys(t for row in rows for t in _strings_by_loop(row[index])))
            if texts:
                expected[f"{table}.{column}"] = texts
    con.close()

    guard = _Recorder()
    _check(settings, temp, tmp_path / "reporting.duckdb", guard)
    assert {k: sorted(v) for k, v in guard.cells.items()} == {k: sorted(v) for k, v in expected.items()}
    assert guard.cells["rpt_a.s"] == ["b", "a"]  # once each, in order of first appearance
    assert guard.cells["rpt_a.l"] == ["x", "b", "y"]
    assert guard.cells["rpt_a.st"] == ["who", "Dr Jones", "n"] and guard.cells["rpt_a.ll"] == ["deep", "er"]
    assert sorted(guard.cells["rpt_a.m"]) == ["Ward 7", "Ward 8", "k"]
    assert "rpt_a.i" not in guard.cells and "rpt_a.u" not in guard.cells and "rpt_empty.s" not in guard.cells
