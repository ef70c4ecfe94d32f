"""Great Expectations validation of ingested rows, and the quarantine split.

One suite per stream (``feedback_survey``, ``feedback_suggestion``, ``feedback_complaint``) is
defined here as reviewable Python and synced into the GX file context under
``great_expectations/gx`` (suites, validation definitions, one checkpoint per stream; Data Docs
under ``gx/uncommitted/data_docs``). Each batch of mapped records is validated as a pandas
DataFrame (validating DuckDB through SQLAlchemy is broken in GX 1.x); every failing row index
is mapped back to the expectation it failed (through the expectation's ``meta.check``), so
quarantined rows carry a precise check name and a human reason.

Checks a value cannot express alone are made from helper columns the mappers and
:func:`prepare` add (age in days, the normalised rating key, the raw text of a value that did
not parse, ...). ``great_expectations`` is imported lazily: it costs seconds to import and must
never load at DAG parse time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.heavy import gc_paused
from pipelines.sources.scales import COMPLAINT_SEVERITIES, COMPLAINT_STATUSES, FFT_SCALE, SCALES

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
MAX_AGE_YEARS = 20
MAX_AGE_DAYS = round(365.25 * MAX_AGE_YEARS)
FUTURE_TOLERANCE_DAYS = 1
# Row indices of failures, never the failing *values*: those are patient text (PHI) and would
# otherwise be written to uncommitted/validations and shown in Data Docs.
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "partial_unexpected_count": 0,
    "return_unexpected_index_query": False,
}
# The Data Docs index loads this many most recent validation results (GX loads every one by default).
DOCS_RESULTS_LIMIT = 100
STREAMS = ("survey", "suggestion", "complaint")
# Rating scales a survey record's headline rating may use.
HEADLINE_SCALES = ("fft5", "nps11", "rating0_10", "likert5", "hcahps4", "recommend4")


@dataclass(frozen=True)
class Check:
    """One expectation with the human reason stored on quarantined rows."""

    expectation: str
    kwargs: dict[str, Any]
    reason: str
    tag: str = ""

    @property
    def name(self) -> str:
        """Stable check id stored in ``raw.quarantine.failed_check``."""
        cols = self.kwargs.get("column") or f"{self.kwargs.get('column_A')},{self.kwargs.get('column_B')}"
        return f"{_snake(self.expectation)}({cols})" + (f"[{self.tag}]" if self.tag else "")


def _common() -> list[Check]:
    return [
        Check("ExpectColumnValuesToNotBeNull", {"column": "response_id"}, "missing record id"),
        Check("ExpectColumnValuesToBeOfType", {"column": "response_id", "type_": "str"}, "record id is not text"),
        Check("ExpectColumnValuesToNotBeNull", {"column": "received_at"}, "missing or unparseable date"),
        Check(
            "ExpectColumnValuesToBeOfType", {"column": "received_at", "type_": "Timestamp"}, "date is not a timestamp"
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "_age_days", "min_value": -FUTURE_TOLERANCE_DAYS},
            "date in the future",
            "future",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "_age_days", "max_value": MAX_AGE_DAYS},
            f"date more than {MAX_AGE_YEARS} years ago",
            "too_old",
        ),
        Check("ExpectColumnValuesToBeOfType", {"column": "text", "type_": "str"}, "text is not text"),
        Check(
            "ExpectColumnValueLengthsToBeBetween",
            {"column": "text", "min_value": 1, "max_value": MAX_TEXT_CHARS},
            f"text longer than {MAX_TEXT_CHARS:,} characters",
        ),
        Check("ExpectColumnValuesToBeUnique", {"column": "_row_id"}, "duplicate record id with different content"),
    ]


def scale_answers() -> list[str]:
    """Every allowed ``<scale>:<answer>`` pair: the allowed values of each rating scale, in one set."""
    return [f"{name}:{key}" for name in HEADLINE_SCALES for key in SCALES[name].keys]


def _scale_checks() -> list[Check]:
    return [
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "rating_scale", "value_set": list(HEADLINE_SCALES)},
            "unknown rating scale",
        ),
        # One expectation carries the allowed answers of every scale ("fft5:very good", "nps11:7",
        # ...): cheaper than one row-conditioned expectation per scale, and as reviewable.
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "_scale_answer", "value_set": scale_answers()},
            "rating not on its scale",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "rating_value", "min_value": 0, "max_value": 1},
            "normalised rating outside 0..1",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "nps", "min_value": 0, "max_value": 10},
            "NPS score outside 0..10",
        ),
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "_items_valid", "value_set": [True]},
            "a survey item's answer is not on its scale",
        ),
    ]


def suite_checks(stream: str) -> list[Check]:
    """The checks of one stream's suite."""
    checks = _common()
    if stream == "survey":
        checks += [
            Check("ExpectColumnValuesToNotBeNull", {"column": "site"}, "missing site"),
            *_scale_checks(),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "_has_content", "value_set": [True]},
                "empty response: no rating and no free text",
            ),
        ]
    elif stream == "suggestion":
        checks += [Check("ExpectColumnValuesToNotBeNull", {"column": "text"}, "empty suggestion text")]
    elif stream == "complaint":
        checks += [
            Check("ExpectColumnValuesToNotBeNull", {"column": "site"}, "missing site"),
            Check("ExpectColumnValuesToNotBeNull", {"column": "text"}, "empty complaint description"),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "complaint_status", "value_set": list(COMPLAINT_STATUSES)},
                f"complaint status not one of {list(COMPLAINT_STATUSES)}",
            ),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "complaint_severity", "value_set": list(COMPLAINT_SEVERITIES)},
                f"complaint severity not one of {list(COMPLAINT_SEVERITIES)}",
            ),
            Check("ExpectColumnValuesToBeNull", {"column": "_bad_acknowledged_at"}, "unparseable acknowledged date"),
            Check("ExpectColumnValuesToBeNull", {"column": "_bad_closed_at"}, "unparseable closed date"),
            Check(
                "ExpectColumnValuesToBeNull", {"column": "_bad_contact_count"}, "contact count is not a whole number"
            ),
            Check(
                "ExpectColumnValuesToBeNull",
                {"column": "_bad_handling_minutes"},
                "handling minutes is not a whole number",
            ),
            Check(
                "ExpectColumnValuesToBeBetween",
                {"column": "contact_count", "min_value": 0, "max_value": 1000},
                "contact count outside 0..1000",
            ),
            Check(
                "ExpectColumnValuesToBeBetween",
                {"column": "handling_minutes", "min_value": 0, "max_value": 60 * 24 * 365},
                "handling minutes outside 0..1 year",
            ),
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "acknowledged_at",
                    "column_B": "opened_at",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                "acknowledged before it was received",
            ),
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "closed_at",
                    "column_B": "opened_at",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                "closed before it was received",
            ),
        ]
    else:
        raise ValueError(f"unknown stream {stream!r}")
    return checks


