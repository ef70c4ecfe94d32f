"""The short fault suite of ``make reliability-short``, so CI runs it: kill -9, disk full, keys.

``benchmarks.reliability_faults`` with its CI plan: a 60-row demo warehouse; a clean run
(ingest, enrich, report: no theme fit) counts every table and view in every schema; two runs are
killed with kill -9 at a random point of a stage drawn at random (ingest, redaction, scoring,
reports or a model rebuild); the disk fills mid-write once; an encrypted warehouse is opened with
wrong, missing and unreadable keys. Every trial must survive: the warehouse opens, no reporting
view shows a partial state, the rerun counts exactly as the clean run, the killed stage is shown
failed, no key problem gives a traceback or touches the file. 81 s on two shared cores.
"""

from __future__ import annotations

import pytest

from benchmarks import reliability_faults as faults
from pipelines.config import Settings


def test_relation_counts_cover_every_schema(settings: Settings) -> None:
    from pipelines import warehouse

    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        con.execute("create schema extra")
        con.execute("create table extra.t as select * from range(3)")
        counts = faults.relation_counts(con, settings)
    assert counts["extra.t"] == 3
    assert {"raw.feedback", "enrich.sentiment", "marts.fct_feedback", "reporting.rpt_feedback_comments"} <= set(counts)


def test_compare_counts_lost_and_duplicated_rows_and_ignores_run_logs() -> None:
    clean = {"raw.feedback": 10, "marts.fct_feedback": 10, "ops.stage_runs": 4, "enrich.gone": 2}
    seen = {"raw.feedback": 8, "marts.fct_feedback": 13, "ops.stage_runs": 9, "enrich.new": 1}
    lost, duplicated, diffs = faults.compare(clean, seen)
    assert (lost, duplicated) == (2 + 2, 3 + 1)
    assert diffs == [
        "enrich.gone 2 -> missing",
        "enrich.new missing -> 1",
        "marts.fct_feedback 10 -> 13",
        "raw.feedback 10 -> 8",
    ]


@pytest.mark.timeout(600)
def test_the_short_fault_suite_survives_every_trial(tmp_path) -> None:  # noqa: ANN001
    lines: list[str] = []
    checks = faults.run_suite(tmp_path, faults.SHORT_PLAN, log=lines.append)
    by_fault = {c.fault.split(" (")[0]: c for c in checks}
    assert set(by_fault) == {"clean run", "kill -9", "disk full mid-write", "wrong or missing key"}
    assert by_fault["kill -9"].trials == faults.SHORT_PLAN.kill_trials
    for check in checks:
        assert check.trials > 0
        assert check.survived == check.trials, "\n".join(lines)
        assert (check.lost, check.duplicated) == (0, 0), "\n".join(lines)
