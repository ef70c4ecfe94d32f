"""The reports in a real headless Chromium, driven by Playwright.

A small synthetic warehouse (pipelines/demo/report_sample.py: a few hundred rows inserted into the
raw/enrich/ops tables, then warehouse.build_models) is reported on; each page must weigh at most
1.5 MB, load with no console error or CSP violation, draw its charts (Plotly in the trend pack,
server-side SVG elsewhere), filter, search, drill down and sort with real clicks and typing, and
leave the planted <script>/<img onerror>/javascript: comment inert. A second warehouse carries such
payloads (and a `"><svg onload>` breakout) in site, service and source names, theme labels and a
category: no page opens a dialog or breaks its CSP, and no spreadsheet cell can run as a formula.
A quarter's explorer opens on the quarter; a thin month warns and links to the last adequate
month; run status links each batch to its quarantined rows. Screenshots go to test-artifacts/.

The browser is Debian's chromium (Playwright's own browser download is never used): installed
with apt-get when missing (skipped, with the reason, only if that fails).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, expect, sync_playwright

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.periods import Period
from pipelines.report import write_reports
from pipelines.report.html import PAGE_BYTES_MAX, content_security_policy

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 900}
# Runs before any page script (CDP, so the page's CSP does not apply to it): a violation the
# browser reports only as an event still reaches the console watch.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")));
"""


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's chromium, installed with apt-get when it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and apt-get needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-liberation"],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"could not install Debian chromium ({' '.join(step)}): {done.stderr.strip()[-400:]}")
    if not CHROMIUM.exists():
        pytest.skip(f"apt-get installed chromium but there is no {CHROMIUM} ({shutil.which('chromium')=})")
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium_path: Path) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
    yield b
    b.close()


class Tab:
    """One page with everything that must not happen on it recorded as it happens."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"exception: {exc}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type in {"error", "assert"}:
            self.problems.append(f"console.{msg.type}: {msg.text}")

    def _dialog(self, dialog: Dialog) -> None:
        # An alert() would block the page: record it (the tests fail on it) and dismiss it.
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path) -> Page:
        """Load a report and wait until report.js has set it up."""
        for log in (self.problems, self.dialogs, self.requests):
            log.clear()
        self.page.goto(path.as_uri(), wait_until="load")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        return self.page


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(CSP_WATCH)
    yield Tab(context.new_page())
    context.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("browser-reports")
    settings = Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(base / "reports"),
        }
    )
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=1200)
        # The report stage of this run is under way while its pages are written.
        running = {"run_id": "browser-test", "stage": "report", "started_at": datetime.now(UTC), "status": "running"}
        with warehouse.registered(con, running_stage=pd.DataFrame([running])):
            con.execute("insert into ops.stage_runs by name select * from running_stage")
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        out = settings.reports_dir
        quarter = write_reports(settings, con, Period.quarter(2026, 3), out, "browser-test")
        paths = write_reports(settings, con, Period.month(date(2026, 10, 1)), out, "browser-test")
    pages = {p.name: p for p in quarter + paths if p.suffix == ".html"}
    return {
        "theme": pages["theme-report-2026-10.html"],
        "trend": pages["trend-pack-2026-10.html"],
        "status": pages["run-status.html"],
        "index": pages["index.html"],
        "theme-q3": pages["theme-report-2026-Q3.html"],
        "trend-q3": pages["trend-pack-2026-Q3.html"],
    }


@pytest.fixture(scope="module")
def thin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Data to 7 November 2026 with October cut to two records, reported for October."""
    base = tmp_path_factory.mktemp("browser-thin")
    settings = Settings.from_env({"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb")})
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=1200, end=date(2026, 11, 7))
        con.execute(
            "delete from raw.feedback where timezone('Europe/London', received_at) >= timestamp '2026-10-01' "
            "and timezone('Europe/London', received_at) < timestamp '2026-11-01' and feedback_id not in ("
            "  select feedback_id from raw.feedback where timezone('Europe/London', received_at) "
            "  between timestamp '2026-10-02' and timestamp '2026-10-31' order by received_at limit 2)"
        )
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, Period.month(date(2026, 10, 1)), base / "out", "browser-thin")
    return {p.name: p for p in paths if p.suffix == ".html"}


# --------------------------------------------------------------------------- the error watch


