"""Partitioned heavy work (pipelines.partitions): plan, compute anywhere, load once, idempotently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import partitions, warehouse
from pipelines.config import Settings
from pipelines.partitions import Partition, PartitionError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_SQL_DIR": str(ROOT / "sql"),
            "FEEDBACK_WAREHOUSE": str(tmp_path / "wh" / "warehouse.duckdb"),
            "FEEDBACK_PRIVACY_PERSON": "rules",
        }
    )


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"feedback_id": [f"f{i:05d}" for i in range(n)], "text": [f"comment {i}" for i in range(n)]})


def _upper(settings: Settings, part: Partition, progress: bool = False) -> None:
    rows = partitions.read_input(settings, part)
    partitions.write_outputs(settings, part, {"upper": rows.assign(text=rows["text"].str.upper())}, 0.5)


def test_plan_puts_every_row_in_exactly_one_partition_the_same_way_every_time(settings):
    rows = _rows(1000)
    parts = partitions.plan(settings, "run1", "step", rows, "feedback_id", 4, {"version": "v1"})
    assert [p.index for p in parts] == [0, 1, 2, 3] and {p.count for p in parts} == {4}
    seen = pd.concat([partitions.read_input(settings, p) for p in parts])
    assert sorted(seen["feedback_id"]) == sorted(rows["feedback_id"])
    assert sum(p.rows for p in parts) == 1000 and min(p.rows for p in parts) > 150  # spread, not lumped
    # The same rows in another order land in the same partitions (a stable hash, not the order).
    where = {f: p.index for p in parts for f in partitions.read_input(settings, p)["feedback_id"]}
    again = partitions.plan(settings, "run1", "step", rows.sample(frac=1, random_state=3), "feedback_id", 4)
    assert {f: p.index for p in again for f in partitions.read_input(settings, p)["feedback_id"]} == where
    assert parts[0].params == {"version": "v1"}
    assert Partition.from_dict(json.loads(json.dumps(parts[2].as_dict()))) == parts[2]  # XCom round trip
    assert parts[2].label == f"step 3/4 ({parts[2].rows:,} rows)"


def test_nothing_to_do_writes_nothing_and_few_rows_make_few_partitions(settings):
    assert partitions.plan(settings, "run1", "step", _rows(0), "feedback_id", 4) == []
    assert not partitions.folder(settings, "run1", "step").exists()
    parts = partitions.plan(settings, "run1", "step", _rows(2), "feedback_id", 8)
    assert 1 <= len(parts) <= 2 and sum(p.rows for p in parts) == 2


def test_outputs_load_only_when_every_partition_finished(settings):
    parts = partitions.plan(settings, "run1", "step", _rows(300), "feedback_id", 3)
    _upper(settings, parts[0])
    _upper(settings, parts[2])
    with pytest.raises(PartitionError, match=r"1 of 3 partitions did not finish: step 2/3"):
        partitions.read_outputs(settings, parts, "upper")
    _upper(settings, parts[1])
    out = partitions.read_outputs(settings, parts, "upper")
    assert len(out) == 300 and out["text"].str.startswith("COMMENT").all()
    summary = partitions.stats(parts)
    assert (summary["partitions"], summary["rows"], summary["seconds"]) == (3, 300, 1.5)
    partitions.clear(settings, "run1")
    assert not (settings.warehouse.parent / "partitions").exists()


def test_a_pool_of_processes_computes_each_partition_once_and_a_repeat_does_nothing(settings, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # spawned workers import this module's _upper by name
    parts = partitions.plan(settings, "run1", "step", _rows(400), "feedback_id", 4)
    partitions.run(settings, parts, "tests.unit.test_partitions:_upper", workers=2)
    pids = {json.loads(p.marker.read_text())["pid"] for p in parts}
    assert all(p.is_done() for p in parts)
    assert os.getpid() not in pids and 1 <= len(pids) <= 2  # computed in the pool's processes, not here
    stamps = [p.marker.stat().st_mtime_ns for p in parts]
    partitions.run(settings, parts, "tests.unit.test_partitions:_upper", workers=2)  # a retried task
    assert [p.marker.stat().st_mtime_ns for p in parts] == stamps
    assert len(partitions.read_outputs(settings, parts, "upper")) == 400


def test_with_a_warehouse_key_the_partitions_are_encrypted(settings):
    keyed = settings.with_(encryption_key="correct horse battery staple")
    rows = pd.DataFrame({"feedback_id": ["f1"], "text": ["Tomasz Ramsbottom rang 07700 900123"]})
    (part,) = partitions.plan(keyed, "run1", "step", rows, "feedback_id", 1)
    raw = part.input.read_bytes()
    assert b"Ramsbottom" not in raw and b"07700" not in raw
    with pytest.raises(duckdb.Error, match="encrypted"):
        duckdb.connect().execute(f"select * from read_parquet('{part.input}')").fetchall()
    with pytest.raises(PartitionError, match="cannot be read"):
        partitions.read_input(keyed.with_(encryption_key="wrong"), part)
    assert partitions.read_input(keyed, part)["text"].tolist() == rows["text"].tolist()


def _raw_feedback(settings: Settings, texts: list[str]) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        for i, text in enumerate(texts):
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, site, text, record_hash,"
                " batch_id, ingested_at) values (?, 'survey', 'test', ?, 'Rainbow Ward', ?, ?, 'b1', ?)",
                [f"f{i:03d}", f"f{i:03d}", text, f"h{i}", now],
            )


TEXTS = [
    "Nurse Joy on Rainbow Ward rang 07700 900123",
    "Dr Patel was kind, my NHS number is 943 476 5919",
    "All fine",
    "The food was cold",
    "Mrs Higginbottom at reception was rude",
    "email me at jo.bloggs@example.com",
] * 5


def test_redaction_in_two_processes_equals_redaction_in_this_one(settings, tmp_path):
    other = settings.with_(warehouse=tmp_path / "other" / "warehouse.duckdb")
    _raw_feedback(settings, TEXTS)
    _raw_feedback(other, TEXTS)
    from pipelines.privacy.stage import redact_pending

    with warehouse.connect(settings) as con:
        one = redact_pending(settings, con, run_id="r1", workers=1)
        local = con.execute("select feedback_id, text_redacted, entity_counts from enrich.redactions order by 1")
        local = local.fetchall()
    with warehouse.connect(other) as con:
        two = redact_pending(other, con, run_id="r1", workers=2)
        pooled = con.execute("select feedback_id, text_redacted, entity_counts from enrich.redactions order by 1")
        pooled = pooled.fetchall()
        again = redact_pending(other, con, run_id="r2", workers=2)
    assert one["redacted"] == two["redacted"] == len(TEXTS)
    assert two["partitions"]["partitions"] == 2 and one["partitions"]["partitions"] == 1
    assert pooled == local
    assert any("[PHONE]" in t for _, t, _ in pooled) and any("[NAME]" in t for _, t, _ in pooled)
    assert again == {"redacted": 0, "redactor_version": two["redactor_version"]}
    assert not (tmp_path / "other" / "partitions").exists()  # cleared once loaded


def test_partition_workers_never_open_the_warehouse(settings):
    """A partition computes while another process holds the warehouse for writing."""
    from pipelines.privacy.stage import load_redactions, plan_redaction

    _raw_feedback(settings, TEXTS)
    with warehouse.connect(settings) as con:
        parts, _ = plan_redaction(settings, con, "r1", 2)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(600)", str(settings.warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(warehouse.WarehouseError, match="open for writing by another process"),
            warehouse.connect(settings),
        ):
            pass
        partitions.run(settings, parts, "pipelines.privacy.stage:redact_partition", workers=1)
        assert all(p.is_done() for p in parts)
    finally:
        holder.kill()
        holder.wait()
    with warehouse.connect(settings) as con:
        assert load_redactions(settings, con, parts) == len(TEXTS)
        assert load_redactions(settings, con, parts) == len(TEXTS)  # loading twice is harmless
        assert con.execute("select count(*) from enrich.redactions").fetchone()[0] == len(TEXTS)


def test_a_worker_with_another_redactor_refuses_its_partition(settings):
    from pipelines.privacy.stage import plan_redaction, redact_partition

    _raw_feedback(settings, TEXTS[:3])
    with warehouse.connect(settings) as con:
        (part,), _ = plan_redaction(settings, con, "r1", 1)
    stale = Partition(**{**part.as_dict(), "meta": json.dumps({**part.params, "redactor_version": "old-v0"})})
    with pytest.raises(RuntimeError, match="deploy the same code"):
        redact_partition(settings, stale)
    assert not part.is_done()


def test_partitions_of_a_run_that_died_are_removed_by_the_next_plan(settings):
    dead = partitions.plan(settings, "dead-run", "redact", _rows(10), "feedback_id", 2)
    alive = partitions.plan(settings, "live-run", "redact", _rows(10), "feedback_id", 2)
    old = time.time() - partitions.STALE_SECONDS - 60
    for path in [dead[0].input.parent.parent, *dead[0].input.parent.parent.rglob("*")]:
        os.utime(path, (old, old))
    partitions.plan(settings, "next-run", "score", _rows(10), "feedback_id", 1)
    runs = {p.name for p in (settings.warehouse.parent / "partitions").iterdir()}
    assert runs == {"live-run", "next-run"}  # the dead run's raw text is gone, a running one's kept
    assert all(p.input.is_file() for p in alive)


def test_an_unfinished_partition_fails_the_airflow_enrich_with_the_reason_recorded(settings):
    """The DAG's load task finds a partition no worker finished: nothing is loaded, the stage is failed."""
    from pipelines import stages

    _raw_feedback(settings, TEXTS)
    parts = [Partition.from_dict(p) for p in stages.enrich_plan(settings, "run-a")]
    assert len(parts) == min(settings.partitions, len(TEXTS)) and sum(p.rows for p in parts) == len(TEXTS)
    stages_ = __import__("pipelines.privacy.stage", fromlist=["redact_partition"])
    for part in parts[1:]:  # the first partition's worker died
        stages_.redact_partition(settings, part)
    with pytest.raises(PartitionError, match=f"1 of {len(parts)} partitions did not finish"):
        stages.enrich_middle(settings, "run-a")
    with warehouse.connect(settings) as con:
        assert con.execute("select count(*) from enrich.redactions").fetchone()[0] == 0
        status, message = con.execute("select status, message from ops.stage_runs where run_id = 'run-a'").fetchone()
    assert status == "failed" and "PartitionError" in message
