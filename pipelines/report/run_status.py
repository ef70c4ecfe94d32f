"""The run-status page for the data team: runs, rows per stage, quarantine, versions, windows.

Read at a glance: a stage's message is a few short lines (its JSON summary unpacked, an error's
first sentence), long version strings are folded with the full text on hover (and in full in
the export), the report stage writing the page shows as "this run" rather than "running",
every batch that quarantined rows links to them, and files the final privacy scan held back
(this run's included: the run-status page is written after the other reports) are listed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.report import charts
from pipelines.report.data import ReportContext, records
from pipelines.report.html import clean
from pipelines.report.theme_report import Page

MAX_RUNS = 40
MAX_BATCHES = 40
MAX_QUARANTINE_GROUPS = 200
MAX_EXPORT_BLOCKS = 200
MESSAGE_CHARS = 300
MESSAGE_ITEMS = 6
FOLD_CHARS = 40


@dataclass(frozen=True)
class Folded:
    """A long text shown short, with the full text for the ``title`` attribute (hover)."""

    short: str
    full: str

    @property
    def is_folded(self) -> bool:
        """Whether the short text leaves something out."""
        return self.short != self.full


def fold(value: Any, limit: int = FOLD_CHARS) -> Folded:
    """``value`` as text cut to ``limit`` characters (with an ellipsis), keeping the full text.

    A long JSON object (a recognizer configuration) shows as its keys and its length instead.
    """
    text = "" if clean(value) is None else str(value)
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return Folded(one_line, text)
    short = _json_outline(text) or one_line
    return Folded(short if len(short) <= limit else short[: limit - 1].rstrip() + "\u2026", text)


def _json_outline(text: str) -> str | None:
    """``{key1, key2} (2,104 chars)`` for a JSON object, None for anything else."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return None
    keys = list(parsed) if isinstance(parsed, dict) else []
    names = ", ".join(keys[:2]) + (", \u2026" if len(keys) > 2 else "")
    return f"{{{names}}} ({len(text):,} chars)"


def describe_message(message: Any) -> tuple[list[str], Folded | None]:
    """A stage message as short lines: its JSON summary unpacked, or an error's first sentence.

    Returns:
        The lines to show (at most ``MESSAGE_ITEMS``, then "and N more"), and the full message
        folded for hover when the lines leave something out (else None).
    """
    text = str(clean(message) or "").strip()
    if not text:
        return [], None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        first = fold(text.split("\n")[0], MESSAGE_CHARS)
        return [first.short], Folded(first.short, text) if first.short != text else None
    lines = [line for key, value in parsed.items() for line in _summary_lines(key, value)]
    if not lines:
        return [], None
    shown = lines[:MESSAGE_ITEMS]
    if len(lines) > MESSAGE_ITEMS:
        shown.append(f"and {len(lines) - MESSAGE_ITEMS} more")
    folded = len(lines) > MESSAGE_ITEMS or any(len(line) > MESSAGE_CHARS for line in shown)
    shown = [fold(line, MESSAGE_CHARS).short for line in shown]
    return shown, Folded(shown[0], json.dumps(parsed, indent=1, default=str)) if folded else None


def _summary_lines(key: str, value: Any) -> list[str]:
    """One short line per summary entry; nested summaries one level deep, lists counted."""
    name = key.replace("_", " ")
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _summary_lines(f"{key} {k}", v) if not isinstance(v, dict)]
    if isinstance(value, list):
        return [f"{name}: {len(value):,}"]
    if isinstance(value, bool) or value is None:
        return [f"{name}: " + ("yes" if value else "no" if value is False else "\u2014")]
    if isinstance(value, int | float):
        return [f"{name}: {value:,}" if isinstance(value, int) else f"{name}: {value:,.2f}"]
    return [f"{name}: {value}"]


def _state(ctx: ReportContext, run: dict[str, Any], runs: pd.DataFrame) -> tuple[str, str]:
    """A run's status and duration as people read them.

    The report stage of this page's own run has not finished when the page is written: it is
    "this run". A stage left unfinished with a newer run of the same stage "did not finish".
    """
    started, finished = run["started_at"], run["finished_at"]
    if finished is not None and started is not None:
        return run["status"], f"{(finished - started).total_seconds():,.0f} s"
    if run["run_id"] == ctx.run_id and run["stage"] == "report":
        return "this run", "writing this page"
    newer = runs[(runs["stage"] == run["stage"]) & (runs["started_at"] > started)]
    return ("did not finish", "\u2014") if len(newer) else (run["status"], "\u2014")