def test_the_error_watch_sees_a_csp_violation_and_a_dialog(tab: Tab, tmp_path: Path) -> None:
    """The no-problem assertions below can fail: a page breaking the reports' CSP is caught."""
    allowed = "document.body.setAttribute('data-ready', 'true');"
    page = tmp_path / "bad.html"
    page.write_text(
        f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{content_security_policy([allowed])}"></head><body>'
        '<script>window.__xss = 1;</script><img src=x onerror="window.__xss = 2">'
        f"<script>{allowed}</script></body></html>",
        encoding="utf-8",
    )
    p = tab.open(page)
    assert p.evaluate("typeof window.__xss") == "undefined"
    # Chromium's own console report, and the securitypolicyviolation events, one per blocked thing.
    assert any("Content Security Policy" in m for m in tab.problems), tab.problems
    for directive in ("script-src-elem", "script-src-attr", "img-src"):
        assert any(f"CSP violation: {directive}" in m for m in tab.problems), (directive, tab.problems)
    p.evaluate("setTimeout(() => alert('hi'), 0)")  # not an inline script: CDP evaluation bypasses the CSP
    p.wait_for_timeout(300)
    assert tab.dialogs == ["hi"]


# --------------------------------------------------------------------------- every page


PAGES = ["theme", "trend", "status", "index", "theme-q3", "trend-q3"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_weighs_at_most_1_5_mb(reports: dict[str, Path], page: str) -> None:
    size = reports[page].stat().st_size
    assert size <= PAGE_BYTES_MAX, f"{reports[page].name}: {size / 1e6:.2f} MB"


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors_and_draws_charts(tab: Tab, reports: dict[str, Path], page: str) -> None:
    p = tab.open(reports[page])
    charts = p.locator(".chart").count()
    # Plotly draws into the div (trend pack); the other pages carry server-side SVG.
    drawn = p.locator(".chart").evaluate_all(
        "cs => cs.filter(c => c.querySelector('.main-svg, canvas, svg.svgchart') "
        "&& c.getBoundingClientRect().height > 100).length"
    )
    has_plotly = p.evaluate("typeof Plotly !== 'undefined'")
    assert has_plotly == page.startswith("trend")
    if page != "index":
        assert charts > 0
        assert drawn == charts, f"{drawn} drawn of {charts} charts"
    # Nothing may be fetched from outside the file.
    external = p.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('file:') && !n.startsWith('data:'))"
    )
    assert external == []
    assert [u for u in tab.requests if not u.startswith(("file:", "data:"))] == []
    shot = ARTIFACTS / f"report-{page}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tab.problems == []
    assert tab.dialogs == []


# --------------------------------------------------------------------------- theme report


def _comments_data(p: Page) -> dict[str, Any]:
    return json.loads(p.locator("#comments-data").text_content() or "null")


def _expected(
    data: dict[str, Any],
    *,
    month: str = "",
    site: str = "",
    service: str = "",
    channel: str = "",
    theme: str = "",
    needs: bool = False,
    search: str = "",
) -> int:
    """How many comments the explorer should match: its documented filters, computed here in Python."""
    terms = search.lower().split()
    return sum(
        1
        for c in data["comments"]
        if (not month or c["m"] == month)
        and (not site or c["site"] == site)
        and (not service or c["service"] == service)
        and (not channel or c["ch"] == channel)
        and (not theme or theme in (c["themes"] or []))
        and (not needs or c["needs"])
        and all(t in (c["text"] or "").lower() for t in terms)
    )


def _shown(p: Page, count: int) -> None:
    """Wait for the explorer to show ``count`` matches (search is debounced) and say so."""
    expect(p.locator("#comments-body")).to_have_attribute("data-count", str(count))
    expect(p.locator("#comments-status")).to_contain_text(f"of {count} matching comments")
    assert p.locator("#comments-body tr").count() == min(count, 200)


def _column(p: Page, index: int) -> list[str]:
    return p.locator(f"#comments-body tr td:nth-child({index})").all_text_contents()


