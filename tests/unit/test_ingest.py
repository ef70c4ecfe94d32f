"""Ingestion end to end on the preset fixtures: counts, idempotence, updates, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.ingest import load as ingest
from tests.conftest import ROOT
from tests.fixtures.ingest.helpers import counts, make_settings, query, shared_gx_dir, stage, write_source

ALL_PRESET_SOURCES = [
    "fft_csv",
    "fft_xlsx",
    "nps_csv",
    "hcahps_csv",
    "suggestions_jsonl",
    "suggestion_cards_csv",
    "complaints_csv",
    "fhir_bundle",
    "fhir_nps",
]
# source -> (rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_skipped, records in raw.feedback)
EXPECTED = {
    "fft_csv": (8, 8, 0, 0, 0, 9),
    "fft_xlsx": (4, 4, 0, 0, 0, 6),
    "nps_csv": (5, 5, 0, 0, 0, 5),
    "hcahps_csv": (4, 4, 0, 0, 0, 4),
    "suggestions_jsonl": (3, 3, 0, 0, 0, 3),
    "suggestion_cards_csv": (3, 3, 0, 0, 0, 3),
    "fhir_bundle": (5, 2, 1, 0, 2, 4),
    "fhir_nps": (3, 3, 0, 0, 0, 3),
}


def _by_source(results):
    out = {}
    for r in results:
        out.setdefault(r.source, []).append(r)
    return out


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """All preset fixtures ingested once: (settings, batch results)."""
    s = stage(make_settings(tmp_path_factory.mktemp("presets")), ALL_PRESET_SOURCES)
    return s, ingest.ingest_all(s)


def test_every_preset_fixture_ingests_and_reconciles(presets):
    s, results = presets
    by_source = _by_source(results)
    for source, (read, loaded, quarantined, duplicate, skipped, _records) in EXPECTED.items():
        (batch,) = by_source[source]
        assert (
            batch.rows_read,
            batch.rows_loaded,
            batch.rows_quarantined,
            batch.rows_duplicate,
            batch.rows_skipped,
        ) == (read, loaded, quarantined, duplicate, skipped), source
        assert batch.reconciles and batch.status == "success"
        assert batch.data_docs and batch.data_docs.startswith("file://")
    per_source = query(s, "select source, count(*) n from raw.feedback group by source").set_index("source")["n"]
    for source, expected in EXPECTED.items():
        assert per_source[source] == expected[-1], source
    # Complaints: two files, the second updates two complaints, repeats one and adds one.
    first, second = by_source["complaints_csv"]
    assert (first.rows_loaded, second.rows_loaded, second.rows_duplicate, second.rows_inserted) == (3, 3, 1, 1)
    stored = query(s, "select * from raw.ingest_batches where status = 'success'")
    assert len(stored) == len(results) == 10  # one batch per file: 8 sources of one file, complaints of two
    assert (
        stored["rows_read"]
        == stored["rows_loaded"] + stored["rows_quarantined"] + stored["rows_duplicate"] + stored["rows_skipped"]
    ).all()
    docs = shared_gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert docs.is_file()


def test_mapped_values_times_and_items(presets):
    s, _ = presets
    rows = query(
        s,
        "select source_record_id, received_at, rating_value, text, question, service, source_timezone "
        "from raw.feedback",
    ).set_index("source_record_id")
    # Local London times -> UTC: GMT in March, BST in June; DST gap shifted forward, fold read as GMT.
    assert str(rows.at["FFT-0001#what_was_good", "received_at"]) == "2026-03-02 09:15:00+00:00"
    assert str(rows.at["FFT-0006#what_could_improve", "received_at"]) == "2026-06-15 11:00:00+00:00"
    assert str(rows.at["FFT-0003#what_was_good", "received_at"]) == "2026-03-29 01:00:00+00:00"
    assert str(rows.at["FFT-0004#rating", "received_at"]) == "2025-10-26 01:30:00+00:00"
    assert rows.at["FFT-0003#what_was_good", "text"] == "Midwives were brilliant,\nthank you all"
    assert pd.isna(rows.at["FFT-0004#rating", "rating_value"])  # Don't know is not scored
    # HCAHPS: Chicago midnight is 05:00 UTC in May; the 0-10 overall rating is the headline rating.
    assert str(rows.at["H-1003#rating", "received_at"]) == "2026-05-06 05:00:00+00:00"
    assert rows.at["H-1003#rating", "source_timezone"] == "America/Chicago"
    items = query(s, "select * from raw.survey_items where response_id = 'H-1003'")
    assert len(items) == 11 and set(items["scale"]) == {"hcahps4", "recommend4"}
    assert items.set_index("item_key").at["quiet_night", "value"] == pytest.approx(2 / 3)
    # FHIR: repeated answers, nested item under an answer, item text as the question, ward by display.
    assert rows.at["fft-qr-1#fft-improve#2", "text"] == "Free wifi that works"
    assert rows.at["fft-qr-2#fft-improve", "question"] == "Is there anything we could improve?"
    assert rows.at["fft-qr-1#fft-good", "service"] == "Emergency Department"
    # Excel: a serial date, and a formula-looking comment kept verbatim.
    assert str(rows.at["X-4#rating", "received_at"]) == "2026-06-05 05:00:00+00:00"
    assert rows.at["X-2#What could be better?", "text"].startswith('=HYPERLINK("http://evil.example"')
    state = query(s, "select source, timezone, country from raw.source_state").set_index("source")
    assert state.at["hcahps_csv", "country"] == "US-IL"
    # Complaints: an update changed the record and kept its history; never a second complaint.
    current = query(s, "select response_id, complaint_status from raw.feedback where channel = 'complaint' order by 1")
    assert list(current["complaint_status"]) == ["acknowledged", "closed", "acknowledged", "open"]
    history = query(
        s, "select response_id, count(*) n from raw.feedback_history where channel = 'complaint' group by 1 order by 1"
    )
    assert list(history["n"]) == [2, 2, 1, 1]


def test_ingesting_twice_is_idempotent_and_force_counts_duplicates(settings):
    s = stage(settings, ["fft_csv", "suggestions_jsonl"])
    ingest.ingest_all(s)
    before = counts(s)
    again = ingest.ingest_all(s)
    assert {r.status for r in again} == {"skipped"}
    assert counts(s) == before
    forced = ingest.ingest_all(s, force=True)
    # Every row of both files is read again and counted as a duplicate; nothing is loaded twice.
    assert [(r.source, r.status, r.rows_read, r.rows_duplicate, r.rows_loaded) for r in forced] == [
        ("fft_csv", "success", 8, 8, 0),
        ("suggestions_jsonl", "success", 3, 3, 0),
    ]
    after = counts(s)
    assert {k: v for k, v in after.items() if k != "batches_success"} == {
        k: v for k, v in before.items() if k != "batches_success"
    }


def test_complaint_update_changes_the_record_and_keeps_history(settings):
    s = stage(settings, ["complaints_csv"])
    update = s.data_dir / "presets" / "complaints_update.csv"
    held = update.rename(s.data_dir / "held.csv")
    ingest.ingest_all(s)
    assert query(s, "select complaint_status from raw.feedback where response_id = 'CMP-001'").iat[0, 0] == "open"
    held.rename(update)
    (result,) = ingest.ingest_all(s)[1:]
    assert (result.rows_inserted, result.rows_updated, result.rows_duplicate) == (1, 2, 1)
    assert query(s, "select count(distinct response_id) n, count(*) m from raw.feedback").values.tolist() == [[4, 4]]
    assert query(s, "select count(*) from raw.feedback_history where response_id = 'CMP-001'").iat[0, 0] == 2


def test_crash_mid_load_leaves_warehouse_unchanged_and_rerun_matches_clean_run(settings, tmp_path, monkeypatch):
    clean = settings.with_(warehouse=tmp_path / "clean.duckdb")
    s = stage(settings, ["fft_csv", "fhir_bundle"])
    clean = clean.with_(gx_dir=s.gx_dir)
    ingest.ingest_all(clean)

    warehouse.init(s)
    empty = counts(s)
    real_run_sql = warehouse.run_sql

    def crashing(con, settings_, name, params=None):
        if name == "queries/ingest/append_quarantine":
            raise RuntimeError("injected crash between statements")
        return real_run_sql(con, settings_, name, params)

    monkeypatch.setattr(warehouse, "run_sql", crashing)
    with pytest.raises(ingest.IngestError, match="injected crash"):
        ingest.ingest_all(s)
    assert counts(s) == empty  # every batch rolled back: nothing half-written
    monkeypatch.setattr(warehouse, "run_sql", real_run_sql)
    ingest.ingest_all(s)
    assert counts(s) == counts(clean)


def test_process_killed_mid_load_then_rerun_completes(settings, tmp_path):
    s = stage(settings, ["fft_csv"])
    script = textwrap.dedent(
        f"""
        import os
        from pipelines import warehouse
        from pipelines.ingest import load as ingest
        from pipelines.ingest import quality
        from pipelines.config import Settings
        # GX is not what this test is about: skip its seconds of import in the child process.
        quality.validate = lambda df, stream, gx_dir: quality.Outcome(success=True)
        real = warehouse.run_sql
        def killer(con, settings, name, params=None):
            if name == "queries/ingest/append_quarantine":
                os._exit(9)  # the process dies between two statements of the load transaction
            return real(con, settings, name, params)
        warehouse.run_sql = killer
        settings = Settings.from_env({{
            "FEEDBACK_HOME": {str(ROOT)!r}, "FEEDBACK_DATA_DIR": {str(s.data_dir)!r},
            "FEEDBACK_WAREHOUSE": {str(s.warehouse)!r}, "FEEDBACK_SOURCES_DIR": {str(s.sources_dir)!r},
            "FEEDBACK_GX_DIR": {str(s.gx_dir)!r}}})
        ingest.ingest_all(settings)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GX_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=300)
    assert done.returncode == 9, done.stderr.decode()[-2000:]
    assert counts(s)["raw.feedback"] == 0 and counts(s)["batches_success"] == 0
    (result,) = ingest.ingest_all(s)
    assert result.rows_loaded == 8 and counts(s)["raw.feedback"] == 9


