"""The reports in a real headless Chromium, driven over the DevTools protocol.

A small synthetic warehouse (pipelines/demo/report_sample.py: a few hundred rows inserted into the
raw/enrich/ops tables, then warehouse.build_models) is reported on; each page must load with no
console error or CSP violation, draw its charts, filter and search its comments, and leave the
planted <script>/<img onerror>/javascript: comment inert. Screenshots go to test-artifacts/.

Chromium is Debian's package: installed with apt-get when missing (skipped, with the reason,
only if that fails). Talks CDP with the `websockets` package already pinned for Airflow.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.report import write_reports

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--window-size=1366,900",
)


def _chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = _chromium_binary()
    if found:
        return found
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
    found = _chromium_binary()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium binary is on PATH")
    return found


class Browser:
    """Just enough of the DevTools protocol: one page, events buffered."""

    def __init__(self, binary: str) -> None:
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = self._devtools_port()
        page = next(
            t
            for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
            if t["type"] == "page"
        )
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1366, height=900, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self) -> int:
        deadline = time.monotonic() + 30
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if match:
                return int(match.group(1))
            if not line and self.proc.poll() is not None:
                break
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def send(self, method: str, timeout: float = 60, **params: object) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)
        raise TimeoutError(method)

    def _event(self, msg: dict) -> None:
        self.events.append(msg)
        if msg.get("method") == "Page.javascriptDialogOpening":
            # An alert() would block the page: record it (the test fails on it) and dismiss it.
            self.ws.send(
                json.dumps({"id": next(self.ids), "method": "Page.handleJavaScriptDialog", "params": {"accept": False}})
            )

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            try:
                msg = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            except TimeoutError:
                break
            if "id" not in msg:
                self._event(msg)
                if msg.get("method") == method:
                    return msg
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.05)))
            except TimeoutError:
                return
            if "id" not in msg:
                self._event(msg)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", timeout=90)
        for _ in range(100):
            if self.eval("document.body && document.body.getAttribute('data-ready')") == "true":
                break
            self.drain(0.1)
        self.drain(0.5)

    def eval(self, expression: str) -> object:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, CSP violations and dialogs since the last open."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                out.append(
                    "console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(params["exceptionDetails"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append("log: " + params["entry"]["text"][:500])
            elif method == "Page.javascriptDialogOpening":
                out.append("dialog: " + params.get("message", ""))
        return out

    def dialogs(self) -> list[str]:
        return [
            e["params"].get("message", "") for e in self.events if e.get("method") == "Page.javascriptDialogOpening"
        ]

    def screenshot(self, path: Path) -> None:
        height = int(self.eval("Math.min(document.documentElement.scrollHeight, 12000)") or 900)
        self.send("Emulation.setDeviceMetricsOverride", width=1366, height=height, deviceScaleFactor=1, mobile=False)
        self.drain(0.5)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        self.send("Emulation.setDeviceMetricsOverride", width=1366, height=900, deviceScaleFactor=1, mobile=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


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
        prepare_reporting(settings, con)
        paths = write_reports(settings, con, period="2026-10", out_dir=settings.reports_dir, run_id="browser-test")
    pages = {p.name: p for p in paths if p.suffix == ".html"}
    return {
        "theme": pages["theme-report-2026-10.html"],
        "trend": pages["trend-pack-2026-10.html"],
        "status": pages["run-status.html"],
        "index": pages["index.html"],
    }


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    b = Browser(chromium_path)
    yield b
    b.close()


@pytest.mark.parametrize("page", ["theme", "trend", "status", "index"])
def test_page_loads_without_errors_and_draws_charts(browser: Browser, reports: dict[str, Path], page: str) -> None:
    browser.open(reports[page].as_uri())
    assert browser.problems() == []
    charts = browser.eval("document.querySelectorAll('.chart').length")
    drawn = browser.eval("document.querySelectorAll('.chart .main-svg, .chart canvas').length")
    if page != "index":
        assert charts > 0
        assert drawn >= charts, f"{drawn} drawn of {charts} charts"
    # Nothing may be fetched from outside the file.
    external = browser.eval(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith('file:') && !n.startsWith('data:'))"
    )
    assert external == []
    browser.screenshot(ARTIFACTS / f"report-{page}.png")


def test_theme_report_filters_and_search_narrow_the_comments(browser: Browser, reports: dict[str, Path]) -> None:
    browser.open(reports["theme"].as_uri())
    count = "parseInt(document.getElementById('comments-body').getAttribute('data-count'))"
    initial = browser.eval(count)
    assert initial > 0
    browser.eval(
        "var s = document.getElementById('f-search'); s.value = 'parking'; s.dispatchEvent(new Event('input'))"
    )
    browser.drain(0.5)
    searched = browser.eval(count)
    assert 0 < searched < initial
    texts = browser.eval(
        "[...document.querySelectorAll('#comments-body td.text span:first-child')].map(e => e.textContent)"
    )
    assert texts and all("parking" in t.lower() for t in texts)
    # A site filter narrows further; reset restores everything.
    browser.eval(
        "var f = document.getElementById('f-site'); f.value = 'North Hospital'; f.dispatchEvent(new Event('change'))"
    )
    assert browser.eval(count) <= searched
    browser.eval("document.getElementById('f-reset').click()")
    assert browser.eval(count) == initial
    # Drill-down from the ranking filters the table to that theme.
    browser.eval("document.querySelector('button[data-theme-filter]').click()")
    theme = browser.eval("document.getElementById('f-theme').value")
    assert theme and browser.eval(count) <= initial
    # Sorting by momentum reorders the ranking and says so.
    browser.eval("document.querySelector('button[data-sort=momentum]').click()")
    assert browser.eval("document.querySelector('button[data-sort=momentum]').getAttribute('aria-pressed')") == "true"
    assert browser.problems() == []


def test_markup_in_a_comment_stays_inert_text(browser: Browser, reports: dict[str, Path]) -> None:
    for page in ("theme", "trend"):
        browser.open(reports[page].as_uri())
        # Show every comment so the planted one is in the DOM (theme report).
        browser.eval(
            "(() => { const s = document.getElementById('f-search'); if (!s) return;"
            " s.value = 'click me'; s.dispatchEvent(new Event('input')); })()"
        )
        browser.drain(0.6)
        text = browser.eval("document.body.innerText")
        assert "<script>alert(1)</script>" in text, page
        assert browser.dialogs() == []
        assert browser.eval("document.querySelectorAll('img[src=x], img[onerror]').length") == 0
        assert browser.eval("document.querySelectorAll('a[href^=\"javascript:\"]').length") == 0
        # Only the page's own scripts exist: data blocks, plotly.js and report.js.
        scripts = browser.eval("[...document.scripts].filter(s => s.type !== 'application/json').length")
        assert scripts <= 2
        assert browser.eval("typeof window.__xss") == "undefined"
        # Clicking on the planted text does nothing either.
        browser.eval(
            "[...document.querySelectorAll('td, p')]"
            ".filter(e => e.textContent.includes('click me')).forEach(e => e.click())"
        )
        browser.drain(0.5)
        assert browser.dialogs() == []
        assert browser.problems() == []