@dataclass
class Outcome:
    """Result of validating one batch."""

    success: bool
    failures: dict[Any, list[tuple[str, str]]] = field(default_factory=dict)  # index -> [(check, reason)]
    docs_url: str | None = None
    evaluated: int = 0
    seconds: float = 0.0
    result_ids: list[Any] = field(default_factory=list)  # GX ValidationResultIdentifiers, for Data Docs


_HELPERS: dict[str, Any] = {
    "site": pd.NA,
    "text": pd.NA,
    "rating_scale": pd.NA,
    "_rating_key": pd.NA,
    "complaint_status": pd.NA,
    "complaint_severity": pd.NA,
    "_bad_acknowledged_at": pd.NA,
    "_bad_closed_at": pd.NA,
    "_bad_contact_count": pd.NA,
    "_bad_handling_minutes": pd.NA,
}


def prepare(df: pd.DataFrame, now: datetime | None = None) -> pd.DataFrame:
    """Add the derived columns the suites check (age in days, per-row id, defaults)."""
    now = now or datetime.now(UTC)
    out = df.copy()
    out["_age_days"] = (pd.Timestamp(now) - out["received_at"]).dt.total_seconds() / 86400
    for col, default in _HELPERS.items():
        if col not in out:
            out[col] = pd.Series(default, index=out.index, dtype="string")
    for col in ("rating_value",):
        if col not in out:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="Float64")
    for col in ("nps", "contact_count", "handling_minutes"):
        if col not in out:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for col in ("opened_at", "acknowledged_at", "closed_at"):
        if col not in out:
            out[col] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
    for col in ("_items_valid", "_has_content"):
        out[col] = out[col].fillna(False).astype(bool) if col in out else True
    out["_scale_answer"] = out["rating_scale"].astype("string") + ":" + out["_rating_key"].astype("string")
    # Uniqueness is per source row: the several answers of one survey response share its id.
    first = ~out["_pos"].duplicated() if "_pos" in out else pd.Series(True, index=out.index)
    out["_row_id"] = out["response_id"].astype("string").where(first)
    return out


