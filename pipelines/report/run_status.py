"""The run-status page for the data team: runs, rows per stage, quarantine, versions, windows."""

from __future__ import annotations

from pipelines.report import charts
from pipelines.report.data import ReportContext, records
from pipelines.report.html import clean
from pipelines.report.theme_report import Page

MAX_RUNS = 40
MAX_BATCHES = 40
MESSAGE_CHARS = 300


def build(ctx: ReportContext) -> Page:
    """Collect the data team's view of the latest runs."""
    runs = ctx.query("run_status", max_rows=MAX_RUNS)
    batches = ctx.query("ingest_reconciliation", max_rows=MAX_BATCHES)
    quarantine = ctx.query("quarantine")
    versions = ctx.query("model_versions")
    windows = ctx.query("data_windows")

    rows = []
    for r in records(runs):
        started, finished = r["started_at"], r["finished_at"]
        duration = (
            f"{(finished - started).total_seconds():.0f} s"
            if started is not None and finished is not None
            else "running"
        )
        window = f"{str(r['data_from'])[:10]} .. {str(r['data_to'])[:10]}" if r["data_from"] is not None else ""
        message = str(r["message"] or "")
        rows.append(
            {
                **r,
                "started": str(started)[:19],
                "duration": duration,
                "window": window,
                "message": message[:MESSAGE_CHARS] + ("..." if len(message) > MESSAGE_CHARS else ""),
            }
        )

    stage_chart = None
    done = runs[runs["status"].isin(["success", "failed"])]
    if len(done):
        latest = done.sort_values("started_at").groupby("stage", as_index=False).tail(1)
        order = {s: i for i, s in enumerate(("ingest", "enrich", "themes", "report"))}
        latest = latest.sort_values("stage", key=lambda s: s.map(lambda v: order.get(v, 99)))
        stage_chart = charts.stage_rows_bars("chart-stage-rows", "Rows in and out of each stage", latest)

    quarantine = quarantine.assign(reason=quarantine["reason"].map(lambda v: str(clean(v) or "")[:MESSAGE_CHARS]))
    context = {
        "runs": rows,
        "failed": int((runs["status"] == "failed").sum()),
        "stage_chart": stage_chart,
        "batches": records(batches),
        "quarantine": records(quarantine),
        "versions": records(versions),
        "windows": records(windows),
    }
    tables = {
        "stage_runs": runs,
        "ingest_batches": batches,
        "quarantine": quarantine,
        "model_versions": versions,
        "data_windows": windows,
    }
    return Page("run_status.html.j2", context, [stage_chart] if stage_chart else [], tables)