def test_theme_report_filters_and_search_narrow_the_comments(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["theme"])
    data = _comments_data(p)
    period = data["period"]
    assert p.locator("#f-month").input_value() == period
    initial = _expected(data, month=period)
    assert initial > 0
    _shown(p, initial)

    # Search: every term must occur, case-insensitively, in the shown text.
    p.locator("#f-search").fill("PARKING")
    searched = _expected(data, month=period, search="parking")
    assert 0 < searched < initial
    _shown(p, searched)
    texts = p.locator("#comments-body td.text span:first-child").all_text_contents()
    assert texts and all("parking" in t.lower() for t in texts)
    p.locator("#f-search").fill("parking charge")
    _shown(p, _expected(data, month=period, search="parking charge"))

    # Site, channel and service filters narrow further; each shown row matches them.
    p.locator("#f-search").fill("parking")
    p.locator("#f-site").select_option("North Hospital")
    at_site = _expected(data, month=period, site="North Hospital", search="parking")
    assert 0 < at_site < searched
    _shown(p, at_site)
    assert set(_column(p, 2)) == {"North Hospital"}
    p.locator("#f-search").fill("")
    channel = data["comments"][0]["ch"]
    p.locator("#f-channel").select_option(channel)
    _shown(p, _expected(data, month=period, site="North Hospital", channel=channel))
    assert set(_column(p, 4)) <= {channel}

    # All months: more comments than the report month alone.
    p.locator("#f-site").select_option("")
    p.locator("#f-channel").select_option("")
    p.locator("#f-month").select_option("")
    assert _expected(data) > initial
    _shown(p, _expected(data))

    # Needs a response only: every shown comment carries its reason.
    p.locator("#f-month").select_option(period)
    p.locator("#f-needs").check()
    needs = _expected(data, month=period, needs=True)
    assert 0 < needs < initial
    _shown(p, needs)
    assert all("needs a response:" in t for t in _column(p, 7))

    # Reset restores everything.
    p.locator("#f-reset").click()
    _shown(p, initial)
    assert p.locator("#f-search").input_value() == "" and not p.locator("#f-needs").is_checked()
    assert tab.problems == []


def test_theme_drill_down_shows_only_that_themes_comments(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["theme"])
    data = _comments_data(p)
    period = data["period"]
    p.locator("#f-month").select_option("")  # the drill-down goes back to the report month
    p.locator("#f-search").fill("no such words anywhere")
    _shown(p, 0)
    p.locator("#f-search").fill("")
    button = p.locator("button[data-theme-filter]").nth(1)
    theme = button.get_attribute("data-theme-filter")
    assert theme
    button.click()
    expect(p.locator("#f-theme")).to_have_value(theme)
    expect(p.locator("#f-theme")).to_be_focused()
    assert p.locator("#f-month").input_value() == period
    expected = _expected(data, month=period, theme=theme)
    assert 0 < expected < _expected(data, month=period)
    _shown(p, expected)
    label = data["themes"][theme]
    assert all(label in cell.split(", ") for cell in _column(p, 6))
    assert tab.problems == []


def _ranks(p: Page, key: str) -> list[float]:
    values = p.locator("#theme-ranking tbody tr").evaluate_all(
        f"rows => rows.map(r => r.getAttribute('data-rank-{key}'))"
    )
    return [float(v) if v not in (None, "", "None") else math.inf for v in values]


def test_theme_ranking_sorts_by_each_measure(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["theme"])
    rows = p.locator("#theme-ranking tbody tr")
    themes = rows.evaluate_all("rows => rows.map(r => r.dataset.theme)")
    assert len(themes) >= 3
    assert _ranks(p, "volume") == sorted(_ranks(p, "volume"))  # the page opens sorted by volume
    assert _ranks(p, "momentum") != sorted(_ranks(p, "momentum")), "sample data should make sorting visible"
    for key in ("momentum", "negativity", "volume"):
        p.locator(f"button[data-sort={key}]").click()
        ranks = _ranks(p, key)
        assert ranks == sorted(ranks), key
        assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.theme)")) == sorted(themes)
        assert p.locator("#theme-ranking td.rank").all_text_contents() == [str(i + 1) for i in range(len(themes))]
        pressed = p.locator("button[data-sort]").evaluate_all(
            "bs => bs.map(b => [b.dataset.sort, b.getAttribute('aria-pressed')])"
        )
        assert dict(pressed) == {k: "true" if k == key else "false" for k in ("volume", "negativity", "momentum")}
        expect(p.locator("#sort-status")).to_have_text(f"Themes sorted by {key}.")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.theme)") == themes
    assert tab.problems == []


# --------------------------------------------------------------------------- patient text stays text


