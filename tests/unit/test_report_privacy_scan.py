"""Defence in depth: reports read redacted text only, and a final scan holds back any file that has an identifier.

A synthetic warehouse (pipelines/demo/report_sample.py) carries identifiers in its raw text only
(``PLANTED_PHI``). First: no reporting view and no page or export holds them, and the final scan
finds nothing in any reporting view's text. Then redaction is bypassed for the planted comments
(their "redacted" text set to the raw text, as an upstream that skipped redaction would leave
it), and the report stage runs: the files that would carry them are not written, the reason
(file, column, kind, count; never the value) is in ``ops.export_blocks``, the run-status page and
``feedback status``, the stage fails with a clear message, and every other file is written as
before.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import stages, warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.exports import ExportBlocked
from pipelines.periods import Period
from pipelines.privacy.scan import TextScanner, scan_cells

ROOT = Path(__file__).resolve().parents[2]
OCTOBER = Period.month(date(2026, 10, 1))
# Planted in the raw text of ~5% of the sample's comments: a name, a phone and an NHS number.
NAME, PHONE, NHS = sample.PLANTED_PHI


def _settings(base: Path) -> Settings:
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(base / "reports"),
            "FEEDBACK_SOURCES_DIR": str(base / "sources"),
        }
    )


def _file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return path.read_text(encoding="utf-8-sig", errors="replace")


def _text_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[str]]:
    """View -> its text and list-of-text columns."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = ? and (data_type = 'VARCHAR' or data_type like 'VARCHAR[]%') order by all",
        [schema],
    ).fetchall()
    out: dict[str, list[str]] = {}
    for view, column in rows:
        out.setdefault(view, []).append(column)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The sample warehouse reported by the report stage (final scan included) with redaction intact."""
    base = tmp_path_factory.mktemp("scan-clean")
    settings = _settings(base)
    (base / "sources").mkdir()
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=500)
        planted = con.execute("select count(*) from raw.feedback where contains(text, ?)", [NHS]).fetchone()[0]
    assert planted > 0  # the raw text does carry them, so their absence downstream means something
    summary = stages.report_stage(settings, "clean-run", period=OCTOBER)
    return settings, [Path(p) for p in summary["files"]]


def test_no_reporting_view_holds_a_raw_identifier(clean):
    settings, _ = clean
    with warehouse.connect(settings, read_only=True) as con:
        views = _text_columns(con, "reporting")
        assert len(views) >= 20
        for view, columns in views.items():
            dump = json.dumps(con.execute(f"select {', '.join(columns)} from reporting.{view}").fetchall())  # noqa: S608
            for planted in sample.PLANTED_PHI:
                assert planted not in dump, f"{planted!r} in reporting.{view}"


def test_the_final_scan_finds_nothing_in_any_reporting_view(clean):
    """Every text column of every reporting view passes the scan the exports get."""
    settings, _ = clean
    with warehouse.connect(settings, read_only=True) as con:
        allow = [r[0] for r in warehouse.run_sql(con, settings, "queries/privacy/allow_list").fetchall()]
        scanner = TextScanner(allow_list=allow)
        findings = []
        for view, columns in _text_columns(con, "reporting").items():
            frame = con.execute(f"select {', '.join(columns)} from reporting.{view}").df()  # noqa: S608
            findings += scan_cells(scanner, view, {c: frame[c].tolist() for c in columns})
    assert findings == []


def test_a_clean_warehouse_is_reported_in_full_and_nothing_is_held_back(clean):
    settings, files = clean
    names = {p.name for p in files}
    assert {"theme-report-2026-10.html", "trend-pack-2026-10.html", "run-status.html", "index.html"} <= names
    assert {"comments.csv", "theme-report.xlsx", "trend-pack.xlsx", "run-status.xlsx"} <= names
    for path in files:
        text = _file_text(path)
        assert not any(p in text for p in sample.PLANTED_PHI), path.name
    with warehouse.connect(settings, read_only=True) as con:
        assert con.execute("select count(*) from ops.export_blocks").fetchone()[0] == 0
        status = con.execute("select status from ops.stage_runs where run_id = 'clean-run'").fetchone()[0]
    assert status == "success"
    page = (settings.reports_dir / "run-status.html").read_text(encoding="utf-8")
    assert "No file has been held back." in page


@pytest.fixture(scope="module")
def bypassed(tmp_path_factory, clean):
    """The same warehouse, but redaction skipped for the planted comments; reported into a fresh folder."""
    base = tmp_path_factory.mktemp("scan-bypassed")
    settings = _settings(base)
    (base / "sources").mkdir()
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=500)
        bypassed = con.execute(
            "update enrich.redactions r set text_redacted = f.text from raw.feedback f "
            "where r.feedback_id = f.feedback_id and contains(f.text, ?)",
            [NHS],
        ).fetchone()[0]
        warehouse.build_models(con, settings)
    assert bypassed > 0
    with pytest.raises(ExportBlocked) as caught:
        stages.report_stage(settings, "bypass-run", period=OCTOBER)
    return settings, caught.value


def test_files_carrying_unredacted_text_are_held_back_and_the_others_written(clean, bypassed):
    clean_settings, clean_files = clean
    settings, blocked = bypassed
    held = {f.file for f in blocked.findings}
    assert "exports/2026-10/theme-report/comments.csv" in held
    assert "exports/2026-10/theme-report/theme-report.xlsx" in held
    assert "theme-report-2026-10.html" in held
    kinds = {(f.file, f.column, f.kind) for f in blocked.findings}
    for kind in ("PERSON", "PHONE", "NHS_NUMBER"):
        assert ("exports/2026-10/theme-report/comments.csv", "text_redacted", kind) in kinds
    # Nothing written anywhere holds the planted values; held-back files do not exist at all.
    out = settings.reports_dir
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    for path in written:
        text = _file_text(path)
        assert not any(p in text for p in sample.PLANTED_PHI), path
    for name in held:
        assert not (out / name).exists(), name
    # Every file the clean run wrote and this run did not hold back is there, the same bytes for data files.
    for path in clean_files:
        if not path.is_relative_to(clean_settings.reports_dir):  # the BI extract, beside the warehouse
            assert path == clean_settings.reporting_extract, path
            assert not settings.reporting_extract.exists()  # held back in this run: it held the values
            continue
        relative = str(path.relative_to(clean_settings.reports_dir))
        if relative in held:
            continue
        mine = out / relative
        assert mine.is_file(), relative
        if path.suffix == ".csv" and "run-status" not in relative:
            assert mine.read_bytes() == path.read_bytes(), relative


def test_the_reason_is_recorded_never_the_value(bypassed):
    settings, blocked = bypassed
    with warehouse.connect(settings, read_only=True) as con:
        rows = con.execute(
            "select run_id, file, column_name, kind, count from ops.export_blocks order by all"
        ).fetchall()
        stage = con.execute("select status, message from ops.stage_runs where run_id = 'bypass-run'").fetchone()
        view = con.execute("select count(*) from reporting.rpt_export_blocks").fetchone()[0]
    assert sorted((f.file, f.column, f.kind, f.count) for f in blocked.findings) == sorted(r[1:] for r in rows)
    assert {r[0] for r in rows} == {"bypass-run"} and view == len(rows)
    assert all(r[4] > 0 for r in rows)
    recorded = json.dumps(rows) + stage[1] + str(blocked)
    assert not any(p in recorded for p in sample.PLANTED_PHI)
    assert not any(part in recorded for part in ("07700", "476 5919", "Plantedname"))
    assert stage[0] == "failed"
    assert stage[1].startswith("ExportBlocked: the final privacy scan held back ")
    assert "the other" in stage[1] and "file(s) were written" in stage[1]


def test_the_run_status_page_and_feedback_status_show_what_was_held_back(bypassed, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    settings, blocked = bypassed
    page = (settings.reports_dir / "run-status.html").read_text(encoding="utf-8")
    assert "This run held back" in page
    assert "exports/2026-10/theme-report/comments.csv" in page and "NHS_NUMBER" in page
    index = (settings.reports_dir / "index.html").read_text(encoding="utf-8")
    assert "Theme report: <strong>held back by the final privacy scan</strong>" in index
    assert 'href="trend-pack-2026-10.html"' in index and 'href="theme-report-2026-10.html"' not in index
    monkeypatch.setenv("FEEDBACK_HOME", str(ROOT))
    monkeypatch.setenv("FEEDBACK_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "files held back by the final privacy scan" in result.output
    assert "theme-report/comments.csv" in result.output and "NHS_NUMBER" in result.output
    assert not any(p in result.output for p in sample.PLANTED_PHI)


def test_feedback_report_ends_non_zero_with_a_clear_message(bypassed, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import app

    settings, _ = bypassed
    monkeypatch.setenv("FEEDBACK_HOME", str(ROOT))
    monkeypatch.setenv("FEEDBACK_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setenv("FEEDBACK_SOURCES_DIR", str(settings.sources_dir))
    monkeypatch.setenv("COLUMNS", "250")
    result = CliRunner().invoke(app, ["report", "--period", "2026-10", "--out", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "privacy scan:" in result.output and "held back" in result.output
    assert "theme-report/comments.csv" in result.output
    assert (tmp_path / "out" / "trend-pack-2026-10.html").is_file()
    assert not (tmp_path / "out" / "exports" / "2026-10" / "theme-report" / "comments.csv").exists()


def test_the_console_script_prints_the_reason_in_one_line_and_exits_3(monkeypatch, capsys):
    """`feedback run` raises ExportBlocked out of the stage; the console script turns it into a plain message."""
    from pipelines import cli
    from pipelines.exports import Finding

    def blocked() -> None:
        raise ExportBlocked([Finding("exports/2026-10/theme-report/comments.csv", "text_redacted", "PHONE", 2)], 28)

    monkeypatch.setattr(cli, "app", blocked)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 3
    out = " ".join(capsys.readouterr().out.split())
    assert "privacy scan: the final privacy scan held back 1 file(s) holding identifiers:" in out
    assert "theme-report/comments.csv (text_redacted PHONE x2); the other 28 file(s) were written" in out
