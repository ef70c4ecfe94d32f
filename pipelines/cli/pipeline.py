"""``feedback run | ingest | enrich | status | init``: the pipeline without Airflow (``themes``: cli/themes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.config import Settings, get_settings

console = Console()

Wait = Annotated[
    float,
    typer.Option(
        "--wait",
        envvar="FEEDBACK_LOCK_TIMEOUT",
        min=0,
        help="Seconds to wait while another run holds the warehouse (0: give up at once).",
    ),
]
DEFAULT_WAIT = 1800.0


def _waiting(message: str) -> None:
    console.print(f"[yellow]{message}[/]")


@contextmanager
def _holding(settings: Settings, wait: float) -> Iterator[None]:
    """Hold the warehouse run lock for the whole command (waiting for another run if needed)."""
    from pipelines import warehouse

    with warehouse.run_lock(settings, timeout=wait, on_wait=_waiting):
        yield


Force = Annotated[
    bool,
    typer.Option("--force", help="Run even when nothing it reads changed since it last succeeded."),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes that redact, score and embed the partitions of new records (default FEEDBACK_WORKERS, 1: "
        "in this process). Each worker loads the models once (~0.8 GB); on 2 cores, 2 workers saved ~15% "
        "(docs/scaling.md).",
    ),
]


def init(
    wait: Wait = DEFAULT_WAIT,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run every schema file and rebuild every model, changed or not.")
    ] = False,
) -> None:
    """Create (or upgrade) the DuckDB warehouse: schemas, tables and all SQL layers.

    Only what changed is applied: ops.schema_migrations records each SQL file's sha256 and, for
    models materialised as tables, the fingerprint of the data they were built from.
    """
    from pipelines import warehouse

    settings = get_settings()
    with _holding(settings, wait):
        built = warehouse.init(settings, force=force)
    console.print(f"warehouse ready at [bold]{settings.warehouse}[/] ({len(built)} models)")


def ingest(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Only this source (YAML stem in config/sources); repeatable."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-read files already ingested (e.g. after fixing a source's mapping).")
    ] = False,
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Pull new files of every configured source, validate them and load them.

    A file already ingested (same sha256) is skipped; rows failing validation go to
    raw.quarantine with the reason. Exits non-zero if a source fails or quarantines more than
    FEEDBACK_QUARANTINE_MAX of its rows.
    """
    from pipelines import stages as run
    from pipelines.ingest import load as ingest_mod

    settings = get_settings()
    try:
        with _holding(settings, wait):
            summary = run.ingest_stage(settings, run.new_run_id(), sources=source, force=force)
    except ingest_mod.IngestError as exc:
        _print_batches([b.as_dict() for b in exc.results])
        console.print(f"[red]ingest failed:[/] {exc}")
        raise typer.Exit(1) from exc
    _print_batches(summary["batches"])
    from pipelines.ingest import quality

    console.print(f"validation results (GX Data Docs): {quality.data_docs_url(settings.gx_dir)}")


def _print_batches(batches: list[dict]) -> None:
    table = Table(
        "source", "file", "read", "loaded", "quarantined", "duplicate", "skipped", "status", title="ingest batches"
    )
    for b in batches:
        table.add_row(
            b["source"],
            Path(b["location"]).name,
            str(b["rows_read"]),
            str(b["rows_loaded"]),
            str(b["rows_quarantined"]),
            str(b["rows_duplicate"]),
            str(b["rows_skipped"]),
            b["status"],
        )
    console.print(table if batches else "nothing new to ingest")


def enrich(
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    wait: Wait = DEFAULT_WAIT,
    force: Force = False,
    workers: Workers = None,
) -> None:
    """Redact PHI and score sentiment (comment and clause level) for new or changed records."""
    from pipelines import stages as run

    settings = get_settings()
    with _holding(settings, wait):
        summary = run.enrich_stage(settings, run.new_run_id(), progress=progress, force=force, workers=workers)
    console.print_json(data={k: v for k, v in summary.items() if k != "redactor"})


