import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.periods import Period, parse_period
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
        paths = write_reports(settings, con, None, settings.reports_dir, "unit-run")
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
    csv_files = {"theme-report": 7, "trend-pack": 11, "run-status": 7}  # one per table the page shows
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
        # The partial plotly.js bundle is inlined once in the trend pack; the other pages draw SVG.
        expected = 1 if path.name.startswith("trend-pack") else 0
        assert path.read_text(encoding="utf-8").count("* plotly.js (basic - minified) v") == expected
        assert "* plotly.js v" not in path.read_text(encoding="utf-8")  # never the full 4.8 MB bundle


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
        paths = write_reports(settings, con, Period.month(date(2026, 10, 1)), tmp_path / "out", None)
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
        paths = write_reports(settings, con, Period.month(date(2026, 10, 1)), tmp_path / "out", None)
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
    from pipelines.report import choice

    settings = _settings(tmp_path)
    with warehouse.connect(settings) as con:
        warehouse.build_models(con, settings)
        volumes = choice.month_volumes(settings, con)
    chosen = choice.choose(None, volumes, today=date(2026, 3, 15))
    assert chosen.period == Period.month(date(2026, 2, 1))
    assert "no feedback" in chosen.reason and chosen.warning and chosen.adequate is None


def _run_row(run_id, stage, started, finished, status, message, versions=None):
    return {
        "run_id": run_id,
        "stage": stage,
        "started_at": started,
        "finished_at": finished,
        "status": status,
        "rows_in": 10,
        "rows_out": 9,
        "seed": 42,
        "versions": json.dumps(versions or {"pipelines": "0.1.0"}),
        "message": message,
    }


def test_run_status_reads_at_a_glance(tmp_path):
    """Short message lines, folded versions, "this run" for the page's own stage, batch -> quarantine links."""
    settings = _settings(tmp_path)
    t0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    recognizer = json.dumps({"recognizers": [{"name": f"Recognizer{i}", "score": 0.5 + i / 100} for i in range(30)]})
    runs = pd.DataFrame(
        [
            _run_row(
                "r1",
                "enrich",
                t0,
                t0 + timedelta(seconds=70),
                "success",
                json.dumps({"rows_in": 1200, "rows_out": 1180, "clauses": 2301, "redactor_version": "p-1"}),
                {"pipelines": "0.1.0", "redactor": recognizer},
            ),
            _run_row(
                "r1",
                "themes",
                t0 + timedelta(minutes=2),
                t0 + timedelta(minutes=3),
                "failed",
                "RuntimeError: BERTopic refit ran out of memory on 1,180 clauses. " + "detail " * 80,
            ),
            _run_row("r0", "report", t0 - timedelta(days=1), None, "running", ""),
            _run_row("r1", "report", t0 + timedelta(minutes=4), None, "running", ""),
        ]
    )
    batches = pd.DataFrame(
        [
            {
                "batch_id": "b-failed",
                "source": "trust_fft",
                "stream": "survey",
                "location": "fft/2022Q4.csv",
                "started_at": t0,
                "finished_at": t0,
                "status": "failed",
                "rows_read": 12,
                "rows_loaded": 0,
                "rows_inserted": 0,
                "rows_updated": 0,
                "rows_quarantined": 12,
                "rows_duplicate": 0,
                "rows_skipped": 0,
                "gx_success": False,
                "message": "12 rows failed validation",
            }
        ]
    )
    quarantine = pd.DataFrame(
        [
            {
                "batch_id": "b-failed",
                "source": "trust_fft",
                "row_number": n,
                "source_record_id": f"R{n}",
                "raw_row": "Jane Plantedname,07700 900123",
                "failed_check": "expect_column_values_to_not_be_null",
                "reason": "no rating and no text",
                "quarantined_at": t0,
            }
            for n in range(2, 26, 2)
        ]
    )
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=300)
        with warehouse.registered(con, extra_runs=runs, extra_batches=batches, extra_quarantine=quarantine):
            con.execute("insert into ops.stage_runs by name select * from extra_runs")
            con.execute("insert into raw.ingest_batches by name select * from extra_batches")
            con.execute("insert into raw.quarantine by name select * from extra_quarantine")
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, None, tmp_path / "out", "r1")
    page = (tmp_path / "out" / "run-status.html").read_text(encoding="utf-8")
    rows = {
        (m.group(1), m.group(2)): m.group(0)
        for m in re.finditer(r'<tr><td class="small">(r\d)</td><td>(\w+)</td>.*?</tr>', page, flags=re.S)
    }
    # The page's own report stage is "this run"; an older one left unfinished "did not finish".
    assert ">this run<" in rows[("r1", "report")] and "writing this page" in rows[("r1", "report")]
    assert ">did not finish<" in rows[("r0", "report")]
    assert ">running<" not in page
    # A JSON summary becomes short lines, not raw JSON; an error its first sentence, in full on hover.
    assert "<li>rows in: 1,200</li>" in rows[("r1", "enrich")] and "<li>clauses: 2,301</li>" in rows[("r1", "enrich")]
    assert "{&#34;rows_in&#34;" not in page and '{"rows_in"' not in page
    failed = rows[("r1", "themes")]
    assert "<li>RuntimeError: BERTopic refit ran out of memory on 1,180 clauses." in failed
    assert 'title="RuntimeError: BERTopic refit' in failed and "detail detail" in failed.split("title=")[1]
    # The recognizer config is folded to one short cell with the full text on hover, and in full in the export.
    folded = re.search(r'<span class="folded" title="([^"]*Recognizer29[^"]*)"[^>]*>([^<]*)</span>', page)
    assert folded and unescape(folded.group(2)) == f"{{recognizers}} ({len(recognizer):,} chars)"
    export = pd.read_csv(next(p for p in paths if p.name == "model_versions.csv"))
    assert recognizer in set(export["version"])
    # The failed batch links to its quarantined rows; the raw rows never reach the page.
    link = re.search(r'<tr data-batch="b-failed">.*?<a class="quarantine-link" href="#(q-\d+)">12 rows', page, re.S)
    assert link and f'<tbody id="{link.group(1)}" data-batch="b-failed">' in page
    assert "2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24" in page
    assert "Jane Plantedname" not in page