def _run_rows(ctx: ReportContext, runs: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in records(runs):
        status, duration = _state(ctx, r, runs)
        lines, full = describe_message(r["message"])
        window = f"{str(r['data_from'])[:10]} .. {str(r['data_to'])[:10]}" if r["data_from"] is not None else ""
        rows.append(
            {
                **r,
                "status": status,
                "started": str(r["started_at"])[:19],
                "duration": duration,
                "window": window,
                "message_lines": lines,
                "message_full": full,
            }
        )
    return rows


def _stage_chart(runs: pd.DataFrame) -> charts.Chart | None:
    """Rows in and out of the latest finished run of each stage."""
    done = runs[runs["status"].isin(["success", "failed"]) & runs["finished_at"].notna()]
    if not len(done):
        return None
    latest = done.sort_values("started_at").groupby("stage", as_index=False).tail(1)
    order = {s: i for i, s in enumerate(("ingest", "enrich", "themes", "report"))}
    latest = latest.sort_values("stage", key=lambda s: s.map(lambda v: order.get(v, 99)))
    return charts.stage_rows_bars("chart-stage-rows", "Rows in and out of each stage", latest)


def _batches(batches: pd.DataFrame, anchors: dict[str, str]) -> list[dict[str, Any]]:
    """Ingest batches with the anchor of their quarantined rows and a short message."""
    out = []
    for b in records(batches):
        out.append({**b, "anchor": anchors.get(b["batch_id"]), "message_folded": fold(b["message"], MESSAGE_CHARS)})
    return out


def _quarantine_groups(by_batch: pd.DataFrame, anchors: dict[str, str]) -> list[dict[str, Any]]:
    """Quarantined rows grouped per batch (one anchor each): check, reason, first row numbers."""
    groups: dict[str, dict[str, Any]] = {}
    for q in records(by_batch):
        numbers = [int(n) for n in (q["row_numbers"] or []) if n is not None]
        more = "" if len(numbers) >= (q["rows"] or 0) else ", \u2026"
        group = groups.setdefault(
            q["batch_id"], {"batch_id": q["batch_id"], "anchor": anchors[q["batch_id"]], "rows": []}
        )
        group["rows"].append(
            {**q, "reason_folded": fold(q["reason"], MESSAGE_CHARS), "row_text": ", ".join(map(str, numbers)) + more}
        )
    return list(groups.values())


def build(ctx: ReportContext) -> Page:
    """Collect the data team's view of the latest runs."""
    runs = ctx.query("run_status", max_rows=MAX_RUNS)
    batches = ctx.query("ingest_reconciliation", max_rows=MAX_BATCHES)
    quarantine = ctx.query("quarantine")
    by_batch = ctx.query("quarantine_batches", max_rows=MAX_QUARANTINE_GROUPS)
    versions = ctx.query("model_versions")
    windows = ctx.query("data_windows")
    blocks = ctx.query("export_blocks", max_rows=MAX_EXPORT_BLOCKS)

    anchors = {batch: f"q-{i}" for i, batch in enumerate(dict.fromkeys(by_batch["batch_id"]))}
    stage_chart = _stage_chart(runs)
    context = {
        "runs": _run_rows(ctx, runs),
        "failed": int((runs["status"] == "failed").sum()),
        "stage_chart": stage_chart,
        "batches": _batches(batches, anchors),
        "quarantine": records(quarantine.assign(reason=quarantine["reason"].map(lambda v: fold(v, MESSAGE_CHARS)))),
        "quarantine_batches": _quarantine_groups(by_batch, anchors),
        "versions": [{**v, "version_folded": fold(v["version"])} for v in records(versions)],
        "windows": [
            {
                **w,
                "redactor_folded": fold(w["redactor_versions"]),
                "sentiment_folded": fold(w["sentiment_model_versions"]),
            }
            for w in records(windows)
        ],
        "export_blocks": records(blocks),
        "held_back_this_run": int(blocks.loc[blocks["run_id"] == ctx.run_id, "file"].nunique()),
    }
    tables = {
        "stage_runs": runs,
        "ingest_batches": batches,
        "quarantine": quarantine,
        "quarantine_by_batch": by_batch,
        "model_versions": versions,
        "data_windows": windows,
        "held_back_files": blocks,
    }
    return Page("run_status.html.j2", context, [stage_chart] if stage_chart else [], tables)
