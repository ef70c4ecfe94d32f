"""``feedback report`` and ``feedback action ...``: the reports and "You said, we did" actions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.pipeline import DEFAULT_WAIT, Wait
from pipelines.config import Settings, get_settings
from pipelines.periods import MIN_RESPONSES

console = Console()


def _waiting(message: str) -> None:
    console.print(f"[yellow]{message}[/]")


REPORT_HELP = """Write the three HTML reports and CSV/XLSX exports of every table they show.

* **theme-report-PERIOD.html** (feedback response team): themes ranked by volume, negativity
  and momentum, sparklines, aspect sentiment, top segments, redacted quotes, the comments that
  need a response, and every comment with filters and full-text search.
* **trend-pack-PERIOD.html** (quality committee): KPIs vs the previous period and the same period
  last year with significance, control charts, emerging alerts, key drivers, segment lift,
  complaints by site and category, and "You said, we did" actions with their measured effect.
* **run-status.html** (data team): runs, rows per stage, quarantine, versions, data windows.

* **index.html**: links to them and lists every month and quarter with data.

A period is a month (2026-10), a calendar quarter (2026-Q3) or a rolling window ending with the
latest complete month (last-3-months). By default the report covers the latest complete month
with at least --min-responses responses (30), and says so; a thinner period gets a warning and a
link to the last adequate month, whose pages are written too.

Pages are self-contained (they open offline, each at most 1.5 MB); exports go to
OUT/exports/PERIOD/. Cells that aggregate fewer than FEEDBACK_MIN_CELL (default 5) responses are
suppressed.

Every page and export is scanned for identifiers just before it is written; a file with a hit is
not written, the run-status page and `feedback status` say which file, column and kind (never the
value), and the command exits with status 3 after writing the other files.

Examples:  feedback report --period 2026-10 --out reports/

           feedback report --period 2026-Q3

           feedback report --period last-3-months --min-responses 50
"""

ACTION_HELP = """Record improvement actions ("You said, we did") and see their measured effect.

An action belongs to a theme (id such as T0003, or its label) and optionally one site and/or
service, from a start date. The trend pack compares the theme's share of comments and its
sentiment in equal windows before and after the start (up to 90 days each), with a
significance test, and says "too early to tell" while there is too little data.

Examples:

    feedback action add --theme T0003 --site "North Hospital" --start 2026-08-01 --description "Evening triage nurse"

    feedback action import actions.xlsx

    feedback action list