def test_editing_the_mapping_reingests_the_file(settings):
    s = stage(settings, ["nps_csv"])
    ingest.ingest_all(s)
    assert {r.status for r in ingest.ingest_all(s)} == {"skipped"}
    yaml = s.sources_dir / "nps_csv.yaml"
    yaml.write_text(yaml.read_text().replace("Europe/London", "UTC"))
    (result,) = ingest.ingest_all(s)
    # February: London is on UTC, so only source_timezone changes - every record is an update.
    assert result.status == "success" and (result.rows_updated, result.rows_loaded) == (5, 5)
    assert query(s, "select distinct source_timezone from raw.feedback").iat[0, 0] == "UTC"


def test_quarantine_threshold_fails_the_source_loudly_after_recording(settings):
    s = stage(settings, ["out_of_range_nps"], folder="bad_sources", data="bad")
    s = stage(s, ["nps_csv"])
    with pytest.raises(ingest.IngestError, match=r"out_of_range_nps: .*4 of 6 rows quarantined") as err:
        ingest.ingest_all(s)
    by_source = _by_source(err.value.results)
    assert by_source["nps_csv"][0].rows_loaded == 5  # the other source still ran
    assert by_source["out_of_range_nps"][0].status == "success"  # recorded, then failed loudly
    assert query(s, "select count(*) from raw.quarantine where source = 'out_of_range_nps'").iat[0, 0] == 4
    # A per-source quarantine_max lets a known-noisy source through.
    noisy = (s.sources_dir / "out_of_range_nps.yaml").read_text() + "quarantine_max: 0.9\n"
    write_source(s, "tolerant_nps", noisy)
    (result,) = ingest.ingest_all(s, names=["tolerant_nps"])
    assert result.rows_quarantined == 4


