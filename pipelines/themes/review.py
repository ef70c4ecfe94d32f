"""The reviewer loop for themes: an XLSX workbook out, validated corrections in, applied on every run.

* :func:`export_review` writes a workbook from the marts layer (redacted text only): a ``themes``
  sheet (stable id, category, label, size, three quotes, and the editable ``action``,
  ``new_label``, ``new_category``, ``merge_into``), a ``comments`` sheet (sample clauses of every
  theme with the editable ``new_theme`` and ``new_category``), the allowed ``categories`` and the
  ``instructions``. Every cell is formula-guarded (:mod:`pipelines.exports`).
* :func:`import_review` reads a reviewed workbook, checks all of it (:func:`validate`) and, only
  when every row is valid, stores it as one numbered correction set in
  ``enrich.theme_corrections`` (with the file's name, sha256, reviewer and the run that applied
  it) and applies it. A bad row stores nothing; the error lists every bad row by sheet and row.
* :func:`apply_corrections` applies every correction set in force to the current registry and
  assignments: renames, category moves, merges (the merged theme's clauses go to its target, its
  id is kept as 'merged' pointing at the target) and recodes of single clauses (the reviewer's
  theme is the clause's primary theme). It runs after each import and inside every theme run
  (refit or daily), so corrections persist across refits through the stable theme ids.
* :func:`reviewed_examples` turns the recodes into training examples (clause text, category) for
  the per-category classifier (:mod:`pipelines.themes.classifier`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from pipelines import exports, warehouse
from pipelines.config import Settings
from pipelines.themes.context import themes_dir
from pipelines.themes.model import Category, load_taxonomy, normalize_rows

__all__ = [
    "ACTIONS",
    "Formula",
    "ReviewImportError",
    "ReviewResult",
    "apply_corrections",
    "corrections_version",
    "export_review",
    "import_review",
    "read_review_file",
    "reviewed_examples",
    "taxonomy",
    "validate",
]

ACTIONS = ("keep", "rename", "move", "merge")
THEME_COLUMNS = (
    "theme_id",
    "category_id",
    "category_name",
    "label",
    "size",
    "quote_1",
    "quote_2",
    "quote_3",
    "action",
    "new_label",
    "new_category",
    "merge_into",
)
COMMENT_COLUMNS = (
    "feedback_id",
    "clause_idx",
    "text",
    "theme_id",
    "theme_label",
    "category_id",
    "new_theme",
    "new_category",
)
THEMES_SHEET, COMMENTS_SHEET, CATEGORIES_SHEET = "themes", "comments", "categories"
MAX_LABEL = 80
_THEME_ID = re.compile(r"T\d{4,}")

INSTRUCTIONS = (
    "Theme review: correct the themes here, then run `feedback themes import <this file>`.",
    "Only the columns action, new_label, new_category and merge_into (sheet 'themes') and new_theme and",
    "new_category (sheet 'comments') are read; edits anywhere else are ignored (the import says so).",
    "",
    "Sheet 'themes', one row per theme (theme_id is the stable id; it survives refits):",
    "  rename: write the new label in new_label (2-80 characters, unique among the themes).",
    "  move to another category: write its id in new_category (sheet 'categories' lists them).",
    "  merge: write the id of the theme that takes its comments in merge_into (an active theme, not",
    "    itself merged in this file). The merged theme's id is retired and points at its target.",
    "  action (optional): keep | rename | move | merge; it must agree with the columns you filled",
    "    (rename and move may go together; a merged theme takes its target's label and category).",
    "",
    "Sheet 'comments', sample clauses of each theme (redacted text):",
    "  recode one clause: write a theme id in new_theme, or a new theme name to split the clause",
    "    off into a new theme (every clause given the same new name goes to the same new theme,",
    "    under new_category or else its current theme's category).",
    "  new_category alone: the clause goes to the closest theme of that category.",
    "  Recoded clauses also teach the category classifier (a few examples per category help).",
    "",
    "Leave a row blank to leave it as it is. The import checks the whole file first: if any row is",
    "wrong nothing is applied and every wrong row is listed by sheet and row number (header = row 1).",
    "Corrections are versioned (one correction set per imported file) and applied again after every",
    "theme run, so they persist across refits.",
)


class ReviewImportError(ValueError):
    """A reviewed workbook cannot be applied (the message lists every bad row); nothing was stored."""


def taxonomy(settings: Settings) -> list[Category]:
    """The categories a theme or clause may be moved to (``models/themes/taxonomy.yaml``)."""
    return load_taxonomy(themes_dir(settings) / "taxonomy.yaml")


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_review` wrote."""

    path: Path
    themes: int
    comments: int


