"""Per-stage change detection (pipelines/changes.py) through the stage runner, with fake stage bodies."""

from __future__ import annotations

import json
import sys

import duckdb
import pytest

from pipelines import changes, stages, warehouse


def _watch(settings, tmp_path):
    config = tmp_path / "stage-config.yaml"
    if not config.exists():
        config.write_text("threshold: 1\n")
    return lambda: changes.Watch(tables=("ops.actions",), paths=(config,), values={"k": settings.min_cell})


def _run(settings, tmp_path, calls, run_id, force=False, body=None):
    def default(con: duckdb.DuckDBPyConnection) -> dict:
        calls.append(run_id)
        return {"rows_in": 1, "rows_out": 1, "fake_model_version": "v1", "files": []}

    return stages._run_stage(
        settings, run_id, "fake", body or default, needs_con=True, watch=_watch(settings, tmp_path), force=force
    )


def _runs(settings):
    with warehouse.connect(settings, read_only=True) as con:
        return con.execute("select run_id, status, message from ops.stage_runs order by started_at").fetchall()


def test_a_stage_with_nothing_new_is_skipped_and_says_so(settings, tmp_path):
    calls: list[str] = []
    first = _run(settings, tmp_path, calls, "r1")
    second = _run(settings, tmp_path, calls, "r2")
    assert calls == ["r1"]
    assert "outcome" not in first and second["outcome"] == stages.SKIPPED
    assert second["same_as_run"] == "r1" and second["fake_model_version"] == "v1"
    assert second["rows_in"] == 0 and second["models_rebuilt"] == 0
    rows = _runs(settings)
    assert [r[1] for r in rows] == ["success", "success"]
    assert json.loads(rows[1][2])["outcome"] == "skipped (no change)"


def test_changed_table_file_or_setting_runs_the_stage_again(settings, tmp_path):
    calls: list[str] = []
    _run(settings, tmp_path, calls, "r1")
    with warehouse.connect(settings) as con:
        con.execute(
            "insert into ops.actions values ('A1', 'T1', null, null, date '2026-01-05', null, 'x', null, "
            "'planned', 'cli', now())"
        )
    _run(settings, tmp_path, calls, "r2")
    (tmp_path / "stage-config.yaml").write_text("threshold: 2\n")
    _run(settings, tmp_path, calls, "r3")
    _run(settings.with_(min_cell=10), tmp_path, calls, "r4")
    _run(settings.with_(min_cell=10), tmp_path, calls, "r5")
    assert calls == ["r1", "r2", "r3", "r4"]


def test_force_runs_and_a_failure_makes_the_next_run_do_the_work(settings, tmp_path):
    calls: list[str] = []
    _run(settings, tmp_path, calls, "r1")
    _run(settings, tmp_path, calls, "r2", force=True)

    def broken(con: duckdb.DuckDBPyConnection) -> dict:
        raise RuntimeError("model file unreadable")

    with pytest.raises(RuntimeError):
        _run(settings, tmp_path, calls, "r3", force=True, body=broken)
    _run(settings, tmp_path, calls, "r4")
    assert calls == ["r1", "r2", "r4"]
    assert [r[1] for r in _runs(settings)] == ["success", "success", "failed", "success"]


def test_a_skipped_stage_whose_files_are_gone_writes_them_again(settings, tmp_path):
    calls: list[str] = []
    page = tmp_path / "page.html"

    def writes(con: duckdb.DuckDBPyConnection) -> dict:
        calls.append("ran")
        page.write_text("<html></html>")
        return {"rows_out": 1, "files": [str(page)]}

    _run(settings, tmp_path, calls, "r1", body=writes)
    assert _run(settings, tmp_path, calls, "r2", body=writes)["files"] == [str(page)]
    page.unlink()
    _run(settings, tmp_path, calls, "r3", body=writes)
    assert calls == ["ran", "ran"] and page.is_file()


def test_watches_need_no_model_library(settings):
    heavy = ("torch", "transformers", "bertopic", "sentence_transformers", "presidio_analyzer", "great_expectations")
    before = {m for m in heavy if m in sys.modules}
    warehouse.init(settings)
    with warehouse.connect(settings) as con:
        for watch in (
            changes.enrich_watch(settings),
            changes.themes_watch(settings, refit=False),
            changes.report_watch(settings, None, settings.reports_dir, None),
        ):
            assert watch is not None
            assert len(changes.fingerprint(con, settings, watch)) == 64
    assert {m for m in heavy if m in sys.modules} == before
    assert changes.themes_watch(settings, refit=True) is None


def test_a_refit_is_due_by_this_warehouses_own_model_not_anothers(settings, tmp_path):
    from datetime import UTC, datetime

    fresh = json.dumps({"fitted_at": datetime.now(UTC).isoformat()})
    other = settings.with_(warehouse=settings.warehouse.with_name("trust_b.duckdb"))
    settings.theme_build_dir.mkdir(parents=True)
    (settings.theme_build_dir / "manifest.json").write_text(fresh, encoding="utf-8")
    assert settings.theme_build_dir != other.theme_build_dir
    assert changes.themes_watch(settings, refit=None) is not None  # fitted today: watch for changes
    assert changes.themes_watch(other, refit=None) is None  # trust B has no model of its own: refit
    # a fresh model in the shared models folder (where every warehouse's fit used to go) is nobody's
    models = tmp_path / "models"
    (models / "themes" / "build").mkdir(parents=True)
    for name in ("config.yaml", "taxonomy.yaml", "insights.yaml"):
        (models / "themes" / name).write_bytes((settings.models_dir / "themes" / name).read_bytes())
    (models / "themes" / "build" / "manifest.json").write_text(fresh, encoding="utf-8")
    assert changes.themes_watch(other.with_(models_dir=models), refit=None) is None


def test_every_stage_summary_carries_the_data_window(settings, tmp_path):
    calls: list[str] = []
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
    summary = _run(settings, tmp_path, calls, "r1")
    assert summary["data_from"] is None and summary["data_to"] is None  # empty warehouse
    assert json.loads(_runs(settings)[0][2])["data_from"] is None