# One file context per folder per process: creating it costs seconds.
_CONTEXTS: dict[str, Any] = {}
_CHECKPOINTS: dict[tuple[str, str], Any] = {}


def _context(gx_dir: Path):  # noqa: ANN202 - GX type is imported lazily
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with gc_paused():  # a heavy import: see pipelines.heavy
        import great_expectations as gx

    key = str(Path(gx_dir).resolve())
    if key not in _CONTEXTS:
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        context = gx.get_context(mode="file", project_root_dir=key)
        _configure(context)
        _CONTEXTS[key] = context
    return gx, _CONTEXTS[key]


def _configure(context: Any) -> None:
    """No progress bars in logs; a bounded Data Docs index (saved to great_expectations.yml once)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    changed = False
    bars = context.variables.progress_bars
    if not bars or getattr(bars, "globally", True):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        changed = True
    sites = context.variables.data_docs_sites or {}
    index = sites.get("local_site", {}).setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
    if index.get("validation_results_limit") != DOCS_RESULTS_LIMIT:
        index["validation_results_limit"] = DOCS_RESULTS_LIMIT
        sites["local_site"]["show_how_to_buttons"] = False
        context.variables.data_docs_sites = sites
        changed = True
    if changed:
        context.variables.save()


def _forget(gx_dir: Path) -> None:
    key = str(Path(gx_dir).resolve())
    _CONTEXTS.pop(key, None)
    for cached in [k for k in _CHECKPOINTS if k[0] == key]:
        _CHECKPOINTS.pop(cached)


def sync_suites(gx_dir: Path) -> list[str]:
    """Write all suites, validation definitions and checkpoints into the GX context."""
    gx, context = _context(gx_dir)
    return [_checkpoint(gx, context, gx_dir, stream).name for stream in STREAMS]


def _norm(value: Any) -> Any:
    """Numbers as floats, containers recursively (GX stores 7305 as 7305.0)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_norm(v) for v in value]
    return value


def _suite_spec(checks: list[Check]) -> list[tuple]:
    return sorted((_snake(c.expectation), repr(_norm(c.kwargs)), c.name) for c in checks)


def _existing_spec(suite: Any) -> list[tuple]:
    out = []
    for expectation in suite.expectations:
        config = expectation.configuration
        kwargs = {k: v for k, v in config.kwargs.items() if k not in {"batch_id"}}
        out.append((config.type, repr(_norm(kwargs)), (config.meta or {}).get("check")))
    return sorted(out)


