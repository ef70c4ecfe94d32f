"""Reports people act on, written from the ``reporting`` views of the warehouse.

``write_reports`` writes, for one period (a month, a calendar quarter or the last N months),
self-contained HTML pages that open offline (all data inline, a Content-Security-Policy that
forbids loading anything, each page at most 1.5 MB) plus CSV and XLSX exports of every table
they show:

* ``theme-report-<key>.html`` - the feedback response team (pipelines/report/theme_report.py)
* ``trend-pack-<key>.html`` - the quality committee (pipelines/report/trend_pack.py)
* ``run-status.html`` - the data team (pipelines/report/run_status.py)
* ``index.html`` linking them and listing every period with data, and
  ``exports/<key>/<report>/*.csv|xlsx``.

Every file is built from ``reporting`` views (redacted text only); with a ``guard`` (the report
stage passes the final privacy scan, ``pipelines.privacy.scan.ExportScan``) every page and export
is also scanned just before it is written, and a file holding an identifier is not written.

``write_extract`` (pipelines/report/extract.py) copies the reporting views into the
PHI-free DuckDB file BI tools open (docs/bi.md), through the same guard; the report stage starts
that copy in a thread (``start_extract``) while the pages are written, and finishes it after.

``<key>`` is ``2026-10``, ``2026-Q3`` or ``2026-08-to-2026-10``. Without a period the latest
complete month with enough responses is reported (pipelines/report/choice.py); a thin period
gets a warning linking the last adequate month, whose pages are then written too.
docs/reports.md describes every section; docs/kpis.md defines every KPI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from pipelines import __version__
from pipelines.config import Settings
from pipelines.exports import ExportBlocked, ExportGuard, text_cells, withhold
from pipelines.periods import Period, PeriodRequest
from pipelines.report import choice, run_status, theme_report, trend_pack
from pipelines.report.charts import plotly_payload
from pipelines.report.choice import MIN_RESPONSES, PeriodChoice
from pipelines.report.data import ReportContext
from pipelines.report.exports import write_exports
from pipelines.report.extract import start_extract, write_extract
from pipelines.report.html import json_for_script, render_page
from pipelines.report.theme_report import Page

__all__ = ["MIN_RESPONSES", "PeriodChoice", "page_name", "start_extract", "write_extract", "write_reports"]

log = logging.getLogger(__name__)


class _Report(NamedTuple):
    file: str  # page file name; ``{period}`` is the period's key
    title: str  # ``{label}`` is the period in words
    audience: str
    build: Callable[[ReportContext], Page]


# The reports in writing order, keyed by their template and export folder name.
REPORTS = {
    "theme_report": _Report(
        "theme-report-{period}.html",
        "Theme report \u2014 {label}",
        "For the feedback response team: what patients talk about, what to answer.",
        theme_report.build,
    ),
    "trend_pack": _Report(
        "trend-pack-{period}.html",
        "Trend pack \u2014 {label}",
        "For the quality committee: KPIs, trends, alerts, drivers and actions.",
        trend_pack.build,
    ),
}
RUN_STATUS = _Report(
    "run-status.html",
    "Run status",
    "For the data team: pipeline runs, rows, quarantine, versions and data windows.",
    run_status.build,
)


def page_name(report: str, period: Period) -> str:
    """File name of a period's page: ``theme-report-2026-10.html``, ``trend-pack-2026-Q3.html``."""
    return REPORTS[report].file.format(period=period.key)


def write_reports(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    period: PeriodRequest | None,
    out_dir: Path,
    run_id: str | None,
    min_responses: int = MIN_RESPONSES,
    guard: ExportGuard | None = None,
) -> list[Path]:
    """Write the reports and their exports for one period, the run status and the index.

    Args:
        settings: where things live; ``min_cell`` is the suppression threshold k.
        con: an open warehouse connection; only ``reporting`` views are read. The pipeline
            prepares them first (``pipelines.insights.kpis.prepare_reporting``).
        period: the period parsed where the user gave it (``pipelines.periods.parse_period``):
            a Period, a Rolling window (anchored on the latest complete month), or None for the
            latest complete month with at least ``min_responses`` responses.
        out_dir: folder for the pages (created); exports go to ``out_dir/exports/<key>/``.
        run_id: the pipeline run the reports belong to (shown on every page).
        min_responses: responses a period needs to be reported without a warning.
        guard: looks at the text of every page and export before it is written; a file it
            blocks is not written (the guard records why) and the others still are.

    Returns:
        Every file written: pages first (the chosen period's, any linked adequate month's, the
        run status, the index), then exports. Files the guard blocked are not in the list.
    """
    started = time.perf_counter()
    volumes = choice.month_volumes(settings, con)
    chosen = choice.choose(period, volumes, min_responses)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC)
    choices = [chosen]
    if chosen.adequate is not None:  # the warning links it: write it too
        reason = f"The last complete month with at least {min_responses} responses (linked from {chosen.period.label})."
        choices.append(PeriodChoice(chosen.adequate, reason, volumes.responses(chosen.adequate), min_responses))
    pages: list[Path | None] = []
    files: list[Path] = []
    for current in choices:
        ctx = ReportContext(settings, con, current, run_id, generated, volumes.first_month)
        for key in REPORTS:
            page, written = _write_report(ctx, key, REPORTS[key], out_dir, guard)
            pages.append(page)
            files += written
    ctx = ReportContext(settings, con, chosen, run_id, generated, volumes.first_month)
    page, written = _write_report(ctx, "run_status", RUN_STATUS, out_dir, guard)
    pages.append(page)
    files += written
    pages.append(_write_index(ctx, volumes, out_dir, guard))
    log.info("reports for %s written to %s in %.1f s", chosen.period.key, out_dir, time.perf_counter() - started)
    return [p for p in pages if p is not None] + files