def run_all(
    refit: Annotated[bool | None, typer.Option("--refit/--no-refit", help="Force or forbid a theme refit.")] = None,
    period: Annotated[
        str | None, typer.Option(help="Report month YYYY-MM (default: latest full month in the data).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    wait: Wait = DEFAULT_WAIT,
    force: Annotated[
        bool, typer.Option("--force", help="Run enrich, themes and report even when nothing they read changed.")
    ] = False,
    workers: Workers = None,
) -> None:
    """Run the whole pipeline without Airflow: ingest -> enrich -> themes -> report.

    Safe to re-run: nothing is ingested twice and unchanged records are not re-scored; a stage
    whose inputs did not change since it last succeeded is skipped ("skipped (no change)"). A source
    that fails does not stop the others from being enriched and reported; the command then
    names it and exits non-zero. While another run holds the warehouse, this one waits (--wait).
    """
    from pipelines import periods
    from pipelines import stages as run

    try:
        requested = periods.parse_period(period) if period else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc
    settings = get_settings()
    try:
        summary = run.run_all(
            settings,
            progress=progress,
            refit=refit,
            period=requested,
            lock_timeout=wait,
            on_wait=_waiting,
            force=force,
            workers=workers,
        )
    except run.RunIncomplete as exc:
        _print_run(settings, exc.summary)
        console.print(f"[red]{exc}[/]")
        for source, why in exc.failures.items():
            console.print(f"  [red]{source}[/]: {why}", markup=True, highlight=False)
        console.print("the other sources were enriched and reported; fix the failed ones and run again")
        raise typer.Exit(1) from exc
    _print_run(settings, summary)


def _print_run(settings: Settings, summary: dict) -> None:
    _print_batches(summary["ingest"]["batches"])
    for stage in ("enrich", "themes", "report"):
        if summary.get(stage, {}).get("outcome"):
            console.print(f"{stage}: {summary[stage]['outcome']}")
    console.print(f"warehouse: [bold]{settings.warehouse}[/]")
    files = [Path(p) for p in summary["report"].get("files", [])]
    for path in [p for p in files if p.suffix == ".html"]:
        console.print(f"report:    [bold]{path}[/]")
    exports = sorted({p.parent for p in files if p.suffix != ".html"})
    if exports:
        console.print(
            f"exports:   {len([p for p in files if p.suffix != '.html'])} CSV/XLSX files under {exports[0].parent}"
        )


def status(
    limit: Annotated[int, typer.Option(help="How many recent batches/runs to show.")] = 10,
) -> None:
    """Show recent ingest batches with their reconciliation, quarantine reasons and stage runs."""
    from pipelines import warehouse

    settings = get_settings()
    if not settings.warehouse.exists():
        console.print(f"no warehouse at {settings.warehouse}; run `feedback run` first")
        raise typer.Exit(1)
    # A fresh Console reads the terminal width now; the module's was fixed when it was imported.
    wide = Console(width=max(Console().width, 150))
    with warehouse.connect(settings, read_only=True) as con:
        for name, title in (
            ("queries/pipeline/status_batches", "ingest batches (read = loaded + quarantined + duplicate)"),
            ("queries/pipeline/status_quarantine", "quarantined rows by reason"),
            ("queries/pipeline/status_runs", "stage runs"),
            ("queries/pipeline/status_export_blocks", "files held back by the final privacy scan (never the values)"),
        ):
            cursor = warehouse.run_sql(con, settings, name, {"limit": limit})
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            if not rows and name.endswith("export_blocks"):
                continue  # nothing held back: no empty table
            table = Table(*columns, title=title)
            for row in rows:
                table.add_row(*["" if v is None else str(v) for v in row])
            wide.print(table)


def register(app: typer.Typer) -> None:
    """Add the pipeline commands to the ``feedback`` CLI."""
    app.command()(init)
    app.command()(ingest)
    app.command()(enrich)
    app.command("run")(run_all)
    app.command()(status)
