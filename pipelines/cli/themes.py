"""``feedback themes [--refit] | themes export | themes import`` and ``feedback eval themes``.

``feedback themes`` runs the theme stage; ``themes export OUT.xlsx`` writes the reviewer workbook
and ``themes import FILE.xlsx`` validates and applies a reviewed one (pipelines/themes/review.py,
docs/themes-review.md); ``eval themes`` scores categories and themes against a coded file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.cli.pipeline import DEFAULT_WAIT, Force, Wait, Workers

console = Console()

themes_app = typer.Typer(
    help="Assign themes (`feedback themes [--refit]`), or export / import a reviewer workbook of theme corrections.",
    invoke_without_command=True,
)


@themes_app.callback()
def themes(
    ctx: typer.Context,
    refit: Annotated[
        bool | None, typer.Option("--refit/--no-refit", help="Force or forbid a BERTopic refit (default: when due).")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    wait: Wait = DEFAULT_WAIT,
    force: Force = False,
    workers: Workers = None,
) -> None:
    """Assign themes to informative comment clauses (BERTopic + taxonomy), then compute insights.

    `feedback themes export OUT.xlsx` and `feedback themes import FILE.xlsx` are the reviewer loop.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pipelines import stages as run
    from pipelines.cli.pipeline import _holding
    from pipelines.config import get_settings

    settings = get_settings()
    with _holding(settings, wait):
        summary = run.themes_stage(
            settings, run.new_run_id(), refit=refit, progress=progress, force=force, workers=workers
        )
    console.print_json(data=summary, default=str)


@themes_app.command("export")
def themes_export(
    out: Annotated[Path, typer.Argument(help="The workbook to write (.xlsx).", dir_okay=False)],
    per_theme: Annotated[
        int, typer.Option("--per-theme", min=1, max=200, help="Sample comments (clauses) per theme.")
    ] = 10,
) -> None:
    """Write a reviewer workbook: themes with quotes, sample comments per theme, categories, instructions.

    Redacted text only (from the marts layer), every cell formula-guarded, and the file passes the
    final privacy scan. Reviewers fill the editable columns (rename, move to another category,
    merge, recode single comments, split by naming a new theme), then run
    `feedback themes import FILE.xlsx`.
    """
    from pipelines.config import get_settings
    from pipelines.exports import ExportBlocked
    from pipelines.privacy.scan import ExportScan
    from pipelines.themes.review import ReviewImportError, export_review, taxonomy
    from pipelines.warehouse import WarehouseError, connect

    if out.suffix.lower() != ".xlsx":
        out = out.with_suffix(".xlsx")
    settings = get_settings()
    try:
        with connect(settings, read_only=True) as con:
            guard = ExportScan(settings, con, "themes-export", root=out.parent, record=False)
            result = export_review(settings, con, out, taxonomy(settings), per_theme=per_theme, guard=guard)
    except (ReviewImportError, WarehouseError, ExportBlocked) as exc:
        typer.secho(f"themes export: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {result.path}: {result.themes} themes, {result.comments} sample comments")
    typer.echo(f"Review it (sheet 'instructions'), then: feedback themes import {result.path}")