@pytest.mark.parametrize("page", ["theme", "trend"])
def test_markup_in_a_comment_stays_inert_text(tab: Tab, reports: dict[str, Path], page: str) -> None:
    p = tab.open(reports[page])
    if page == "theme":  # show the planted comment in the explorer too
        p.locator("#f-search").fill("click me")
        _shown(p, _expected(_comments_data(p), month="2026-10", search="click me"))
    assert "<script>alert(1)</script>" in p.locator("body").inner_text()
    assert tab.dialogs == []
    assert p.locator("img[src=x], img[onerror]").count() == 0
    assert p.locator('a[href^="javascript:"]').count() == 0
    # Only the page's own scripts exist: data blocks, plotly.js and report.js.
    assert p.evaluate("[...document.scripts].filter(s => s.type !== 'application/json').length") <= 2
    assert p.evaluate("typeof window.__xss") == "undefined"
    # Clicking on the planted text does nothing either.
    planted = p.locator("td, p").filter(has_text="click me")
    assert planted.filter(visible=True).count() > 0
    for cell in planted.filter(visible=True).all():
        cell.click()  # a real click where a person could click
    for cell in planted.all():
        cell.dispatch_event("click")  # and a click event on the copies in closed <details> too
    p.wait_for_timeout(300)
    assert tab.dialogs == []
    assert tab.problems == []


# --------------------------------------------------------------------------- periods


def test_a_quarters_explorer_opens_on_the_quarter(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["theme-q3"])
    data = _comments_data(p)
    assert data["period"] == "2026-Q3" and data["period_months"] == ["2026-07", "2026-08", "2026-09"]
    assert p.locator("#f-month").input_value() == "2026-Q3"
    assert p.locator("#f-month option:checked").text_content() == "2026 Q3 (July to September)"
    in_quarter = sum(1 for c in data["comments"] if c["m"] in data["period_months"])
    assert in_quarter > _expected(data, month="2026-09") > 0
    _shown(p, in_quarter)
    assert all("2026-07-01" <= day <= "2026-09-30" for day in _column(p, 1))
    p.locator("#f-month").select_option("2026-08")
    _shown(p, _expected(data, month="2026-08"))
    p.locator("#f-reset").click()
    _shown(p, in_quarter)
    # The drill-down keeps the whole quarter.
    button = p.locator("button[data-theme-filter]").first
    theme = button.get_attribute("data-theme-filter")
    button.click()
    expect(p.locator("#f-month")).to_have_value("2026-Q3")
    _shown(p, sum(1 for c in data["comments"] if c["m"] in data["period_months"] and theme in (c["themes"] or [])))
    assert tab.problems == []


