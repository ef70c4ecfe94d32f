import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipelines import periods, warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.report import write_reports

ROOT = Path(__file__).resolve().parents[2]


def _settings(base: Path) -> Settings:
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(base / "out"),
        }
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    base = tmp_path_factory.mktemp("report-write")
    settings = _settings(base)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=500)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, month=None, out_dir=settings.reports_dir, run_id="unit-run")
        # The raw comments carry the planted identifiers, so their absence from the outputs means something.
        planted = {
            phi: con.execute("select count(*) from raw.feedback where contains(text, ?)", [phi]).fetchone()[0]
            for phi in sample.PLANTED_PHI
        }
    assert planted and all(n > 0 for n in planted.values()), planted
    return settings, paths


def _markup(page: str) -> str:
    """The page without its own inline scripts (plotly.js mentions URLs in its code)."""
    return re.sub(r"<script>.*?</script>", "", page, flags=re.S)


def _all_text(paths: list[Path]) -> dict[Path, str]:
    out = {}
    for p in paths:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out[p] = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
        else:
            out[p] = p.read_text(encoding="utf-8")
    return out


def test_pages_and_exports_are_written_for_the_latest_full_month(written):
    settings, paths = written
    names = {p.name for p in paths}
    # The sample ends on 2026-10-31, so October is the latest full month.
    assert {"theme-report-2026-10.html", "trend-pack-2026-10.html", "run-status.html", "index.html"} <= names
    assert paths[0].suffix == ".html"
    csv_files = {"theme-report": 6, "trend-pack": 10, "run-status": 5}  # one per table the page shows
    for report, n in csv_files.items():
        folder = settings.reports_dir / "exports" / "2026-10" / report
        assert (folder / f"{report}.xlsx").is_file()
        assert len(list(folder.glob("*.csv"))) == n
        assert len(openpyxl.load_workbook(folder / f"{report}.xlsx").sheetnames) == n
    assert all(p.is_file() for p in paths)


def test_pages_are_self_contained(written):
    _, paths = written
    for path in (p for p in paths if p.suffix == ".html"):
        page = _markup(path.read_text(encoding="utf-8"))
        assert 'http-equiv="Content-Security-Policy"' in page
        assert not re.search(r"<script[^>]+src=", page)
        assert not re.search(r"<link[^>]+href=", page)
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        # plotly.js is inlined once on every page with charts, and not at all on the index.
        assert path.read_text(encoding="utf-8").count("* plotly.js v") == (0 if path.name == "index.html" else 1)


def test_no_raw_text_or_planted_phi_in_any_output(written):
    _, paths = written
    for path, text in _all_text(paths).items():
        for identifier in sample.PLANTED_PHI:
            assert identifier not in text, f"{identifier!r} leaked into {path.name}"


def test_patient_markup_is_escaped_everywhere_in_html(written):
    _, paths = written
    for path in (p for p in paths if p.suffix == ".html"):
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script>alert|<img[^>]*onerror|<a[^>]*href=[\"']?javascript:", page)
    theme = next(p for p in paths if p.name.startswith("theme-report")).read_text(encoding="utf-8")
    # The planted comment is there, as escaped JSON for the explorer and as text in the needs list.
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in theme
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in theme


def test_redacted_placeholders_reach_the_theme_report(written):
    _, paths = written
    theme = next(p for p in paths if p.name.startswith("theme-report")).read_text(encoding="utf-8")
    assert "[NAME]" in theme


def test_trend_pack_shows_alerts_drivers_actions_and_summary(written):
    _, paths = written
    page = next(p for p in paths if p.name.startswith("trend-pack")).read_text(encoding="utf-8")
    assert "What changed in October 2026" in page
    assert "emerging-theme alert(s) this month: Car parking at North Hospital" in page
    assert "Strongest driver of a poor FFT rating: Waiting times (34 points" in page
    assert "too early to tell" in page
    assert 'id="chart-key-drivers"' in page and 'id="chart-kpi-fft_positive_pct"' in page
    # The tiny-site alert is suppressed, not shown with its count.
    assert "suppressed (&lt;5 comments)" in page


def test_reports_degrade_gracefully_without_insights_or_actions(tmp_path):
    settings = _settings(tmp_path)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=300, insights=False, actions=False)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, month=date(2026, 10, 1), out_dir=tmp_path / "out", run_id=None)
    page = next(p for p in paths if p.name.startswith("trend-pack")).read_text(encoding="utf-8")
    assert "No alerts this period" in page
    assert "No key-driver analysis in the latest insights run." in page
    assert "No segment-lift results" in page
    assert "No improvement actions recorded yet" in page


def test_reports_of_an_empty_warehouse_still_open(tmp_path):
    settings = _settings(tmp_path)
    with warehouse.connect(settings) as con:
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, month=date(2026, 10, 1), out_dir=tmp_path / "out", run_id=None)
    pages = {p.name: p.read_text(encoding="utf-8") for p in paths if p.suffix == ".html"}
    assert "No theme has 5 or more comments in October 2026." in pages["theme-report-2026-10.html"]
    assert "No KPI has data for October 2026." in pages["trend-pack-2026-10.html"]
    assert "No stage has run yet." in pages["run-status.html"]


def test_bad_period_is_a_clear_error_before_any_work(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setenv("FEEDBACK_HOME", str(tmp_path))
    for command in (["report", "--period", "10/2026"], ["run", "--period", "2026-13"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "YYYY-MM" in result.output
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_default_period_without_data_is_last_month(tmp_path):
    from pipelines.report.data import resolve_month

    settings = _settings(tmp_path)
    with warehouse.connect(settings) as con:
        warehouse.build_models(con, settings)
        month = resolve_month(settings, con, None)
    today = date.today()
    assert month == periods.add_months(date(today.year, today.month, 1), -1)