@themes_app.command("import")
def themes_import(
    file: Annotated[Path, typer.Argument(help="A reviewed workbook from `feedback themes export`.")],
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="Who reviewed it (kept with the corrections).")
    ] = None,
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Validate a reviewed workbook and apply it (all or nothing).

    Every row is checked first (unknown theme ids or categories, merges into itself, into a merged
    or unknown theme or in a cycle, recodes of unknown clauses, ...); any error applies nothing,
    lists the bad rows by sheet and row number and exits 1. A valid file becomes the next
    corrections version (enrich.theme_correction_sets: file name, sha256, reviewer, time), is
    applied at once and again after every theme run, and shows in `feedback status` (stage
    theme_review). Recoded comments also train the category classifier at the next theme run.
    """
    from pipelines import stages as run
    from pipelines.cli.pipeline import _holding
    from pipelines.config import get_settings
    from pipelines.themes.review import ReviewImportError
    from pipelines.warehouse import WarehouseError

    settings = get_settings()
    try:
        with _holding(settings, wait):
            summary = run.theme_review_stage(settings, run.new_run_id(), file, reviewer=reviewer)
    except (ReviewImportError, WarehouseError) as exc:
        typer.secho(f"themes import: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    counts = summary["counts"]
    typer.echo(
        f"applied {file} as theme corrections version {summary['theme_corrections_version']}: "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    for name, tid in summary["new_themes"].items():
        typer.echo(f"  new theme {tid}: {name}")
    for note in summary["ignored"]:
        typer.echo(f"  note: {note}")
    typer.echo("They apply again after every theme run; recodes teach the category classifier at the next run.")


def eval_themes(
    coded: Annotated[Path, typer.Argument(help="Coded CSV or JSONL file.", exists=True, dir_okay=False)],
    text_column: Annotated[str, typer.Option("--text-column", help="Column with the comment text.")] = "text",
    theme_columns: Annotated[
        list[str] | None, typer.Option("--theme-columns", help="Code column(s); JSONL: a list column (codes).")
    ] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv, jsonl or auto.")] = "auto",
    id_column: Annotated[str, typer.Option("--id-column", help="Id column (row numbers when absent).")] = "id",
    themes: Annotated[bool, typer.Option("--themes/--no-themes", help="Also fit themes and score them.")] = True,
    out: Annotated[Path, typer.Option("--out", help="Folder for disagreements.csv and confusion.csv.")] = Path(
        "eval-themes"
    ),
) -> None:
    """Per coder code: best-match F1 among our categories (and themes), coverage, a confusion table.

    Writes the comments where coder and pipeline disagree to OUT/disagreements.csv.
    """
    from pipelines.config import Settings
    from pipelines.exports import write_csv
    from pipelines.themes.evaluate import evaluate_coded, read_coded

    columns = [c for item in theme_columns or [] for c in item.split(",") if c.strip()]
    try:
        data = read_coded(coded, text_column, columns, file_format, id_column)
    except ValueError as exc:
        console.print(f"[red]eval themes:[/] {exc}")
        raise typer.Exit(2) from exc
    result = evaluate_coded(data, Settings.from_env(), with_themes=themes)
    cats = result.categories
    console.print(
        f"{'code':34} {'n':>5} {'F1':>5} {'P':>5} {'R':>5}  best category"
        + ("   themes F1" if result.themes is not None else "")
    )
    theme_f1 = dict(zip(result.themes["code"], result.themes["f1"], strict=True)) if result.themes is not None else {}
    for r in cats.itertuples():
        extra = f"   {theme_f1.get(r.code, 0.0):.2f}" if theme_f1 else ""
        console.print(f"{r.code[:34]:34} {r.n:5d} {r.f1:5.2f} {r.precision:5.2f} {r.recall:5.2f}  {r.match}{extra}")
    mean_cat = float(cats["f1"].mean()) if len(cats) else 0.0
    line = f"\nmean best-match F1 over {len(cats)} codes: categories {mean_cat:.3f}"
    if theme_f1:
        line += f", themes {float(result.themes['f1'].mean()):.3f}"
    console.print(line + f"; coverage {result.coverage:.3f} of {int(result.content.sum())} content comments")
    if result.overlap > 0.05:
        console.print(f"[yellow]note:[/] {result.overlap:.0%} of these comments are in the classifier's training data")
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.disagreements, out / "disagreements.csv")
    write_csv(result.confusion.reset_index(names="code"), out / "confusion.csv")
    top = result.confusion.iloc[:10, :]
    if not top.empty:
        top = top.loc[:, top.sum().sort_values(ascending=False).index[:8]]
        console.print("\nconfusion (coder code x our category, top rows/columns):")
        console.print(top.to_string())
    console.print(f"\nwrote {out / 'disagreements.csv'} ({len(result.disagreements)} rows) and {out / 'confusion.csv'}")


def register(app: typer.Typer) -> None:
    """Add ``feedback themes [export|import]`` and ``feedback eval themes`` (joining an existing ``eval`` group)."""
    app.add_typer(themes_app, name="themes")
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            group.typer_instance.command("themes")(eval_themes)
            return
    eval_app = typer.Typer(help="Evaluate stages against coded data.", no_args_is_help=True)
    eval_app.command("themes")(eval_themes)
    app.add_typer(eval_app, name="eval")
