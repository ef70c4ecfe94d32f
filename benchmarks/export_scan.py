"""Speed and catch rate of the final export scan (:mod:`pipelines.privacy.scan`).

Two questions:

1. **Speed on an export-sized table.** A 10,000-row comments export (distinct redacted texts,
   hashed ids, sites, services, timestamps, theme labels) written as CSV and XLSX with and
   without the guard; the scan alone with and without the PERSON rules; and, when it has been
   built, the names model on the same texts (why the scan does not run it).
2. **What it catches when redaction was skipped.** The planted-PHI set of
   ``benchmarks/privacy.py`` (hand-written names and numbers at known spans, ~30% of comments
   identifier-free with hard negatives) scanned *unredacted*: the share of comments carrying a
   planted identifier that the scan flags, per kind; and the share flagged among the same
   comments after redaction (false alarms that would block a clean export).

Usage::

    python -m benchmarks.export_scan --rows 10000 --planted 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmarks.privacy import make_planted_set
from pipelines import exports
from pipelines.privacy.scan import KINDS, TextScanner, scan_cells

SITES = ("North Hospital", "South Hospital", "Central Clinic", "Riverside Clinic")
SERVICES = ("Emergency Department", "Outpatients", "Maternity", "Radiology")
THEMES = ("Car parking", "Waiting times", "Staff attitude", "Communication", "Food and drink")


def _timed(label: str, rows: list[tuple[str, str]], func, *args, **kwargs):  # noqa: ANN001, ANN202
    """Run ``func``; append its wall-clock and CPU seconds (the machine is shared: CPU is steadier)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = func(*args, **kwargs)
    rows.append((label, f"{time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} CPU s"))
    return out


def _export_frame(texts: Sequence[str]) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "feedback_id": [f"{i * 2654435761 % 16**20:020x}" for i in range(n)],
            "channel": ["survey"] * n,
            "site": [SITES[i % len(SITES)] for i in range(n)],
            "service": [SERVICES[i % len(SERVICES)] for i in range(n)],
            "received_local": [f"2026-10-{1 + i % 28:02d} {8 + i % 12:02d}:15:00" for i in range(n)],
            "question": ["What could we improve?"] * n,
            "text_redacted": list(texts),
            "theme_labels": [THEMES[i % len(THEMES)] for i in range(n)],
        }
    )


def speed(rows_wanted: int, seed: int, model_texts: int) -> list[tuple[str, str]]:
    """Times for a ``rows_wanted``-row export (texts: the planted set, redacted by the rules)."""
    from pipelines.privacy.redactor import Redactor

    out: list[tuple[str, str]] = []
    items = make_planted_set(n=rows_wanted, seed=seed)
    redactor = Redactor(allow_list=SITES + SERVICES, person="rules")
    texts = [
        r.text
        for r in _timed(
            "redact the texts (rules; not part of the scan)", out, redactor.redact_many, [i["text"] for i in items]
        )
    ]
    frame = _export_frame(texts)
    out.append(
        (
            "rows x columns",
            f"{len(frame):,} x {len(frame.columns)} ({frame['text_redacted'].nunique():,} distinct texts)",
        )
    )
    scanner = _timed("TextScanner() (Presidio already imported)", out, TextScanner, allow_list=SITES + SERVICES)
    found = _timed(
        "scan all cells, PERSON rules on", out, scan_cells, scanner, "comments.csv", exports.frame_cells(frame)
    )
    out.append(("  findings on the redacted export", str(found or "none")))
    rules_only = TextScanner(allow_list=SITES + SERVICES, person=False)
    _timed("scan all cells, PERSON off", out, scan_cells, rules_only, "comments.csv", exports.frame_cells(frame))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _timed("write CSV + XLSX, no guard", out, _write, frame, folder / "plain", None)
        guard = _Guard(TextScanner(allow_list=SITES + SERVICES))
        _timed("write CSV + XLSX, guarded (fresh scanner)", out, _write, frame, folder / "guarded", guard)
    _names_model(texts, out, model_texts)
    return out


class _Guard:
    def __init__(self, scanner: TextScanner) -> None:
        self.scanner = scanner

    def check(self, path: Path, cells):  # noqa: ANN001, ANN201
        return scan_cells(self.scanner, path.name, cells)


def _write(frame: pd.DataFrame, folder: Path, guard: _Guard | None) -> None:
    exports.write_csv(frame, folder / "comments.csv", guard=guard)
    exports.write_xlsx({"comments": frame}, folder / "comments.xlsx", guard=guard)


def _names_model(texts: Sequence[str], out: list[tuple[str, str]], n: int) -> None:
    """Time the names model on ``n`` of the same texts, when it is built (the scan does not run it)."""
    from pipelines.privacy.namemodel import NameModel, NamesModelMissing

    try:
        model = NameModel(None)
    except NamesModelMissing as exc:
        out.append(("names model on the same texts", f"not built ({str(exc)[:60]})"))
        return
    distinct = list(dict.fromkeys(texts))
    part = distinct[:n]
    started = time.process_time()
    model.find_many(part)
    cpu = time.process_time() - started
    out.append((f"names model, {len(part):,} distinct texts (not in the scan)", f"{cpu:.2f} CPU s"))
    out.append(
        (
            f"  -> all {len(distinct):,} distinct texts, extrapolated",
            f"{cpu * len(distinct) / len(part):.1f} CPU s",
        )
    )


def catch_rate(n: int, seed: int) -> list[tuple[str, str]]:
    """Share of planted comments the scan flags unredacted, per kind, and false alarms after redaction."""
    from pipelines.privacy.redactor import Redactor

    items = make_planted_set(n=n, seed=seed + 1)
    scanner = TextScanner()
    redactor = Redactor(person="rules")
    with_kind: Counter[str] = Counter()
    caught: Counter[str] = Counter()
    flagged_clean = 0
    for item in items:
        kinds = {s["entity_type"] for s in item["spans"] if s["entity_type"] in KINDS}
        hit = bool(scanner.kinds(item["text"]))
        for kind in kinds:
            with_kind[kind] += 1
            caught[kind] += hit
        if kinds:
            with_kind["any scanned kind"] += 1
            caught["any scanned kind"] += hit
        if not item["spans"]:
            with_kind["identifier-free (false alarms)"] += 1
            caught["identifier-free (false alarms)"] += hit
        flagged_clean += bool(scanner.kinds(redactor.redact(item["text"]).text))
    rows = [
        (f"unredacted, {k}", f"{caught[k]}/{with_kind[k]} = {caught[k] / with_kind[k]:.3f}") for k in sorted(with_kind)
    ]
    rows.append(("after redaction: comments flagged (false alarms)", f"{flagged_clean}/{len(items)}"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10000, help="rows of the export (speed)")
    parser.add_argument("--planted", type=int, default=2000, help="planted comments (catch rate)")
    parser.add_argument("--model-texts", type=int, default=1000, help="texts to time the names model on")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for title, rows in (
        (f"speed, {args.rows:,}-row comments export", speed(args.rows, args.seed, args.model_texts)),
        (
            f"catch rate, {args.planted:,} planted comments (benchmarks/privacy.py set)",
            catch_rate(args.planted, args.seed),
        ),
    ):
        print(f"\n{title}")
        width = max(len(r[0]) for r in rows)
        for label, value in rows:
            print(f"  {label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
