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


def test_every_view_counting_themes_is_known_to_the_overlap_check() -> None:
    """The overlap check lets theme relations differ from one clean delivery (the theme model saw
    the data in another order); a view counting themes under another name must be on its list."""
    import re

    from tests.conftest import ROOT

    theme_marts = re.compile(
        r"(?:marts|published)\.(fct_feedback_theme|fct_kpi_theme_monthly|fct_theme_\w+|fct_key_drivers|fct_segment_lift)"
    )
    labels_only = {"rpt_actions"}  # reads dim_theme for labels; one row per action whatever the themes
    readers = [p.stem for p in sorted((ROOT / "sql" / "reporting").glob("*.sql")) if theme_marts.search(p.read_text())]
    assert "rpt_category_window_ranking" in readers
    assert [v for v in readers if v not in labels_only and not faults._theme_history(f"reporting.{v}")] == []
    assert not faults._theme_history("reporting.rpt_kpi_monthly")


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
