"""``feedback demo-data``: realistic demo exports with planted patterns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.config import get_settings

console = Console()


def demo_data(
    rows: Annotated[int, typer.Option(help="Approximate number of source records (1k demo .. 200k benchmark).")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes byte-identical files.")] = 42,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: $FEEDBACK_DATA_DIR/demo).")] = None,
) -> None:
    """Write realistic demo exports (FFT + NPS surveys, suggestion box, complaints) with planted patterns.

    The planted patterns (a parking surge, weekend ED waits, billing complaints, ...) are
    documented in docs/planted-patterns.md and listed in manifest.json next to the files.
    """
    from pipelines.demo import generator as demo

    settings = get_settings()
    target = out or settings.data_dir / "demo"
    manifest = demo.generate(target, rows=rows, seed=seed)
    console.print(f"wrote demo data to [bold]{target}[/]: {json.dumps(manifest.get('counts', {}))}")


def register(app: typer.Typer) -> None:
    """Add ``demo-data`` to the ``feedback`` CLI."""
    app.command("demo-data")(demo_data)