def _checkpoint(gx: Any, context: Any, gx_dir: Path, stream: str) -> Any:
    """The stream's checkpoint, (re)writing suite and definitions only when the checks changed.

    Unchanged suites are reused as stored, so running ingestion does not churn the committed
    files under ``great_expectations/gx``.
    """
    key = (str(Path(gx_dir).resolve()), stream)
    if key in _CHECKPOINTS:
        return _CHECKPOINTS[key]
    checks = suite_checks(stream)
    name = f"feedback_{stream}"
    try:
        checkpoint = context.checkpoints.get(name)
        suite = context.suites.get(name)
        same = _existing_spec(suite) == _suite_spec(checks)
        if same and checkpoint.result_format == RESULT_FORMAT and not checkpoint.actions:
            _CHECKPOINTS[key] = checkpoint
            return checkpoint
    except Exception:  # noqa: BLE001 - missing or unreadable: rebuild below
        log.info("GX checkpoint %s missing or outdated: writing it", name)
    try:
        source = context.data_sources.get("feedback")
    except (KeyError, ValueError, LookupError):
        source = context.data_sources.add_pandas("feedback")
    try:
        asset = source.get_asset(stream)
    except LookupError:
        asset = source.add_dataframe_asset(stream)
    try:
        batch = asset.get_batch_definition("batch")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("batch")
    suite = gx.ExpectationSuite(
        name=name,
        meta={
            "notes": f"Defined in pipelines/ingest/quality.py (suite_checks('{stream}')); edits here are overwritten."
        },
    )
    for check in checks:
        meta = {"check": check.name, "reason": check.reason}
        suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs, meta=meta))
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=name)
    )
    # Data Docs are built once per ingest run (build_data_docs), not after every batch.
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(name=name, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT)
    )
    _CHECKPOINTS[key] = checkpoint
    return checkpoint


def validate(df: pd.DataFrame, stream: str, gx_dir: Path, now: datetime | None = None) -> Outcome:
    """Run the stream's checkpoint on ``df``; map failing row indices to their reasons.

    For duplicate ids only the second and later occurrences fail (the first is kept). An
    expectation that fails without row indices (a column of the wrong type) fails every row.
    """
    if df.empty:
        return Outcome(success=True)
    started = datetime.now(UTC)
    reasons = {c.name: c.reason for c in suite_checks(stream)}
    prepared = prepare(df, now)
    gx, context = _context(gx_dir)
    checkpoint = _checkpoint(gx, context, gx_dir, stream)
    try:
        result = checkpoint.run(batch_parameters={"dataframe": prepared})
    except gx.exceptions.GreatExpectationsError as exc:
        # Another process rewrote the context (e.g. a newer suite): reload it once and retry.
        log.warning("GX context changed on disk (%s); reloading", type(exc).__name__)
        _forget(gx_dir)
        gx, context = _context(gx_dir)
        checkpoint = _checkpoint(gx, context, gx_dir, stream)
        result = checkpoint.run(batch_parameters={"dataframe": prepared})
    outcome = Outcome(success=bool(result.success), evaluated=len(df))
    outcome.result_ids = list(result.run_results)
    for run in result.run_results.values():
        for item in run.results:
            if item.success:
                continue
            config = item.expectation_config
            name = (config.meta or {}).get("check") or config.type
            reason = reasons.get(name, f"failed {config.type}")
            if item.exception_info and item.exception_info.get("raised_exception"):
                reason = f"{reason} (check raised: {item.exception_info.get('exception_message')})"
            indices = item.result.get("unexpected_index_list")
            if indices is None:
                indices = list(prepared.index)
            if config.type == "expect_column_values_to_be_unique":
                column = config.kwargs["column"]
                keep = prepared.loc[indices, column].duplicated(keep="first")
                indices = list(keep[keep].index)
            for index in indices:
                outcome.failures.setdefault(index, []).append((name, reason))
    outcome.docs_url = data_docs_url(gx_dir)
    outcome.seconds = (datetime.now(UTC) - started).total_seconds()
    return outcome


def data_docs_url(gx_dir: Path) -> str:
    """Where the Data Docs site of the GX context is (``file://.../index.html``)."""
    return (Path(gx_dir).resolve() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").as_uri()


def build_data_docs(gx_dir: Path, result_ids: list[Any] | None = None) -> str:
    """Render the given validation results (all when ``None``) and the index; returns its URL."""
    _, context = _context(gx_dir)
    if result_ids is None:
        context.build_data_docs()
    elif result_ids:
        context.build_data_docs(resource_identifiers=result_ids)
    return data_docs_url(gx_dir)


def _snake(name: str) -> str:
    out = [name[0].lower()]
    for ch in name[1:]:
        out.append(f"_{ch.lower()}" if ch.isupper() else ch)
    return "".join(out)


__all__ = [
    "FFT_SCALE",
    "Check",
    "Outcome",
    "build_data_docs",
    "data_docs_url",
    "prepare",
    "suite_checks",
    "sync_suites",
    "validate",
]