def test_a_thin_month_warns_and_links_to_the_last_adequate_month(tab: Tab, thin: dict[str, Path]) -> None:
    p = tab.open(thin["theme-report-2026-10.html"])
    warning = p.locator("#period-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("October 2026 has only")
    assert p.locator("#chart-theme-trends svg.svgchart").count() == 1  # trends drawn though October is thin
    p.locator("#adequate-link").click()
    p.wait_for_load_state("load")
    expect(p.locator("body")).to_have_attribute("data-ready", "true")
    assert p.url.endswith("theme-report-2026-09.html")
    expect(p.locator("h1")).to_have_text("Theme report \u2014 September 2026")
    assert p.locator("#period-warning").count() == 0
    assert p.locator("#theme-ranking tbody tr").count() > 0
    trend = tab.open(thin["trend-pack-2026-10.html"])
    expect(trend.locator("#period-warning")).to_be_visible()
    assert trend.locator("#adequate-link").get_attribute("href") == "trend-pack-2026-09.html"
    assert trend.locator(".chart .main-svg").count() > 0
    assert tab.problems == []


def test_the_index_lists_every_period_and_links_the_written_ones(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["index"])
    listed = p.locator("#periods-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.period)")
    assert {"2026-10", "2026-Q3", "2026-09", "2026-Q2"} <= set(listed) and len(listed) >= 24
    row = p.locator('#periods-table tr[data-period="2026-Q3"]')
    expect(row).to_contain_text("adequate")
    row.get_by_role("link", name="trend pack").click()
    p.wait_for_load_state("load")
    expect(p.locator("h1")).to_have_text("Trend pack \u2014 2026 Q3 (July to September)")
    expect(p.locator("body")).to_have_attribute("data-ready", "true")
    assert tab.problems == []


# --------------------------------------------------------------------------- run status


def test_run_status_reads_at_a_glance(tab: Tab, reports: dict[str, Path]) -> None:
    p = tab.open(reports["status"])
    runs = p.locator("#runs-table tbody tr")
    this_run = runs.filter(has_text="browser-test")
    expect(this_run).to_contain_text("this run")
    expect(this_run).to_contain_text("writing this page")
    assert "running" not in (p.locator("#runs-table").text_content() or "")
    # Each batch that quarantined rows links to them, and the link lands on them.
    link = p.locator("#batches-table a.quarantine-link").first
    batch = link.evaluate("a => a.closest('tr').dataset.batch")
    link.click()
    target = p.locator(f'#quarantine-batches-table tbody[data-batch="{batch}"]')
    assert p.evaluate("location.hash") == "#" + (target.get_attribute("id") or "")
    expect(target).to_be_in_viewport()
    # Version cells stay narrow: the widest cell of the versions table fits the page.
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert tab.problems == []


# --------------------------------------------------------------------------- names that carry markup

# Payloads in the names reports show as labels, filters, table cells, chart legends and data
# attributes: a site, a service, a source, theme labels and a theme category. Each names itself,
# so a dialog would say which one ran.
HOSTILE_NAMES = {
    "site": ("Central Clinic", "Central \"><svg onload=alert('site')> Clinic"),
    "service": ("Outpatients", "<img src=x onerror=alert('service')> Outpatients"),
    "source": ("sample_suggestions", "<script>alert('source')</script>suggestions"),
    "theme": ("Food and drink", "<a href=\"javascript:alert('theme')\">Food</a> and drink"),
    "theme_breakout": ("Waiting times", "</script><script>alert('theme2')</script>Waiting"),
    "category": ("Food and drink", "javascript:alert('category')"),
}
# Names a spreadsheet would run as formulas.
FORMULA_NAMES = {
    "site": ("South Hospital", '=HYPERLINK("http://evil.example","South")'),
    "tiny_site": (sample.TINY_SITE, "@SUM(1+1)*cmd|' /C calc'!A0"),
    "source": ("sample_nps", "-2+3+cmd|' /C calc'!A0"),
    "theme": ("Cleanliness", "+cmd|' /C calc'!A0 Cleanliness"),
}
# Every element attribute that could run script: on* handlers and javascript: URLs (svg xlink:href too).
SCRIPTABLE_ATTRIBUTES = """
[...document.querySelectorAll('*')].flatMap(el => [...el.attributes]
  .filter(a => a.name.toLowerCase().startsWith('on')
            || a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase().startsWith('javascript:'))
  .map(a => el.tagName + ' ' + a.name + '=' + a.value))
"""


def _rename(con: Any, table: str, column: str, old: str, new: str) -> None:
    con.execute(f"update {table} set {column} = ? where {column} = ?", [new, old])  # noqa: S608


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample with markup and formulas in site, service, source names and theme labels."""
    base = tmp_path_factory.mktemp("browser-hostile")
    settings = Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(base / "reports"),
        }
    )
    sites = {**{k: v for k, v in HOSTILE_NAMES.items() if k == "site"}, "south": FORMULA_NAMES["site"]}
    sites["tiny"] = FORMULA_NAMES["tiny_site"]
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=1200)
        for old, new in sites.values():
            for table, column in (
                ("raw.feedback", "site"),
                ("raw.feedback_history", "site"),
                ("ops.actions", "site"),
                ("enrich.theme_alerts", "segment_value"),
                ("enrich.segment_lift", "segment_value"),
            ):
                _rename(con, table, column, old, new)
        for table in ("raw.feedback", "raw.feedback_history"):
            _rename(con, table, "service", *HOSTILE_NAMES["service"])
        for old, new in (HOSTILE_NAMES["source"], FORMULA_NAMES["source"]):
            for table in ("raw.feedback", "raw.feedback_history", "raw.ingest_batches", "raw.quarantine"):
                _rename(con, table, "source", old, new)
        for key in ("theme", "theme_breakout"):
            _rename(con, "enrich.themes", "label", *HOSTILE_NAMES[key])
        _rename(con, "enrich.themes", "label", *FORMULA_NAMES["theme"])
        _rename(con, "enrich.themes", "category_name", *HOSTILE_NAMES["category"])
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, Period.month(date(2026, 10, 1)), settings.reports_dir, "browser-hostile")
    pages = {p.name: p for p in paths if p.suffix == ".html"}
    return {
        "theme": pages["theme-report-2026-10.html"],
        "trend": pages["trend-pack-2026-10.html"],
        "status": pages["run-status.html"],
        "index": pages["index.html"],
        "exports": settings.reports_dir / "exports",
    }


# Where each page shows the names (a page need not show every one).
SHOWN = {
    "theme": ("site", "service", "theme", "theme_breakout", "category"),
    "trend": ("site", "theme", "theme_breakout"),
    "status": ("source",),
    "index": (),
}


@pytest.mark.parametrize("page", sorted(SHOWN))
def test_markup_in_site_source_and_theme_names_stays_inert_text(tab: Tab, hostile: dict[str, Path], page: str) -> None:
    p = tab.open(hostile[page])
    text = p.locator("body").inner_text()
    for key in SHOWN[page]:
        assert HOSTILE_NAMES[key][1] in text, f"{key} name not shown as text on the {page} page"
    if page == "theme":  # the explorer's filters list the names, and filtering renders rows with them
        site, service = HOSTILE_NAMES["site"][1], HOSTILE_NAMES["service"][1]
        p.locator("#f-site").select_option(label=site)
        p.locator("#f-service").select_option(label=service)
        p.locator("#f-month").select_option("")
        data = _comments_data(p)
        _shown(p, _expected(data, site=site, service=service))
        assert set(_column(p, 2)) == {site}
        p.locator("#f-reset").click()
        theme = next(k for k, label in data["themes"].items() if label == HOSTILE_NAMES["theme"][1])
        p.locator(f'button[data-theme-filter="{theme}"]').click()
        _shown(p, _expected(data, month=data["period"], theme=theme))
    for key in SHOWN[page]:
        cells = p.locator("td, th, p, li, summary, h3").filter(has_text=HOSTILE_NAMES[key][1])
        for cell in cells.filter(visible=True).all()[:5]:
            cell.click()  # a real click on the name, where a person could click
        for cell in p.get_by_text(HOSTILE_NAMES[key][1], exact=False).all()[:20]:
            cell.dispatch_event("click")  # and events on every copy: chart labels, closed <details>
            cell.dispatch_event("mouseover")
    p.wait_for_timeout(300)
    assert tab.dialogs == []
    assert tab.problems == []  # no CSP violation: nothing even tried to run
    assert p.evaluate(SCRIPTABLE_ATTRIBUTES) == []
    # Only the page's own scripts exist: data blocks, plotly.js (trend pack) and report.js.
    assert p.evaluate("[...document.scripts].filter(s => s.type !== 'application/json').length") <= 2
    assert p.locator("svg[onload], img[onerror], img[src=x]").count() == 0


def _exported_cells(folder: Path) -> list[tuple[str, Any]]:
    """(file, cell) for every cell of every CSV (as text) and XLSX (as stored) under ``folder``."""
    import csv

    import openpyxl

    cells: list[tuple[str, Any]] = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as f:
            cells += [(path.name, value) for row in csv.reader(f) for value in row]
    for path in sorted(folder.rglob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                cells += [(f"{path.name}:{sheet.title}", c) for c in row]
    return cells


def test_every_spreadsheet_cell_from_hostile_names_is_formula_guarded(hostile: dict[str, Path]) -> None:
    cells = _exported_cells(hostile["exports"])
    assert len(cells) > 1000
    unsafe, formulas, seen = [], [], set()
    for where, cell in cells:
        if where.endswith(".csv"):
            value = cell
        else:
            if cell.data_type == "f":
                formulas.append((where, cell.coordinate, cell.value))
            value = cell.value
        if not isinstance(value, str) or not value:
            continue
        first = value.lstrip(" \t\r\n\u00a0")[:1]
        if first in ("=", "+", "-", "@") and not _is_number(value):
            unsafe.append((where, value[:60]))
        for key, (_, name) in FORMULA_NAMES.items():
            if name in value:
                assert value.startswith("'"), (where, value[:80])
                seen.add(key)
    assert formulas == []
    assert unsafe == []
    assert seen == set(FORMULA_NAMES), f"names not exported: {set(FORMULA_NAMES) - seen}"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