"""


def _settings_or_exit() -> Settings:
    settings = get_settings()
    if not settings.warehouse.exists():
        console.print(f"[red]no warehouse at {settings.warehouse}[/]: run `feedback run` (or `make demo`) first")
        raise typer.Exit(1)
    return settings


def report(
    period: Annotated[
        str | None,
        typer.Option(
            help="Report period: a month YYYY-MM (2026-10), a quarter YYYY-Qn (2026-Q3) or last-N-months "
            "(last-3-months, ending with the latest complete month). Default: the latest complete month "
            "with at least --min-responses responses."
        ),
    ] = None,
    min_responses: Annotated[
        int,
        typer.Option(help="Responses a period needs to be the default and to be reported without a warning.", min=1),
    ] = MIN_RESPONSES,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the HTML pages and exports (default: FEEDBACK_REPORTS_DIR, reports/)."),
    ] = None,
    min_cell: Annotated[
        int | None,
        typer.Option(
            help="Suppress cells aggregating fewer than this many responses (default FEEDBACK_MIN_CELL = 5).", min=1
        ),
    ] = None,
    resolution_target: Annotated[
        int | None,
        typer.Option(
            help="Complaint resolution target in working days; remembered in the warehouse (default 25).", min=1
        ),
    ] = None,
    wait: Wait = DEFAULT_WAIT,
) -> None:
    from rich.markup import escape

    from pipelines import exports, periods, warehouse
    from pipelines import stages as run

    try:
        report_period = periods.parse_period(period) if period else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc
    settings = _settings_or_exit()
    if min_cell is not None:
        settings = settings.with_(min_cell=min_cell)
    if resolution_target is not None:
        settings = settings.with_(resolution_target_working_days=resolution_target)
    try:
        with warehouse.run_lock(settings, timeout=wait, on_wait=_waiting):
            summary = run.report_stage(
                settings,
                run.new_run_id(),
                period=report_period,
                out_dir=(out.resolve() if out else None),
                min_responses=min_responses,
            )
    except exports.ExportBlocked as exc:
        console.print(f"[red]privacy scan:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(3) from exc
    for path in summary["files"]:
        if path.endswith(".html"):
            console.print(f"report: [bold]{path}[/]")
    exports = [p for p in summary["files"] if not p.endswith(".html")]
    if exports:
        console.print(f"exports: {len(exports)} files in [bold]{Path(exports[0]).parent.parent}[/]")


def _print_actions(frame) -> None:
    table = Table("id", "theme", "where", "start", "status", "verdict", "description", title="actions")
    for r in frame.to_dict(orient="records"):
        theme = f"{r['theme_id']} {r['theme_label'] or ''}".strip()
        verdict = r["verdict"] if isinstance(r["verdict"], str) else "(run `feedback report` to measure)"
        table.add_row(
            r["action_id"],
            theme,
            f"{r['site']} / {r['service']}",
            str(r["start_date"])[:10],
            r["status"],
            verdict,
            r["description"],
        )
    console.print(table if len(frame) else "no actions recorded yet: `feedback action add --help`")


def action_add(
    theme: Annotated[
        str, typer.Option(help="Theme id (e.g. T0003) or exact theme label, as shown in the theme report.")
    ],
    start: Annotated[str, typer.Option(help="Date the change started: 2026-08-01 or 01/08/2026.")],
    description: Annotated[str, typer.Option(help="What was changed, in words patients would recognise.")],
    site: Annotated[str | None, typer.Option(help="Only at this site (default: every site).")] = None,
    service: Annotated[str | None, typer.Option(help="Only in this service (default: every service).")] = None,
    end: Annotated[str | None, typer.Option(help="Date the action ended, if it did.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who leads it (a role, not a patient).")] = None,
    status: Annotated[str, typer.Option(help="planned | in progress | done.")] = "in progress",
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Record one action against a theme (and optionally a site and/or service)."""
    from pipelines import warehouse
    from pipelines.insights import actions

    settings = _settings_or_exit()
    try:
        action = actions.Action(
            theme_id=theme,
            start_date=actions.parse_date(start),
            description=description,
            site=site,
            service=service,
            end_date=actions.parse_date(end) if end else None,
            owner=owner,
            status=status.lower(),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with actions.writing(settings, wait, _waiting) as con:
        try:
            ids, warnings = actions.record(settings, con, [action], recorded_by="cli")
        except actions.ActionError as exc:
            for problem in exc.problems:
                console.print(f"[red]error:[/] {problem}")
            raise typer.Exit(1) from exc
        warehouse.build_models(con, settings)
        for warning in warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        console.print(f"recorded action [bold]{ids[0]}[/]")
        _print_actions(actions.list_actions(settings, con).head(5))


def action_import(
    file: Annotated[Path, typer.Argument(help="An .xlsx or .csv sheet, one action per row.", exists=False)],
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Import actions from a spreadsheet (all rows or none).

    Columns (header names are case-insensitive): **theme** (id or label), **start** (date),
    **description**, and optionally **site**, **service**, **end**, **owner**, **status**.
    Re-importing the same rows updates them instead of adding duplicates.
    """
    from pipelines import warehouse
    from pipelines.insights import actions

    settings = _settings_or_exit()
    try:
        items, rows = actions.read_file(file)
    except actions.ActionError as exc:
        for problem in exc.problems:
            console.print(f"[red]error:[/] {problem}")
        raise typer.Exit(1) from exc
    with actions.writing(settings, wait, _waiting) as con:
        try:
            ids, warnings = actions.record(settings, con, items, recorded_by=f"import:{file.name}", rows=rows)
        except actions.ActionError as exc:
            for problem in exc.problems:
                console.print(f"[red]error:[/] {problem}")
            console.print("nothing was imported")
            raise typer.Exit(1) from exc
        warehouse.build_models(con, settings)
        for warning in warnings:
            console.print(f"[yellow]warning:[/] {warning}")
        console.print(f"imported {len(ids)} action(s) from {file.name}")


def action_list(
    themes: Annotated[
        bool, typer.Option("--themes", help="List the theme ids and labels actions can refer to instead.")
    ] = False,
) -> None:
    """List recorded actions with their measured verdict (or the themes to choose from)."""
    from pipelines import warehouse
    from pipelines.insights import actions

    settings = _settings_or_exit()
    with warehouse.connect(settings, read_only=True) as con:
        if themes:
            table = Table("theme id", "label", title="themes")
            for tid, label in actions.known_themes(settings, con).items():
                table.add_row(tid, label or "")
            console.print(table)
            return
        _print_actions(actions.list_actions(settings, con))


def action_remove(
    action_id: Annotated[str, typer.Argument(help="The id shown by `feedback action list`, e.g. A1b2c3d4.")],
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Delete a recorded action."""
    from pipelines import warehouse
    from pipelines.insights import actions

    settings = _settings_or_exit()
    with actions.writing(settings, wait, _waiting) as con:
        if not actions.remove(settings, con, action_id):
            console.print(f"[red]no action {action_id}[/]")
            raise typer.Exit(1)
        warehouse.build_models(con, settings)
    console.print(f"removed {action_id}")


def register(app: typer.Typer) -> None:
    """Add ``report`` and the ``action`` sub-commands to the ``feedback`` CLI."""
    app.command("report", help=REPORT_HELP)(report)
    action_app = typer.Typer(name="action", help=ACTION_HELP, no_args_is_help=True, rich_markup_mode="markdown")
    action_app.command("add")(action_add)
    action_app.command("import")(action_import)
    action_app.command("list")(action_list)
    action_app.command("remove")(action_remove)
    app.add_typer(action_app, name="action")


__all__ = ["register"]