def _quotes(raw: Any) -> list[str]:
    try:
        quotes = json.loads(raw) if isinstance(raw, str) else []
    except json.JSONDecodeError:
        return []
    return [str(q) for q in quotes if isinstance(q, str)][:3] if isinstance(quotes, list) else []


def export_review(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    out: Path,
    categories: Sequence[Category],
    per_theme: int = 10,
    guard: exports.ExportGuard | None = None,
) -> ExportResult:
    """Write the reviewer workbook ``out`` (.xlsx) from the marts layer.

    Args:
        settings: where the SQL lives.
        con: a warehouse connection (read-only is enough).
        out: the workbook to write (its folder is created).
        categories: the taxonomy: the categories a theme or clause may move to.
        per_theme: sample clauses per theme on the comments sheet.
        guard: the final privacy scan; a finding blocks the file (``exports.ExportBlocked``).

    Raises:
        ReviewImportError: when the warehouse has no active theme yet.
    """
    themes = warehouse.run_sql(con, settings, "queries/themes/review_themes").df()
    if themes.empty:
        raise ReviewImportError("no active themes in the warehouse: run `feedback themes` (or `feedback run`) first")
    comments = warehouse.run_sql(con, settings, "queries/themes/review_comments", {"per_theme": per_theme}).df()
    frames = _review_frames(themes, comments, categories)
    cat_range = f"{CATEGORIES_SHEET}!$A$2:$A${max(len(categories) + 1, 2)}"
    theme_range = f"{THEMES_SHEET}!$A$2:$A${len(themes) + 1}"
    exports.write_xlsx(
        frames,
        out,
        choices={THEMES_SHEET: {"action": ACTIONS}},
        ranges={
            THEMES_SHEET: {"new_category": cat_range, "merge_into": theme_range},
            COMMENTS_SHEET: {"new_category": cat_range},
        },
        widths={
            THEMES_SHEET: (9, 18, 22, 34, 7, 40, 40, 40, 10, 30, 18, 11),
            COMMENTS_SHEET: (18, 9, 70, 9, 30, 18, 24, 18),
            CATEGORIES_SHEET: (22, 34, 16, 90),
            "instructions": (110,),
        },
        guard=guard,
    )
    return ExportResult(path=out, themes=len(themes), comments=len(comments))


def _review_frames(
    themes: pd.DataFrame, comments: pd.DataFrame, categories: Sequence[Category]
) -> dict[str, pd.DataFrame]:
    """The workbook's sheets, in order: themes, comments, categories, instructions."""
    quotes = [_quotes(q) for q in themes["quotes"]]
    theme_sheet = pd.DataFrame(
        {
            "theme_id": themes["theme_id"],
            "category_id": themes["category_id"],
            "category_name": themes["category_name"],
            "label": themes["theme_label"],
            "size": themes["theme_size"].fillna(0).astype(int),
            **{f"quote_{i + 1}": [q[i] if len(q) > i else "" for q in quotes] for i in range(3)},
            "action": "",
            "new_label": "",
            "new_category": "",
            "merge_into": "",
        },
        columns=list(THEME_COLUMNS),
    )
    comment_sheet = pd.DataFrame(
        {
            "feedback_id": comments["feedback_id"],
            "clause_idx": comments["clause_idx"].astype(int),
            "text": comments["clause_text"],
            "theme_id": comments["theme_id"],
            "theme_label": comments["theme_label"],
            "category_id": comments["category_id"],
            "new_theme": "",
            "new_category": "",
        },
        columns=list(COMMENT_COLUMNS),
    )
    cat_sheet = pd.DataFrame(
        {
            "category_id": [c.id for c in categories],
            "name": [c.name for c in categories],
            "group": [c.group or "" for c in categories],
            "description": [c.description or "" for c in categories],
        }
    )
    return {
        THEMES_SHEET: theme_sheet,
        COMMENTS_SHEET: comment_sheet,
        CATEGORIES_SHEET: cat_sheet,
        "instructions": pd.DataFrame({"instructions": INSTRUCTIONS}),
    }


# --------------------------------------------------------------------------------------
# Reading a reviewed workbook
# --------------------------------------------------------------------------------------
Row = tuple[int, dict[str, Any]]  # (spreadsheet row number, column -> value)


class Formula(str):
    """A cell holding a spreadsheet formula (never taken as a value)."""


def _cell(value: Any, data_type: str | None = None) -> Any:
    """A cell as the reviewer meant it: blanks to '', the formula guard's apostrophe removed."""
    if data_type == "f" and isinstance(value, str):
        return Formula(value)
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("'") and text[1:].lstrip()[:1] in exports.FORMULA_TRIGGERS:
            return text[1:]
        return text
    return value