def test_the_trend_pack_shows_the_periods_changes_in_the_mix_of_sources(tmp_path):
    """A source that starts sending comments is read as a change of mix beside the alerts (issue 14)."""
    settings = _settings(tmp_path)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=300)
        run_id = con.execute("select max(run_id) from enrich.insight_runs").fetchone()[0]
        rows = [
            ("all", "All", date(2026, 10, 1), "mh_survey / Hillcrest / Mental Health", "new source", 42, 0, 0),
            ("site", "Hillcrest", date(2026, 10, 1), "mh_survey / Hillcrest / Mental Health", "new source", 42, 0, 0),
            ("all", "All", date(2026, 10, 1), "old_kiosk / Northgate / Outpatients", "stopped source", 0, 2, 3),
            ("all", "All", date(2026, 8, 1), "earlier / Northgate / Wards", "new source", 12, 0, 0),
        ]
        con.executemany(
            "insert into enrich.source_changes values (?, ?, ?, ?, ?, ?, ?, ?, ?)", [(run_id, *r) for r in rows]
        )
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        write_reports(settings, con, parse_period("2026-10"), settings.reports_dir, "unit-run", min_responses=1)
    page = unescape((settings.reports_dir / "trend-pack-2026-10.html").read_text(encoding="utf-8"))
    section = page[page.index('id="h-source-changes"') : page.index('id="drivers"')]
    assert "mh_survey / Hillcrest / Mental Health" in section and "new source" in section
    assert "old_kiosk / Northgate / Outpatients" in section and "stopped source" in section
    assert "earlier / Northgate / Wards" not in section  # another month
    assert section.count("mh_survey") == 1  # the overall row; the per-site row is in the export
    export = pd.read_csv(settings.reports_dir / "exports" / "2026-10" / "trend-pack" / "source_changes.csv")
    assert sorted(export["segment_type"]) == ["all", "all", "site"]
    assert export.loc[export["change"] == "stopped source", "baseline_comments"].isna().all()  # 2 < k: suppressed
