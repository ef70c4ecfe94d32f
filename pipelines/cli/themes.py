"""``feedback eval themes``: score categories and themes against a coded file (CSV or JSONL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


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
    """Add ``feedback eval themes`` to the main app (joining the ``eval`` group when it exists)."""
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            group.typer_instance.command("themes")(eval_themes)
            return
    eval_app = typer.Typer(help="Evaluate stages against coded data.", no_args_is_help=True)
    eval_app.command("themes")(eval_themes)
    app.add_typer(eval_app, name="eval")