def read_review_file(path: Path) -> tuple[list[Row], list[Row]]:
    """Rows of the ``themes`` and ``comments`` sheets of a reviewed workbook (header = row 1).

    Raises:
        ReviewImportError: unreadable file, a missing sheet or a missing column.
    """
    if not path.is_file():
        raise ReviewImportError(f"{path}: no such file")
    if path.suffix.lower() != ".xlsx":
        raise ReviewImportError(f"{path}: use the .xlsx workbook written by `feedback themes export`")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ReviewImportError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        sheets = {}
        for name, columns in ((THEMES_SHEET, THEME_COLUMNS), (COMMENTS_SHEET, COMMENT_COLUMNS)):
            if name not in wb.sheetnames:
                raise ReviewImportError(f"{path}: no sheet {name!r} (sheets: {', '.join(wb.sheetnames)})")
            table = [[_cell(c.value, getattr(c, "data_type", None)) for c in r] for r in wb[name].iter_rows()]
            header = [str(h).strip().lower() for h in (table[0] if table else [])]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ReviewImportError(f"{path}: sheet {name!r} has no column(s) {', '.join(missing)}")
            sheets[name] = [
                (n, {h: row[i] if i < len(row) else "" for i, h in enumerate(header) if h})
                for n, row in enumerate(table[1:], start=2)
            ]
    finally:
        wb.close()
    return sheets[THEMES_SHEET], sheets[COMMENTS_SHEET]


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
@dataclass
class Recode:
    """One clause recoded: to an existing theme (``theme_id``) or a new one (``new_name``)."""

    row: int
    feedback_id: str
    clause_idx: int
    clause_text: str
    theme_id: str | None = None
    new_name: str | None = None
    category_id: str | None = None  # the new theme's category


@dataclass
class Plan:
    """What a valid file changes (theme ids are registry ids)."""

    renames: dict[str, tuple[int, str]] = field(default_factory=dict)  # theme -> (row, label)
    moves: dict[str, tuple[int, str]] = field(default_factory=dict)  # theme -> (row, category id)
    merges: dict[str, tuple[int, str]] = field(default_factory=dict)  # theme -> (row, target)
    recodes: list[Recode] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # read-only edits, ignored

    def empty(self) -> bool:
        """Nothing to apply."""
        return not (self.renames or self.moves or self.merges or self.recodes)


@dataclass(frozen=True)
class Clause:
    """A clause as the warehouse holds it now."""

    text: str
    theme_id: str | None
    embedding: np.ndarray | None


