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
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import __version__, periods
from pipelines.config import Settings
from pipelines.report import run_status, theme_report, trend_pack
from pipelines.report.data import ReportContext, resolve_month
from pipelines.report.exports import write_exports
from pipelines.report.html import json_for_script, render_page
from pipelines.report.theme_report import Page

__all__ = ["write_reports"]

log = logging.getLogger(__name__)

def write_reports(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    period: str | None,
    out_dir: Path,
    run_id: str | None,
) -> list[Path]:
    """Write the three HTML reports and their exports for ``period`` (YYYY-MM).

    Args:
        settings: where things live; ``min_cell`` is the suppression threshold k.
        con: an open warehouse connection; only ``reporting`` views are read. The pipeline
            prepares them first (``pipelines.insights.kpis.prepare_reporting``).
        period: report month ``YYYY-MM``; None = the latest full month of data.
        out_dir: folder for the pages (created); exports go to ``out_dir/exports/<period>/``.
        run_id: the pipeline run the reports belong to (shown on every page).

    Returns:
        Every file written: pages first, then exports.
    """
    started = time.perf_counter()
    if period:
        periods.parse_period(period)  # fail before any work on a malformed period
    month = resolve_month(settings, con, period)
    ctx = ReportContext(settings=settings, con=con, month=month, run_id=run_id, generated_at=datetime.now(UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    exports_dir = out_dir / "exports" / ctx.period
    names = {
        "theme_report": f"theme-report-{ctx.period}.html",
        "trend_pack": f"trend-pack-{ctx.period}.html",
        "run_status": "run-status.html",
    }
    meta = {
        "theme_report": ("Theme report", "For the feedback response team: what patients talk about, what to answer."),
        "trend_pack": ("Trend pack", "For the quality committee: KPIs, trends, alerts, drivers and actions."),
        "run_status": ("Run status", "For the data team: pipeline runs, rows, quarantine, versions and data windows."),
    }
    pages: list[Path] = []
    exports: list[Path] = []
    for key, module in (("theme_report", theme_report), ("trend_pack", trend_pack), ("run_status", run_status)):
        page: Page = module.build(ctx)
        folder = exports_dir / key.replace("_", "-")
        written = write_exports(page.tables, folder, key.replace("_", "-"))
        exports += written
        title, audience = meta[key]
        html = render_page(
            page.template,
            uses_plotly=bool(page.charts),
            title=f"{title} \u2014 {ctx.month:%B %Y}" if key != "run_status" else title,
            audience=audience,
            generated=f"{ctx.generated_at:%Y-%m-%d %H:%M} UTC",
            run_id=run_id,
            k=settings.min_cell,
            version=__version__,
            period_label=f"{ctx.month:%B %Y}",
            exports=[str(p.relative_to(out_dir)) for p in written if p.suffix == ".xlsx"],
            charts_json=json_for_script([c.payload() for c in page.charts]),
            comments_json=json_for_script(page.context.pop("comments_payload", None)),
            **page.context,
        )
        path = out_dir / names[key]
        path.write_text(html, encoding="utf-8")
        pages.append(path)
    index = out_dir / "index.html"
    index.write_text(
        render_page(
            "index.html.j2",
            uses_plotly=False,
            title=f"Patient feedback reports \u2014 {ctx.month:%B %Y}",
            audience="Three views of the same warehouse.",
            generated=f"{ctx.generated_at:%Y-%m-%d %H:%M} UTC",
            run_id=run_id,
            k=settings.min_cell,
            version=__version__,
            period_label=f"{ctx.month:%B %Y}",
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