def test_fhir_amendment_replaces_answers_and_entered_in_error_retracts(settings):
    s = stage(settings, ["fhir_bundle"])
    ingest.ingest_all(s)
    assert query(s, "select count(*) from raw.feedback where response_id = 'fft-qr-1'").iat[0, 0] == 3
    path = s.data_dir / "presets" / "fhir_bundle.json"
    bundle = json.loads(path.read_text())
    qr1, qr2 = bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]
    # qr-1 is amended: its two "improve" answers are blanked; qr-2 turns out to be entered in error.
    qr1["status"] = "amended"
    for answer in qr1["item"][2]["item"][2]["answer"]:
        answer["valueString"] = "  "
    qr2["status"] = "entered-in-error"
    path.write_text(json.dumps(bundle))
    (result,) = ingest.ingest_all(s)
    assert result.rows_skipped == 3 and result.reconciles
    assert "retracted" in result.message and "no longer in their response" in result.message
    left = query(s, "select source_record_id from raw.feedback order by 1")["source_record_id"].tolist()
    assert left == ["fft-qr-1#fft-good"]
    assert query(s, "select count(*) from raw.feedback_history").iat[0, 0] == 4  # history keeps what was loaded


def test_sql_source_is_incremental_by_watermark(settings, tmp_path, monkeypatch):
    db = tmp_path / "complaints.sqlite"
    con = sqlite3.connect(db)
    con.execute(
        "create table complaints (complaint_ref text primary key, received_date text, site text, service text, "
        "category text, severity text, status text, acknowledged_date text, closed_date text, contact_count integer, "
        "handling_minutes integer, description text, updated_at text)"
    )
    rows = [
        (
            "C-1",
            "2026-03-01T09:00:00",
            "Riverside Infirmary",
            "ED",
            "Other",
            "low",
            "open",
            None,
            None,
            1,
            10,
            "First",
            "2026-03-01T09:00:00",
        ),
        (
            "C-2",
            "2026-03-02T09:00:00",
            "Riverside Infirmary",
            "ED",
            "Other",
            "low",
            "open",
            None,
            None,
            1,
            10,
            "Second",
            "2026-03-02T09:00:00",
        ),
    ]
    con.executemany("insert into complaints values (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    monkeypatch.setenv("TEST_COMPLAINTS_URL", f"sqlite:///{db}")
    write_source(
        settings,
        "complaints_db",
        textwrap.dedent("""
        stream: complaint
        preset: complaints
        format: sql
        url_env: TEST_COMPLAINTS_URL
        table: complaints
        watermark_column: updated_at
        """),
    )
    s = settings.with_(gx_dir=shared_gx_dir())
    (first,) = ingest.ingest_all(s)
    assert (first.rows_read, first.rows_loaded) == (2, 2)
    assert query(s, "select watermark from raw.source_state").iat[0, 0] == "2026-03-02T09:00:00"
    assert ingest.ingest_all(s)[0].rows_duplicate == 1  # the boundary row is re-read once
    assert [r.status for r in ingest.ingest_all(s)] == ["skipped"]  # then the same extract is skipped
    con.execute(
        "update complaints set status = 'closed', closed_date = '2026-03-05T10:00:00', "
        "updated_at = '2026-03-05T10:00:00' where complaint_ref = 'C-1'"
    )
    con.commit()
    (third,) = ingest.ingest_all(s)
    assert (third.rows_read, third.rows_updated, third.rows_duplicate) == (2, 1, 1)
    assert "updated_at >= 2026-03-02T09:00:00" in third.location
    assert query(s, "select count(*) from raw.feedback").iat[0, 0] == 2
    assert query(s, "select count(*) from raw.feedback_history where response_id = 'C-1'").iat[0, 0] == 2


def test_unreadable_sql_source_records_a_failed_batch_without_the_url(settings, monkeypatch):
    monkeypatch.setenv("TEST_BAD_URL", "postgresql+psycopg2://user:s3cret@127.0.0.1:1/none")
    write_source(
        settings,
        "down_db",
        "stream: complaint\npreset: complaints\nformat: sql\nurl_env: TEST_BAD_URL\ntable: complaints\n",
    )
    s = settings.with_(gx_dir=shared_gx_dir())
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest_all(s)
    assert "s3cret" not in str(err.value)
    batches = query(s, "select status, message from raw.ingest_batches")
    assert list(batches["status"]) == ["failed"] and "s3cret" not in batches["message"].iat[0]


def test_status_query_shows_the_reconciliation(settings):
    s = stage(settings, ["fhir_bundle"])
    ingest.ingest_all(s)
    warehouse.init(s)
    with warehouse.connect(s, read_only=True) as con:
        cursor = warehouse.run_sql(con, s, "queries/pipeline/status_batches", {"limit": 10})
        columns = [d[0] for d in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    assert (row["read"], row["loaded"], row["quarantined"], row["skipped"], row["reconciles"]) == (5, 2, 1, 2, True)


def test_monthly_exports_named_by_month_are_ingested_in_date_order(settings):
    # Regression: files were taken in name order, so a backfill of fft_Nov2026.csv and
    # fft_Dec2026.csv loaded December first and November's older answer overwrote the amendment.
    header = "response_id,submitted_at,site,fft_rating,what_was_good\n"
    exports = settings.data_dir / "monthly"
    exports.mkdir()
    (exports / "fft_Nov2026.csv").write_text(header + "M-1,2026-11-02 10:00,A,Good,Fine\n")
    (exports / "fft_Dec2026.csv").write_text(
        header + "M-1,2026-11-02 10:00,A,Poor,Amended: too slow\nM-2,2026-11-20 10:00,A,Very good,Lovely\n"
    )
    write_source(settings, "monthly_fft", "stream: survey\npreset: fft\nformat: csv\npath: monthly/fft_*.csv\n")
    s = settings.with_(gx_dir=shared_gx_dir())
    results = ingest.ingest_all(s)
    assert [r.location.rsplit("/", 1)[-1] for r in results] == ["fft_Nov2026.csv", "fft_Dec2026.csv"]
    current = query(s, "select rating_raw, text from raw.feedback where response_id = 'M-1'")
    assert current.values.tolist() == [["Poor", "Amended: too slow"]]


def test_a_title_above_the_column_names_fails_the_file_until_header_row_is_set(settings):
    # Regression: without `header_row:` the title line was taken as a one-column header, every real
    # row was quarantined as the wrong width and the batch recorded as a success (file never retried).
    newuser = ROOT / "tests" / "fixtures" / "newuser"
    (settings.data_dir / "exports" / "westmoor").mkdir(parents=True)
    shutil.copy(newuser / "westmoor_fft_Sep-Nov_2026.csv", settings.data_dir / "exports" / "westmoor")
    yaml = (newuser / "sources" / "westmoor_fft.yaml").read_text(encoding="utf-8")
    write_source(settings, "westmoor_fft", yaml.replace("header_row: 4", ""))
    s = settings.with_(gx_dir=shared_gx_dir())
    with pytest.raises(ingest.IngestError, match=r"no column\(s\) .*set `header_row:`") as err:
        ingest.ingest_all(s)
    assert [(r.status, r.rows_read, r.rows_quarantined) for r in err.value.results] == [("failed", 0, 0)]
    assert query(s, "select count(*) from raw.quarantine").iat[0, 0] == 0
    write_source(settings, "westmoor_fft", yaml)
    (result,) = ingest.ingest_all(s)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("success", 151, 147, 4)


def test_decimal_ratings_are_quarantined_with_the_scale_reason(settings):
    # Regression (issue 17): "3.5" loaded as Very poor and "2.1" as Very good.
    header = "response_id,submitted_at,site,fft_rating,what_was_good\n"
    (settings.data_dir / "fft.csv").write_text(
        header
        + "D-1,2026-11-02 10:00,A,3.5,Half way\nD-2,2026-11-02 10:05,A,2.1,Almost good\n"
        + "D-3,2026-11-02 10:10,A,2,Code for Good\nD-4,2026-11-02 10:15,A,1 - Very good,Code and label\n"
    )
    write_source(
        settings, "decimal_fft", "stream: survey\npreset: fft\nformat: csv\npath: fft.csv\nquarantine_max: 0.9\n"
    )
    s = settings.with_(gx_dir=shared_gx_dir())
    (result,) = ingest.ingest_all(s)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    quarantined = query(s, "select source_record_id, reason from raw.quarantine order by 1")
    assert quarantined["source_record_id"].tolist() == ["D-1", "D-2"]
    assert set(quarantined["reason"]) == {"rating not on its scale"}
    loaded = query(s, "select response_id, rating_value from raw.feedback order by 1")
    assert loaded.values.tolist() == [["D-3", 0.75], ["D-4", 1.0]]


def test_a_deeply_nested_json_line_costs_that_line_not_its_file(settings):
    # Regression (issue 17): RecursionError rejected the whole file and wrote no batch row.
    deep = "[" * 100_000 + "]" * 100_000
    (settings.data_dir / "box.jsonl").write_text(
        '{"entry_id": "S-1", "submitted_at": "2026-11-14 10:00", "text": "Before"}\n'
        f'{{"entry_id": "S-2", "submitted_at": "2026-11-14 10:05", "text": "Bomb", "meta": {deep}}}\n'
        '{"entry_id": "S-3", "submitted_at": "2026-11-14 10:10", "text": "After"}\n'
        '{"entry_id": "S-4", "submitted_at": "2026-11-14 10:15", "text": "half \\ud83d emoji"}\n'
    )
    write_source(
        settings,
        "box",
        "stream: suggestion\npreset: suggestion_box\nformat: jsonl\npath: box.jsonl\nquarantine_max: 0.5\n",
    )
    s = settings.with_(gx_dir=shared_gx_dir())
    (result,) = ingest.ingest_all(s)
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("success", 4, 2, 2)
    assert query(s, "select count(*) from raw.ingest_batches where status = 'success'").iat[0, 0] == 1
    quarantined = query(s, "select row_number, source_record_id, failed_check, reason from raw.quarantine order by 1")
    assert quarantined["failed_check"].tolist() == ["parse:json_depth", "parse:unicode"]
    assert quarantined["reason"].iat[0].startswith("JSON nested too deeply")
    assert quarantined["source_record_id"].iat[1] == "S-4"  # a line that parses keeps its id
    assert [r.status for r in ingest.ingest_all(s)] == ["skipped"]  # not retried on every run


def test_a_reader_crash_is_recorded_as_a_failed_batch(settings, monkeypatch):
    s = stage(settings, ["nps_csv"])

    def crash(config, path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(ingest, "read_source_file", crash)
    with pytest.raises(ingest.IngestError, match="cannot read the file: RecursionError"):
        ingest.ingest_all(s)
    batches = query(s, "select status, message from raw.ingest_batches")
    assert batches["status"].tolist() == ["failed"]
    assert "RecursionError" in batches["message"].iat[0]


def test_control_characters_never_reach_raw_feedback(settings):
    (settings.data_dir / "box.csv").write_bytes(
        b"entry_id,submitted_at,site,service,text\n"
        b'N-1,2026-11-06 10:00,Riverside,Ward 1,"Good\x00 service, thank you"\n'
        b"N-2,2026-11-06 10:05,Riverside,Ward 1,W\x00a\x00r\x00d\x00 clean\x1b\n"
    )
    write_source(settings, "box", "stream: suggestion\npreset: suggestion_box\nformat: csv\npath: box.csv\n")
    s = settings.with_(gx_dir=shared_gx_dir())
    (result,) = ingest.ingest_all(s)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 2, 0)
    assert "control character(s) such as NUL removed" in result.message
    texts = query(s, "select text from raw.feedback order by source_record_id")["text"].tolist()
    assert texts == ["Good service, thank you", "Ward clean"]
