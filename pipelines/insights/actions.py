"""You said, we did: improvement actions recorded against a theme and a segment.

The response team records what it changed (``feedback action add`` or a spreadsheet import);
``marts.fct_kpi_action_effect`` and ``reporting.rpt_actions`` then measure each action's theme
share and sentiment before vs after its start date, and the trend pack shows the verdict.

An action's id is derived from its content (theme, site, service, start, description), so
importing the same sheet twice updates rows instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings

STATUSES = ("planned", "in progress", "done")
_COLUMN_ALIASES = {
    "theme": "theme_id",
    "theme_id": "theme_id",
    "theme_label": "theme_id",
    "site": "site",
    "hospital": "site",
    "service": "service",
    "department": "service",
    "ward": "service",
    "start": "start_date",
    "start_date": "start_date",
    "started": "start_date",
    "date": "start_date",
    "end": "end_date",
    "end_date": "end_date",
    "description": "description",
    "action": "description",
    "what_we_did": "description",
    "we_did": "description",
    "owner": "owner",
    "lead": "owner",
    "status": "status",
}


class ActionError(ValueError):
    """Actions that cannot be recorded; ``problems`` lists each one with its row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Action:
    """One improvement action. ``site``/``service`` None = every site / service."""

    theme_id: str
    start_date: date
    description: str
    site: str | None = None
    service: str | None = None
    end_date: date | None = None
    owner: str | None = None
    status: str = "in progress"

    @property
    def action_id(self) -> str:
        """Stable id from the action's content."""
        key = "|".join(
            str(v or "") for v in (self.theme_id, self.site, self.service, self.start_date, self.description)
        )
        return "A" + hashlib.sha1(key.encode()).hexdigest()[:8]


def parse_date(value: object) -> date:
    """A date from ISO text (2026-08-01), UK day-first text (01/08/2026) or a spreadsheet cell.

    Raises:
        ValueError: if it is not a date.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"\d{1,2}[/.]\d{1,2}[/.]\d{4}", text):
        day, month, year = re.split(r"[/.]", text)
        return date(int(year), int(month), int(day))
    raise ValueError(f"not a date: {text!r} (use 2026-08-01 or 01/08/2026)")


def known_themes(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Theme id -> label of every theme in the registry (active and retired)."""
    return dict(warehouse.run_sql(con, settings, "queries/insights/known_themes").fetchall())


def known_segments(settings: Settings, con: duckdb.DuckDBPyConnection) -> tuple[set[str], set[str]]:
    """Sites and services that occur in the feedback."""
    rows = warehouse.run_sql(con, settings, "queries/insights/known_segments").fetchall()
    return {v for kind, v in rows if kind == "site"}, {v for kind, v in rows if kind == "service"}


def check(
    settings: Settings, con: duckdb.DuckDBPyConnection, actions: list[Action], rows: list[str] | None = None
) -> tuple[list[Action], list[str], list[str]]:
    """Resolve theme labels to ids and check each action.

    Returns:
        (actions with resolved theme ids, errors, warnings). Unknown sites or services are
        warnings (the action may precede the first feedback from there); everything else is
        an error.
    """
    themes = known_themes(settings, con)
    by_label = {label.lower(): tid for tid, label in themes.items() if label}
    sites, services = known_segments(settings, con)
    resolved, errors, warnings = [], [], []
    for i, action in enumerate(actions):
        where = rows[i] if rows else f"action {i + 1}"
        theme_id = action.theme_id.strip()
        if themes and theme_id not in themes:
            match = by_label.get(theme_id.lower())
            if match is None:
                sample = ", ".join(f"{t} ({themes[t]})" for t in sorted(themes)[:6])
                errors.append(
                    f"{where}: unknown theme {theme_id!r}; known themes include {sample} "
                    "(see `feedback action list --themes`)"
                )
                continue
            theme_id = match
        if not action.description.strip():
            errors.append(f"{where}: the description is empty (say what was changed)")
        if action.end_date and action.end_date < action.start_date:
            errors.append(f"{where}: end date {action.end_date} is before the start date {action.start_date}")
        if action.status not in STATUSES:
            errors.append(f"{where}: status must be one of {', '.join(STATUSES)}, got {action.status!r}")
        if action.site and sites and action.site not in sites:
            warnings.append(f"{where}: no feedback from site {action.site!r} yet")
        if action.service and services and action.service not in services:
            warnings.append(f"{where}: no feedback from service {action.service!r} yet")
        resolved.append(Action(**{**asdict(action), "theme_id": theme_id}))
    if not themes:
        warnings.append("the theme registry is empty (themes stage not run yet): theme ids are not checked")
    return resolved, errors, warnings