def _common(ctx: ReportContext) -> dict[str, Any]:
    """What every page shows in its header and footer, and the period note."""
    current = ctx.choice
    return {
        "generated": f"{ctx.generated_at:%Y-%m-%d %H:%M} UTC",
        "run_id": ctx.run_id,
        "k": ctx.min_cell,
        "version": __version__,
        "period_label": ctx.period.label,
        "period_kind": ctx.period.kind,
        "period_note": current,
        "adequate_links": (
            {key: page_name(key, current.adequate) for key in REPORTS} if current.adequate is not None else {}
        ),
    }


def _write_page(
    path: Path, guard: ExportGuard | None, scanned: dict[str, Any], template: str, **context: Any
) -> Path | None:
    """Render and write one page unless ``guard`` finds an identifier in the ``scanned`` data.

    ``scanned`` is what the page shows, as data (the comment explorer's payload, the charts,
    the template context), not the rendered HTML: the page's own scripts and markup are ours.
    """
    try:
        withhold(path, guard, text_cells(scanned))
    except ExportBlocked:
        return None  # recorded by the guard; the stage ends non-zero once every other file is written
    path.write_text(render_page(template, **context), encoding="utf-8")
    return path


def _write_report(
    ctx: ReportContext, key: str, report: _Report, out_dir: Path, guard: ExportGuard | None
) -> tuple[Path | None, list[Path]]:
    """Build one report, write its exports, then its page (which links the workbook)."""
    page = report.build(ctx)
    slug = key.replace("_", "-")
    written = write_exports(page.tables, out_dir / "exports" / ctx.key / slug, slug, guard=guard)
    charts_data = plotly_payload(page.charts)
    comments = page.context.pop("comments_payload", None)
    common = _common(ctx)
    path = _write_page(
        out_dir / report.file.format(period=ctx.key),
        guard,
        {"page": page.context, "comments": comments, "charts": page.charts, "header": common},
        page.template,
        **common,
        uses_plotly=charts_data is not None,
        this_report=key,
        title=report.title.format(label=ctx.period.label),
        audience=report.audience,
        exports=[str(p.relative_to(out_dir)) for p in written if p.suffix == ".xlsx"],
        charts_json=json_for_script(charts_data),
        comments_json=json_for_script(comments),
        **page.context,
    )
    return path, written


def _write_index(ctx: ReportContext, volumes: choice.Volumes, out_dir: Path, guard: ExportGuard | None) -> Path | None:
    """The index: the chosen period's pages, then every month and quarter with data."""
    rows = []
    for a in choice.available(volumes, ctx.choice.min_responses, also=ctx.period):
        links = {key: page_name(key, a.period) for key in REPORTS}
        rows.append(
            {
                "period": a.period,
                "responses": a.responses,
                "comments": a.comments,
                "complete": a.complete,
                "adequate": a.adequate,
                "links": {k: v for k, v in links.items() if (out_dir / v).is_file()},
                "command": f"feedback report --period {a.period.key}",
            }
        )
    common = _common(ctx)
    return _write_page(
        out_dir / "index.html",
        guard,
        {"periods": rows, "header": common},
        "index.html.j2",
        **common,
        uses_plotly=False,
        this_report="index",
        title=f"Patient feedback reports \u2014 {ctx.period.label}",
        audience="Three views of the same warehouse.",
        exports=[],
        charts_json=json_for_script(None),
        comments_json=json_for_script(None),
        theme_report=page_name("theme_report", ctx.period),
        trend_pack=page_name("trend_pack", ctx.period),
        run_status=RUN_STATUS.file,
        held_back=[key for key in REPORTS if not (out_dir / page_name(key, ctx.period)).is_file()],
        available=rows,
        min_responses=ctx.choice.min_responses,
    )
