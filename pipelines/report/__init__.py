"""Reports people act on, written from the ``reporting`` views of the warehouse.

``write_reports`` writes, for one month, three self-contained HTML pages that open offline
(plotly.js and all data inline, a Content-Security-Policy that forbids loading anything) plus
CSV and XLSX exports of every table they show:

* ``theme-report-<YYYY-MM>.html`` - the feedback response team (pipelines/report/theme_report.py)
* ``trend-pack-<YYYY-MM>.html`` - the quality committee (pipelines/report/trend_pack.py)
* ``run-status.html`` - the data team (pipelines/report/run_status.py)
* ``index.html`` linking them, and ``exports/<YYYY-MM>/<report>/*.csv|xlsx``.

docs/reports.md describes every section; docs/kpis.md defines every KPI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from pipelines import __version__
from pipelines.config import Settings
from pipelines.report import run_status, theme_report, trend_pack
from pipelines.report.data import ReportContext, resolve_month
from pipelines.report.exports import write_exports
from pipelines.report.html import json_for_script, render_page
from pipelines.report.theme_report import Page

__all__ = ["write_reports"]

log = logging.getLogger(__name__)


class _Report(NamedTuple):
    file: str  # page file name; ``{period}`` is the report month as YYYY-MM
    title: str  # ``{month}`` is the report month in words
    audience: str
    build: Callable[[ReportContext], Page]


# The reports in writing order, keyed by their template and export folder name.
REPORTS = {
    "theme_report": _Report(
        "theme-report-{period}.html",
        "Theme report \u2014 {month}",
        "For the feedback response team: what patients talk about, what to answer.",
        theme_report.build,
    ),
    "trend_pack": _Report(
        "trend-pack-{period}.html",
        "Trend pack \u2014 {month}",
        "For the quality committee: KPIs, trends, alerts, drivers and actions.",
        trend_pack.build,
    ),
    "run_status": _Report(
        "run-status.html",
        "Run status",
        "For the data team: pipeline runs, rows, quarantine, versions and data windows.",
        run_status.build,
    ),
}


def write_reports(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    month: date | None,
    out_dir: Path,
    run_id: str | None,
) -> list[Path]:
    """Write the three HTML reports and their exports for one month.

    Args:
        settings: where things live; ``min_cell`` is the suppression threshold k.
        con: an open warehouse connection; only ``reporting`` views are read. The pipeline
            prepares them first (``pipelines.insights.kpis.prepare_reporting``).
        month: first day of the report month (parsed where the user gave it, see
            ``pipelines.periods.parse_period``); None = the latest full month of data.
        out_dir: folder for the pages (created); exports go to ``out_dir/exports/<period>/``.
        run_id: the pipeline run the reports belong to (shown on every page).

    Returns:
        Every file written: pages first, then exports.

    """
    started = time.perf_counter()
    month = resolve_month(settings, con, month)
    ctx = ReportContext(settings=settings, con=con, month=month, run_id=run_id, generated_at=datetime.now(UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {key: report.file.format(period=ctx.period) for key, report in REPORTS.items()}
    pages: list[Path] = []
    exports: list[Path] = []
    for key in REPORTS:
        page, written = _write_report(ctx, key, out_dir / names[key], out_dir)
        pages.append(page)
        exports += written
    index = out_dir / "index.html"
    index.write_text(
        render_page(
            "index.html.j2",
            **_common(ctx, uses_plotly=False),
            title=f"Patient feedback reports \u2014 {ctx.month:%B %Y}",
            audience="Three views of the same warehouse.",
            exports=[],
            charts_json=json_for_script([]),
            comments_json=json_for_script(None),
            **names,
        ),
        encoding="utf-8",
    )
    pages.append(index)
    log.info("reports for %s written to %s in %.1f s", ctx.period, out_dir, time.perf_counter() - started)
    return pages + exports


def _common(ctx: ReportContext, uses_plotly: bool) -> dict[str, Any]:
    """What every page shows in its header and footer."""
    return {
        "uses_plotly": uses_plotly,
        "generated": f"{ctx.generated_at:%Y-%m-%d %H:%M} UTC",
        "run_id": ctx.run_id,
        "k": ctx.min_cell,
        "version": __version__,
        "period_label": f"{ctx.month:%B %Y}",
    }


def _write_report(ctx: ReportContext, key: str, path: Path, out_dir: Path) -> tuple[Path, list[Path]]:
    """Build one report, write its exports, then its page (which links the workbook)."""
    report = REPORTS[key]
    page = report.build(ctx)
    slug = key.replace("_", "-")
    written = write_exports(page.tables, out_dir / "exports" / ctx.period / slug, slug)
    html = render_page(
        page.template,
        **_common(ctx, uses_plotly=bool(page.charts)),
        title=report.title.format(month=f"{ctx.month:%B %Y}"),
        audience=report.audience,
        exports=[str(p.relative_to(out_dir)) for p in written if p.suffix == ".xlsx"],
        charts_json=json_for_script([c.payload() for c in page.charts]),
        comments_json=json_for_script(page.context.pop("comments_payload", None)),
        **page.context,
    )
    path.write_text(html, encoding="utf-8")
    return path, written