@contextmanager
def writing(
    settings: Settings, wait: float | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write warehouse connection for recording or removing actions, under the run lock.

    Actions are written outside the pipeline's stages, so they take the same
    :func:`warehouse.run_lock` a run holds: while a run holds the warehouse this waits up to
    ``wait`` seconds (default ``warehouse.LOCK_TIMEOUT_SECONDS``), then raises
    :class:`warehouse.WarehouseBusy` naming the run, instead of failing on DuckDB's file lock.
    """
    with warehouse.run_lock(settings, timeout=wait, on_wait=on_wait), warehouse.connect(settings) as con:
        yield con


def record(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    actions: list[Action],
    recorded_by: str,
    rows: list[str] | None = None,
) -> tuple[list[str], list[str]]:
    """Check and save actions (all or none); returns (action ids, warnings).

    Raises:
        ActionError: listing every problem, when any action is invalid (nothing is saved).
    """
    resolved, errors, warnings = check(settings, con, actions, rows)
    if errors:
        raise ActionError(errors)
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        [{"action_id": a.action_id, **asdict(a), "recorded_by": recorded_by, "recorded_at": now} for a in resolved],
        columns=[
            "action_id",
            "theme_id",
            "start_date",
            "description",
            "site",
            "service",
            "end_date",
            "owner",
            "status",
            "recorded_by",
            "recorded_at",
        ],
    )
    with warehouse.registered(con, incoming_actions=frame):
        warehouse.run_sql(con, settings, "queries/insights/upsert")
    return list(frame["action_id"]), warnings


def read_file(path: Path) -> tuple[list[Action], list[str]]:
    """Actions from an XLSX or CSV sheet (one action per row; headers as in docs/reports.md).

    Columns (case and spaces ignored): theme (id or label), start (date), description, and
    optionally site, service, end, owner, status.

    Returns:
        (actions, row labels such as 'actions.xlsx row 3' for messages).

    Raises:
        ActionError: with every row that cannot be read.
    """
    if not path.is_file():
        raise ActionError([f"{path}: no such file"])
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        frame = pd.read_excel(path, dtype=object)
    elif suffix in {".csv", ".txt"}:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        raise ActionError([f"{path}: use an .xlsx or .csv file, not {suffix or 'a file without extension'}"])
    rename = {}
    for column in frame.columns:
        key = re.sub(r"[^a-z0-9]+", "_", str(column).strip().lower()).strip("_")
        if key in _COLUMN_ALIASES:
            rename[column] = _COLUMN_ALIASES[key]
    frame = frame.rename(columns=rename)
    missing = [c for c in ("theme_id", "start_date", "description") if c not in frame.columns]
    if missing:
        raise ActionError(
            [f"{path.name}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}"]
        )
    actions, labels, errors = [], [], []
    for number, row in enumerate(frame.to_dict(orient="records"), start=2):
        label = f"{path.name} row {number}"

        def text(key: str, row: dict = row) -> str | None:
            value = row.get(key)
            if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
                return None
            value = str(value).strip()
            return value or None

        if not any(text(k) for k in ("theme_id", "start_date", "description")):
            continue  # blank line
        try:
            start = parse_date(row["start_date"]) if text("start_date") else None
            end = parse_date(row["end_date"]) if text("end_date") else None
        except ValueError as exc:
            errors.append(f"{label}: {exc}")
            continue
        if not text("theme_id") or start is None:
            errors.append(f"{label}: theme and start date are required")
            continue
        actions.append(
            Action(
                theme_id=text("theme_id") or "",
                start_date=start,
                description=text("description") or "",
                site=text("site"),
                service=text("service"),
                end_date=end,
                owner=text("owner"),
                status=(text("status") or "in progress").lower(),
            )
        )
        labels.append(label)
    if errors:
        raise ActionError(errors)
    return actions, labels


def list_actions(settings: Settings, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every recorded action with its verdict (when the models have been built since)."""
    return warehouse.run_sql(con, settings, "queries/insights/list").df()


def remove(settings: Settings, con: duckdb.DuckDBPyConnection, action_id: str) -> bool:
    """Delete one action; True when it existed."""
    deleted = warehouse.run_sql(con, settings, "queries/insights/delete", {"action_id": action_id}).fetchone()
    return bool(deleted and deleted[0])
