"""A new user's own Friends and Family Test exports, configured the way docs/getting-started.md says.

Two fictional trusts' exports (tests/fixtures/newuser/, rebuilt by its build.py): a survey
platform's CSV with the usual problems, and another supplier's Windows-1252 CSV with a report
title above the column names and date and time in two columns. The test writes the source YAMLs
into a fresh sources folder, runs ``feedback ingest`` as a subprocess (first with the header line
not yet configured, as a new user would), and checks that every row and every comment of the
exports is accounted for: loaded, a duplicate, or quarantined with a reason.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.sources.reshape import DEFAULT_PLACEHOLDERS
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "newuser"
FEEDBACK = str(Path(sys.executable).parent / "feedback")

NORTHSHIRE_Q = ["Q2 - Please can you tell us why you gave your answer?", "Q3 - What could we have done better?"]
WESTMOOR_Q = ["What was good about your visit?", "What could be improved?", "Anything else?"]
# source -> (read, loaded, quarantined, duplicate, quarantine reasons)
EXPECTED = {
    "northshire_fft": (
        394,
        383,
        10,
        1,
        {
            "missing or unparseable date": 3,
            "rating not on its scale": 2,
            "empty response: no rating and no free text": 2,
            "missing site": 1,
            "date in the future": 1,
            "duplicate record id with different content": 1,
        },
    ),
    "westmoor_fft": (
        151,
        147,
        4,
        0,
        {
            "missing record id": 1,
            "rating not on its scale": 1,
            "missing or unparseable date": 1,
            # the "Total responses: 150" footer row
            "missing or unparseable date; missing site; empty response: no rating and no free text": 1,
        },
    ),
}


def _feedback(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FEEDBACK, *args], env=env, capture_output=True, text=True, timeout=300)


def _is_answer(value: str | None) -> bool:
    text = (value or "").strip()
    return bool(text) and text.lower() not in {p.lower() for p in DEFAULT_PLACEHOLDERS}


def _answers(path: Path, encoding: str, skip_lines: int, id_column: str, questions: list[str]) -> dict[str, int]:
    """Non-empty free-text answers per response id (first occurrence), read with the csv module only."""
    text = path.read_bytes().decode(encoding)
    body = io.StringIO(text.split("\n", skip_lines)[skip_lines] if skip_lines else text)
    out: dict[str, int] = {}
    for row in csv.DictReader(body):
        row = {k.strip(): v for k, v in row.items() if k}
        if not any((v or "").strip() for v in row.values()):
            continue
        # A repeated id (an exact repeat, or a conflicting one that is quarantined): the first counts.
        # Placeholders the survey platform writes into empty answers ("N/A", "Did not answer") are
        # no comment: the pipeline records them as blank, so they are not counted as answers here.
        out.setdefault(row[id_column], sum(_is_answer(row[q]) for q in questions))
    return out


@pytest.fixture(scope="module")
def new_user(tmp_path_factory):
    root = tmp_path_factory.mktemp("newuser")
    data, sources = root / "data", root / "sources"
    for folder, name in (("northshire", "northshire_fft_Nov2026.csv"), ("westmoor", "westmoor_fft_Sep-Nov_2026.csv")):
        (data / "exports" / folder).mkdir(parents=True)
        shutil.copy(FIXTURES / name, data / "exports" / folder / name)
    sources.mkdir()
    env = {
        **os.environ,
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_SOURCES_DIR": str(sources),
        "FEEDBACK_DATA_DIR": str(data),
        "FEEDBACK_WAREHOUSE": str(root / "wh.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(root / "reports"),
        "FEEDBACK_GX_DIR": str(root / "gx"),
        "COLUMNS": "200",
    }
    # First attempt, as a new user writes it: Westmoor's header line not yet configured.
    shutil.copy(FIXTURES / "sources" / "northshire_fft.yaml", sources)
    first_try = (FIXTURES / "sources" / "westmoor_fft.yaml").read_text(encoding="utf-8")
    (sources / "westmoor_fft.yaml").write_text(first_try.replace("header_row: 4", "# header_row: 4"))
    first = _feedback(env, "ingest")
    # Fixed as the error message says.
    shutil.copy(FIXTURES / "sources" / "westmoor_fft.yaml", sources)
    second = _feedback(env, "ingest", "--source", "westmoor_fft")
    status = _feedback(env, "status", "--limit", "5")
    return {"root": root, "env": env, "first": first, "second": second, "status": status}


def _query(new_user, sql: str) -> list[tuple]:
    with duckdb.connect(str(new_user["root"] / "wh.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_title_above_the_header_fails_the_file_with_a_hint_then_loads(new_user):
    first, second = new_user["first"], new_user["second"]
    assert first.returncode == 1, first.stdout + first.stderr
    out = " ".join((first.stdout + first.stderr).split())
    assert "westmoor_fft" in out and "no column(s)" in out and "header_row" in out
    failed = _query(
        new_user,
        "select rows_read, rows_quarantined from raw.ingest_batches "
        "where source = 'westmoor_fft' and status = 'failed'",
    )
    assert failed == [(0, 0)]  # nothing quarantined from a misread file; it is retried after the fix
    assert second.returncode == 0, second.stdout + second.stderr


def test_every_batch_reconciles(new_user):
    batches = _query(
        new_user,
        "select source, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_skipped "
        "from raw.ingest_batches where status = 'success' order by source",
    )
    assert [b[0] for b in batches] == sorted(EXPECTED)
    for source, read, loaded, quarantined, duplicate, skipped in batches:
        assert (read, loaded, quarantined, duplicate) == EXPECTED[source][:4], source
        assert read == loaded + quarantined + duplicate + skipped
    view = _query(
        new_user, "select source, reconciles from reporting.rpt_ingest_reconciliation where status = 'success'"
    )
    assert sorted(view) == [(s, True) for s in sorted(EXPECTED)]


def test_quarantined_rows_have_reasons_and_their_raw_row(new_user):
    rows = _query(new_user, "select source, row_number, failed_check, reason, raw_row from raw.quarantine")
    assert all(r[1] and r[2] and r[3] and r[4] for r in rows)
    for source, expected in EXPECTED.items():
        got: dict[str, int] = {}
        for r in rows:
            if r[0] == source:
                got[r[3]] = got.get(r[3], 0) + 1
        assert got == expected[4], source
    status = " ".join(new_user["status"].stdout.split())
    assert new_user["status"].returncode == 0 and "missing or unparseable date" in status


def test_every_comment_is_loaded_or_quarantined(new_user):
    files = {
        "northshire_fft": (
            _answers(FIXTURES / "northshire_fft_Nov2026.csv", "utf-8-sig", 0, "Response ID", NORTHSHIRE_Q),
            NORTHSHIRE_Q,
        ),
        "westmoor_fft": (
            _answers(FIXTURES / "westmoor_fft_Sep-Nov_2026.csv", "cp1252", 3, "Ref", WESTMOOR_Q),
            WESTMOOR_Q,
        ),
    }
    for source, (answers, questions) in files.items():
        loaded = dict(
            _query(
                new_user,
                f"select response_id, count(text) from raw.feedback where source = '{source}' group by response_id",
            )
        )
        quarantined: dict[str, int] = {}
        for (raw,) in _query(new_user, f"select raw_row from raw.quarantine where source = '{source}'"):
            row = {k.strip(): v for k, v in json.loads(raw).items()}
            key = row["Response ID" if source == "northshire_fft" else "Ref"]
            quarantined[key] = quarantined.get(key, 0) + sum(bool((row.get(q) or "").strip()) for q in questions)
        # The conflicting repeat of an id is quarantined and the first kept: count each id once.
        accounted = {k: loaded.get(k, 0) or quarantined.get(k, 0) for k in answers}
        assert accounted == answers, source
    texts = {t for (t,) in _query(new_user, "select text from raw.feedback where text is not null")}
    assert "=nothing" in texts and any("\n\nBut 5 hours" in t for t in texts)
    assert "Waited 3½ hours for a 10 minute appointment" in texts  # Windows-1252 read right
    assert "Car park machines only take coins and it’s £3.20 an hour" in texts


def test_times_are_read_day_first_and_stored_in_utc(new_user):
    rows = dict(
        _query(
            new_user,
            "select response_id, strftime(min(received_at) at time zone 'UTC', '%Y-%m-%d %H:%M') "
            "from raw.feedback where response_id in ('FFT2600004', 'WM-26004') group by all",
        )
    )
    # 06/10/2026 20:43 London (BST) and 04/09/2026 + 00:59 in two columns (BST)
    assert rows == {"FFT2600004": "2026-10-06 19:43", "WM-26004": "2026-09-03 23:59"}