def _text(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def _is_formula(value: Any) -> bool:
    return isinstance(value, Formula)


def validate(  # long: every rule of the file in one place, each with its message
    theme_rows: Sequence[Row],
    comment_rows: Sequence[Row],
    registry: pd.DataFrame,
    categories: Mapping[str, Category],
    clauses: Mapping[tuple[str, int], Clause],
) -> tuple[Plan, list[str]]:
    """Check a whole reviewed file against the registry, taxonomy and clauses; (plan, errors).

    ``registry`` has theme_id, label, category_id, status (and centroid); ``categories`` maps
    category id to the taxonomy category; ``clauses`` maps (feedback_id, clause_idx) of the
    recoded rows to what the warehouse holds. Errors read ``sheet 'themes' row 5: ...``.
    """
    plan, errors = Plan(), []
    reg = registry.set_index("theme_id") if not registry.empty else pd.DataFrame(columns=["status"])
    active = set(reg.index[reg["status"] == "active"]) if len(reg) else set()

    def err(sheet: str, row: int, message: str) -> None:
        errors.append(f"sheet {sheet!r} row {row}: {message}")

    seen: dict[str, int] = {}
    for n, r in theme_rows:
        tid = _text(r.get("theme_id"))
        action = _text(r.get("action")).lower()
        new_label, new_cat, target = _text(r.get("new_label")), _text(r.get("new_category")), _text(r.get("merge_into"))
        edited = {"action": action, "new_label": new_label, "new_category": new_cat, "merge_into": target}
        if not any(edited.values()):
            _note_read_only(plan, THEMES_SHEET, n, r, reg, tid)
            continue
        formulas = [k for k in edited if _is_formula(r.get(k))]
        if formulas:
            err(THEMES_SHEET, n, f"{', '.join(formulas)} holds a formula; type the value itself")
            continue
        if not tid:
            err(THEMES_SHEET, n, "theme_id is empty")
            continue
        if tid in seen:
            err(THEMES_SHEET, n, f"theme {tid} is edited in row {seen[tid]} already")
            continue
        seen[tid] = n
        if tid not in reg.index:
            err(THEMES_SHEET, n, f"unknown theme_id {tid!r}")
            continue
        if tid not in active:
            err(THEMES_SHEET, n, f"theme {tid} is {reg.loc[tid, 'status']} now (export a fresh file)")
            continue
        if action and action not in ACTIONS:
            err(THEMES_SHEET, n, f"action {action!r} is not one of {', '.join(ACTIONS)}")
            continue
        _note_read_only(plan, THEMES_SHEET, n, r, reg, tid)
        problems = _action_problems(action, new_label, new_cat, target)
        if new_label and not 2 <= len(new_label) <= MAX_LABEL:
            problems.append(f"new_label must be 2-{MAX_LABEL} characters, not {len(new_label)}")
        if new_cat and new_cat not in categories:
            problems.append(f"unknown category {new_cat!r} in new_category (sheet 'categories' lists them)")
        if target and target == tid:
            problems.append("merge_into names the theme itself")
        elif target and target not in reg.index:
            problems.append(f"merge_into names an unknown theme {target!r}")
        elif target and target not in active:
            problems.append(f"merge_into names theme {target}, which is {reg.loc[target, 'status']}")
        for p in problems:
            err(THEMES_SHEET, n, p)
        if problems:
            continue
        if new_label:
            plan.renames[tid] = (n, new_label)
        if new_cat and new_cat != reg.loc[tid, "category_id"]:
            plan.moves[tid] = (n, new_cat)
        if target:
            plan.merges[tid] = (n, target)
    for tid, (n, target) in plan.merges.items():
        if target in plan.merges:
            chain, cur = [tid], target
            while cur in plan.merges and cur not in chain:
                chain.append(cur)
                cur = plan.merges[cur][1]
            if cur in chain:
                err(THEMES_SHEET, n, f"merges form a cycle: {' -> '.join([*chain, cur])}")
            else:
                err(THEMES_SHEET, n, f"merge_into names {target}, which this file merges into {plan.merges[target][1]}")
    _check_labels(plan, reg, active, err)
    _validate_recodes(comment_rows, plan, reg, active, categories, clauses, err)
    return plan, errors


def _note_read_only(plan: Plan, sheet: str, n: int, r: dict[str, Any], reg: pd.DataFrame, tid: str) -> None:
    # Edits of the columns the import does not read: ignored, and said so.
    if tid not in reg.index:
        return
    for column, current in (("label", reg.loc[tid, "label"]), ("category_id", reg.loc[tid, "category_id"])):
        value = _text(r.get(column))
        if value and current is not None and value != str(current):
            plan.ignored.append(f"sheet {sheet!r} row {n}: column {column!r} is read-only (edit ignored)")


def _action_problems(action: str, new_label: str, new_cat: str, target: str) -> list[str]:
    problems = []
    if target and (new_label or new_cat):
        problems.append("a merged theme takes its target's label and category: leave new_label and new_category blank")
    wants = {"rename": new_label, "move": new_cat, "merge": target}
    if action in wants and not wants[action]:
        column = {"rename": "new_label", "move": "new_category", "merge": "merge_into"}[action]
        problems.append(f"action {action} needs {column}")
    if action == "keep" and (new_label or new_cat or target):
        problems.append("action keep, but new_label, new_category or merge_into is filled")
    if action in {"rename", "move"} and target:
        problems.append(f"action {action}, but merge_into is filled")
    if action == "merge" and (new_label or new_cat):
        problems.append("action merge, but new_label or new_category is filled")
    return problems


def _check_labels(plan: Plan, reg: pd.DataFrame, active: set[str], err: Any) -> None:
    """Active theme labels stay unique once the file's renames and merges are applied."""
    labels = {t: str(reg.loc[t, "label"]) for t in active if t not in plan.merges}
    for t, (_, label) in plan.renames.items():
        labels[t] = label
    owners: dict[str, list[str]] = {}
    for t, label in labels.items():
        owners.setdefault(label.casefold(), []).append(t)
    for t, (n, label) in plan.renames.items():
        others = sorted(o for o in owners[label.casefold()] if o != t)
        if others:
            err(THEMES_SHEET, n, f"new_label {label!r} is the label of {', '.join(others)} too (merge them instead)")


def _validate_recodes(
    rows: Sequence[Row],
    plan: Plan,
    reg: pd.DataFrame,
    active: set[str],
    categories: Mapping[str, Category],
    clauses: Mapping[tuple[str, int], Clause],
    err: Any,
) -> None:
    """Comment-sheet rows: known clause, a known theme or a new name, an allowed category."""
    labels = {str(reg.loc[t, "label"]).casefold(): t for t in active if t not in plan.merges}
    for t, (_, label) in plan.renames.items():
        labels[label.casefold()] = t
    seen: dict[tuple[str, int], int] = {}
    for n, r in rows:
        new_theme, new_cat = _text(r.get("new_theme")), _text(r.get("new_category"))
        if not new_theme and not new_cat:
            continue
        if _is_formula(r.get("new_theme")) or _is_formula(r.get("new_category")):
            err(COMMENTS_SHEET, n, "new_theme or new_category holds a formula; type the value itself")
            continue
        fid, idx = _text(r.get("feedback_id")), _clause_idx(r.get("clause_idx"))
        if not fid or idx is None:
            err(COMMENTS_SHEET, n, "feedback_id and a whole-number clause_idx are needed to recode a clause")
            continue
        key = (fid, idx)
        if key in seen:
            err(COMMENTS_SHEET, n, f"clause {fid}#{idx} is recoded in row {seen[key]} already")
            continue
        seen[key] = n
        clause = clauses.get(key)
        if clause is None:
            err(COMMENTS_SHEET, n, f"unknown clause {fid}#{idx} (not in the warehouse)")
            continue
        if new_cat and new_cat not in categories:
            err(COMMENTS_SHEET, n, f"unknown category {new_cat!r} in new_category")
            continue
        recode = Recode(row=n, feedback_id=fid, clause_idx=idx, clause_text=clause.text)
        if new_theme:
            target = new_theme if new_theme in reg.index else labels.get(new_theme.casefold())
            if target is None and _THEME_ID.fullmatch(new_theme):
                err(COMMENTS_SHEET, n, f"unknown theme id {new_theme!r} in new_theme")
                continue
            if target is not None:
                problem = _target_problem(target, new_cat, plan, reg, active)
                if problem:
                    err(COMMENTS_SHEET, n, problem)
                    continue
                recode.theme_id = target
            else:
                if not 2 <= len(new_theme) <= MAX_LABEL:
                    err(COMMENTS_SHEET, n, f"a new theme name must be 2-{MAX_LABEL} characters")
                    continue
                recode.new_name = new_theme
                current = clause.theme_id
                current_cat = _category_after(current, plan, reg) if current else None
                recode.category_id = new_cat or current_cat
                if not recode.category_id:
                    err(COMMENTS_SHEET, n, f"new theme {new_theme!r}: give its category in new_category")
                    continue
        else:
            target = _nearest_in_category(clause, new_cat, plan, reg, active)
            if target is None:
                err(COMMENTS_SHEET, n, f"category {new_cat} has no theme: name a new theme in new_theme")
                continue
            recode.theme_id = target
        plan.recodes.append(recode)
    _same_name_same_category(plan, err)


def _vector(value: Any) -> np.ndarray | None:
    """A stored embedding as a float32 vector; None for a missing one (null, NA)."""
    if value is None or isinstance(value, float) or value is pd.NA:
        return None
    vec = np.asarray(value, dtype=np.float32)
    return vec if vec.ndim == 1 and len(vec) else None


def _clause_idx(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def _category_after(tid: str, plan: Plan, reg: pd.DataFrame) -> str | None:
    if tid in plan.moves:
        return plan.moves[tid][1]
    value = reg.loc[tid, "category_id"] if tid in reg.index else None
    return str(value) if value is not None and value == value else None


def _target_problem(target: str, new_cat: str, plan: Plan, reg: pd.DataFrame, active: set[str]) -> str | None:
    if target in plan.merges:
        return f"new_theme {target} is merged into {plan.merges[target][1]} by this file: recode to that theme"
    if target not in active:
        return f"new_theme {target} is {reg.loc[target, 'status']}"
    category = _category_after(target, plan, reg)
    if new_cat and new_cat != category:
        return f"theme {target} is in category {category}, not {new_cat} (move the theme on sheet 'themes')"
    return None


def _nearest_in_category(clause: Clause, category: str, plan: Plan, reg: pd.DataFrame, active: set[str]) -> str | None:
    """The active theme of ``category`` whose centroid is closest to the clause (else the largest)."""
    pool = [t for t in sorted(active) if t not in plan.merges and _category_after(t, plan, reg) == category]
    if not pool:
        return None
    if clause.embedding is not None and "centroid" in reg.columns:
        cents = [_vector(reg.loc[t, "centroid"]) for t in pool]
        usable = [i for i, c in enumerate(cents) if c is not None and len(c) == len(clause.embedding)]
        if usable:
            mat = normalize_rows(np.stack([cents[i] for i in usable]))
            return pool[usable[int(np.argmax(mat @ np.asarray(clause.embedding, dtype=np.float32)))]]
    sizes = pd.to_numeric(reg.loc[pool, "size"], errors="coerce").fillna(0).to_numpy() if "size" in reg else None
    return pool[int(np.argmax(sizes))] if sizes is not None else pool[0]


def _same_name_same_category(plan: Plan, err: Any) -> None:
    """Every clause sent to one new theme name agrees on its category."""
    first: dict[str, Recode] = {}
    for r in plan.recodes:
        if r.new_name is None:
            continue
        key = r.new_name.casefold()
        if key in first and first[key].category_id != r.category_id:
            err(
                COMMENTS_SHEET,
                r.row,
                f"new theme {r.new_name!r} is in category {first[key].category_id} in row {first[key].row}, "
                f"here {r.category_id}: give both rows the same new_category",
            )
        first.setdefault(key, r)


# --------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewResult:
    """What an import applied."""

    set_version: int
    file_sha256: str
    counts: dict[str, int]
    ignored: list[str]
    new_themes: dict[str, str]  # new theme name -> id


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_clauses(
    settings: Settings, con: duckdb.DuckDBPyConnection, rows: Sequence[Row]
) -> dict[tuple[str, int], Clause]:
    keys = [
        (_text(r.get("feedback_id")), _clause_idx(r.get("clause_idx")))
        for _, r in rows
        if _text(r.get("new_theme")) or _text(r.get("new_category"))
    ]
    keys = [(f, i) for f, i in keys if f and i is not None]
    if not keys:
        return {}
    frame = pd.DataFrame(keys, columns=["feedback_id", "clause_idx"])
    with warehouse.registered(con, themes_review_keys=frame):
        found = warehouse.run_sql(con, settings, "queries/themes/review_clauses").fetchall()
    return {
        (str(f), int(i)): Clause(text=str(t), theme_id=th, embedding=None if e is None else np.asarray(e, np.float32))
        for f, i, t, th, e in found
    }


def import_review(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    categories: Sequence[Category],
    run_id: str,
    reviewer: str | None = None,
) -> ReviewResult:
    """Validate a reviewed workbook and, when every row is valid, store and apply it as one correction set.

    Raises:
        ReviewImportError: listing every bad row by sheet and row number; nothing is stored.
    """
    theme_rows, comment_rows = read_review_file(path)
    sha = file_sha256(path)
    done = warehouse.run_sql(con, settings, "queries/themes/correction_set_of_file", {"sha256": sha}).fetchone()
    if done is not None:
        raise ReviewImportError(
            f"{path}: this file (sha256 {sha[:12]}...) was applied already as correction set {done[0]} "
            f"on {done[1]:%Y-%m-%d %H:%M} UTC ({done[2]}); nothing stored"
        )
    registry = warehouse.run_sql(con, settings, "queries/themes/review_registry").df()
    by_id = {c.id: c for c in categories}
    plan, errors = validate(theme_rows, comment_rows, registry, by_id, _read_clauses(settings, con, comment_rows))
    if errors:
        shown = "\n  ".join(errors[:100])
        more = f"\n  ... and {len(errors) - 100} more" if len(errors) > 100 else ""
        raise ReviewImportError(f"{path}: {len(errors)} error(s), nothing applied:\n  {shown}{more}")
    if plan.empty():
        raise ReviewImportError(f"{path}: no corrections in the file (every editable cell is blank); nothing stored")
    with warehouse.transaction(con):
        version = int(warehouse.run_sql(con, settings, "queries/themes/next_correction_set").fetchone()[0])
        new_ids = _create_split_themes(settings, con, plan, registry, by_id, run_id)
        rows = _correction_rows(plan, by_id, new_ids, version)
        counts = {
            "renames": len(plan.renames),
            "moves": len(plan.moves),
            "merges": len(plan.merges),
            "recodes": len(plan.recodes),
            "new_themes": len(new_ids),
        }
        with warehouse.registered(con, themes_incoming_corrections=rows):
            warehouse.run_sql(con, settings, "queries/themes/insert_corrections")
        warehouse.run_sql(
            con,
            settings,
            "queries/themes/insert_correction_set",
            {
                "set_version": version,
                "file_name": path.name,
                "file_sha256": sha,
                "reviewer": reviewer,
                "run_id": run_id,
                "applied_at": datetime.now(UTC),
                "counts": json.dumps(counts),
            },
        )
        apply_corrections(settings, con, run_id)
    return ReviewResult(set_version=version, file_sha256=sha, counts=counts, ignored=plan.ignored, new_themes=new_ids)


def _create_split_themes(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    registry: pd.DataFrame,
    categories: Mapping[str, Category],
    run_id: str,
) -> dict[str, str]:
    """Registry rows for the new theme names of the file (splits); returns name -> new id."""
    from pipelines.themes.registry import _next_theme_number

    groups: dict[str, list[Recode]] = {}
    for r in plan.recodes:
        if r.new_name is not None:
            groups.setdefault(r.new_name.casefold(), []).append(r)
    if not groups:
        return {}
    number = _next_theme_number(registry["theme_id"].tolist())
    reg = registry.set_index("theme_id")
    dim = next((len(v) for v in map(_vector, registry["centroid"]) if v is not None), 0)
    rows, ids = [], {}
    now = datetime.now(UTC)
    for members in groups.values():
        tid = f"T{number:04d}"
        number += 1
        first = members[0]
        ids[first.new_name] = tid
        cat = categories.get(first.category_id or "")
        centroid = _split_centroid(settings, con, members, reg, dim)
        for r in members:
            r.theme_id = tid
        rows.append(
            {
                "theme_id": tid,
                "label": first.new_name,
                "category_id": first.category_id,
                "category_name": cat.name if cat else first.category_id,
                "keywords": "[]",
                "quotes": json.dumps(list(dict.fromkeys(r.clause_text for r in members))[:5]),
                "centroid": centroid,
                "first_seen_run": run_id,
                "last_seen_run": run_id,
                "status": "active",
                "size": 0,
                "category_group": cat.group if cat else None,
                "category_similarity": None,
                "category_runner_up": None,
                "taxonomy_hash": None,
                "model_version": "reviewer",
                "updated_at": now,
            }
        )
    with warehouse.registered(con, themes_incoming_themes=pd.DataFrame(rows)):
        warehouse.run_sql(con, settings, "queries/themes/upsert_themes")
    return ids


def _split_centroid(
    settings: Settings, con: duckdb.DuckDBPyConnection, members: list[Recode], reg: pd.DataFrame, dim: int
) -> np.ndarray | None:
    """Mean cached embedding of the recoded clauses; else the centroid of their current theme."""
    found = _read_clauses(
        settings,
        con,
        [(r.row, {"feedback_id": r.feedback_id, "clause_idx": r.clause_idx, "new_theme": "x"}) for r in members],
    )
    vecs = [c.embedding for c in found.values() if c.embedding is not None and (not dim or len(c.embedding) == dim)]
    if vecs:
        return normalize_rows(np.mean(np.stack(vecs), axis=0, keepdims=True))[0]
    for c in found.values():
        vec = _vector(reg.loc[c.theme_id, "centroid"]) if c.theme_id in reg.index else None
        if vec is not None:
            return vec
    return None


def _correction_rows(
    plan: Plan, categories: Mapping[str, Category], new_ids: Mapping[str, str], version: int
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []

    def add(**values: Any) -> None:
        rows.append({"set_version": version, "seq": len(rows) + 1, **values})

    for tid, (n, label) in plan.renames.items():
        add(kind="rename", theme_id=tid, new_label=label, sheet=THEMES_SHEET, source_row=n)
    for tid, (n, cat) in plan.moves.items():
        c = categories[cat]
        add(
            kind="move",
            theme_id=tid,
            new_category_id=cat,
            new_category_name=c.name,
            new_category_group=c.group,
            sheet=THEMES_SHEET,
            source_row=n,
        )
    for tid, (n, target) in plan.merges.items():
        add(kind="merge", theme_id=tid, merge_into=target, sheet=THEMES_SHEET, source_row=n)
    for r in plan.recodes:
        add(
            kind="recode",
            feedback_id=r.feedback_id,
            clause_idx=r.clause_idx,
            clause_text=r.clause_text,
            new_theme_id=r.theme_id,
            new_category_id=r.category_id if r.new_name else None,
            sheet=COMMENTS_SHEET,
            source_row=r.row,
        )
    columns = [
        "set_version", "seq", "kind", "theme_id", "new_label", "new_category_id", "new_category_name",
        "new_category_group", "merge_into", "feedback_id", "clause_idx", "clause_text", "new_theme_id",
        "sheet", "source_row",
    ]  # fmt: skip
    frame = pd.DataFrame(rows).reindex(columns=columns)
    frame["clause_idx"] = frame["clause_idx"].astype("Int64")
    return frame.astype({c: object for c in columns if c not in {"set_version", "seq", "clause_idx", "source_row"}})


# --------------------------------------------------------------------------------------
# Applying the corrections in force
# --------------------------------------------------------------------------------------
def _merge_targets(merges: Mapping[str, str]) -> dict[str, str]:
    """Each merged theme -> the theme its clauses end on (chains over correction sets followed)."""
    out = {}
    for tid in merges:
        seen, cur = {tid}, merges[tid]
        while cur in merges and cur not in seen:
            seen.add(cur)
            cur = merges[cur]
        if cur not in seen:  # a cycle cannot be applied (validation refuses one); leave it out
            out[tid] = cur
    return out


def apply_corrections(settings: Settings, con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, int]:
    """Apply every correction in force to the registry and assignments (the caller holds the transaction).

    Idempotent: a theme run calls it after writing its assignments, so renames, moves, merges and
    recodes survive refits (they name stable theme ids). Returns how many of each are in force.
    """
    theme_corr = warehouse.run_sql(con, settings, "queries/themes/corrections_themes").df()
    recodes = warehouse.run_sql(con, settings, "queries/themes/corrections_recodes").df()
    if theme_corr.empty and recodes.empty:
        return {"renames": 0, "moves": 0, "merges": 0, "recodes": 0}
    renames = theme_corr[theme_corr["kind"] == "rename"][["theme_id", "new_label"]]
    moves = theme_corr[theme_corr["kind"] == "move"].rename(
        columns={
            "new_category_id": "category_id",
            "new_category_name": "category_name",
            "new_category_group": "category_group",
        }
    )[["theme_id", "category_id", "category_name", "category_group"]]
    merge_rows = theme_corr[theme_corr["kind"] == "merge"]
    targets = _merge_targets(dict(zip(merge_rows["theme_id"], merge_rows["merge_into"], strict=True)))
    merges = pd.DataFrame({"theme_id": list(targets), "target_id": list(targets.values())}, dtype=object)
    if not renames.empty:
        with warehouse.registered(con, themes_corr_renames=renames.reset_index(drop=True)):
            warehouse.run_sql(con, settings, "queries/themes/apply_renames")
    if not moves.empty:
        with warehouse.registered(con, themes_corr_moves=moves.reset_index(drop=True)):
            warehouse.run_sql(con, settings, "queries/themes/apply_moves")
    if not merges.empty:
        with warehouse.registered(con, themes_corr_merges=merges):
            warehouse.run_script(con, settings, "queries/themes/apply_merges")
    if not recodes.empty:
        frame = pd.DataFrame(
            {
                "feedback_id": recodes["feedback_id"].astype(str),
                "clause_idx": recodes["clause_idx"].astype(int),
                "clause_text": recodes["clause_text"].astype(str),
                "theme_id": [targets.get(t, t) for t in recodes["new_theme_id"]],
                "theme_run_id": run_id,
            }
        )
        with warehouse.registered(con, themes_corr_recodes=frame):
            warehouse.run_script(con, settings, "queries/themes/apply_recodes")
    warehouse.run_sql(con, settings, "queries/themes/refresh_sizes")
    return {"renames": len(renames), "moves": len(moves), "merges": len(merges), "recodes": len(recodes)}


def corrections_version(settings: Settings, con: duckdb.DuckDBPyConnection) -> int:
    """The corrections version in force (0: none imported)."""
    return int(warehouse.run_sql(con, settings, "queries/themes/corrections_version").fetchone()[0])


def category_overrides(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Theme id -> the category a reviewer moved it to (the latest move of each theme)."""
    rows = warehouse.run_sql(con, settings, "queries/themes/corrections_themes").df()
    moves = rows[rows["kind"] == "move"]
    return dict(zip(moves["theme_id"], moves["new_category_id"], strict=True))


def reviewed_examples(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, str], ...]:
    """(redacted clause text, category id) of every recode in force: training examples for the classifier.

    The category is the one of the theme the clause was recoded to, after the reviewers' moves
    and merges; clauses whose theme is in no taxonomy category ('new') teach nothing.
    """
    recodes = warehouse.run_sql(con, settings, "queries/themes/corrections_recodes").df()
    if recodes.empty:
        return ()
    registry = warehouse.run_sql(con, settings, "queries/themes/review_registry").df().set_index("theme_id")
    category = registry["category_id"].to_dict()
    merged = {t: m for t, m in registry["merged_into"].items() if isinstance(m, str)}
    out = []
    for text, tid in zip(recodes["clause_text"], recodes["new_theme_id"], strict=True):
        for _ in range(len(merged) + 1):  # follow merges to the theme the clause sits on
            if tid not in merged:
                break
            tid = merged[tid]
        cat = category.get(tid)
        if isinstance(cat, str) and cat and cat != "new" and isinstance(text, str) and text.strip():
            out.append((text, cat))
    return tuple(sorted(set(out)))
