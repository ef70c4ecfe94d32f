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

from pipelines.sources.presets import COMPLAINT_SEVERITIES, COMPLAINT_STATUSES, FFT_SCALE, SCALES

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
MAX_AGE_YEARS = 20
MAX_AGE_DAYS = round(365.25 * MAX_AGE_YEARS)
FUTURE_TOLERANCE_DAYS = 1
RESULT_FORMAT = {"result_format": "COMPLETE", "include_unexpected_rows": False, "partial_unexpected_count": 20}
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
        Check("ExpectColumnValuesToBeOfType", {"column": "received_at", "type_": "Timestamp"},
              "date is not a timestamp"),
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


def _scale_checks() -> list[Check]:
    checks = [
        Check(
            "ExpectColumnValuesToBeInSet",
            {"column": "rating_scale", "value_set": list(HEADLINE_SCALES)},
            "unknown rating scale",
        )
    ]
    for name in HEADLINE_SCALES:
        scale = SCALES[name]
        checks.append(
            Check(
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "_rating_key",
                    "value_set": scale.keys,
                    "row_condition": f'rating_scale=="{name}"',
                    "condition_parser": "pandas",
                },
                f"rating not on the {name} scale ({scale.description})",
                name,
            )
        )
    checks += [
        Check("ExpectColumnValuesToBeBetween", {"column": "rating_value", "min_value": 0, "max_value": 1},
              "normalised rating outside 0..1"),
        Check("ExpectColumnValuesToBeBetween", {"column": "nps", "min_value": 0, "max_value": 10},
              "NPS score outside 0..10"),
        Check("ExpectColumnValuesToBeInSet", {"column": "_items_valid", "value_set": [True]},
              "a survey item's answer is not on its scale"),
    ]
    return checks


def suite_checks(stream: str) -> list[Check]:
    """The checks of one stream's suite."""
    checks = _common()
    if stream == "survey":
        checks += [
            Check("ExpectColumnValuesToNotBeNull", {"column": "site"}, "missing site"),
            *_scale_checks(),
            Check("ExpectColumnValuesToBeInSet", {"column": "_has_content", "value_set": [True]},
                  "empty response: no rating and no free text"),
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
            Check("ExpectColumnValuesToBeNull", {"column": "_bad_contact_count"},
                  "contact count is not a whole number"),
            Check("ExpectColumnValuesToBeNull", {"column": "_bad_handling_minutes"},
                  "handling minutes is not a whole number"),
            Check("ExpectColumnValuesToBeBetween", {"column": "contact_count", "min_value": 0, "max_value": 1000},
                  "contact count outside 0..1000"),
            Check("ExpectColumnValuesToBeBetween", {"column": "handling_minutes", "min_value": 0,
                                                     "max_value": 60 * 24 * 365}, "handling minutes outside 0..1 year"),
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "acknowledged_at", "column_B": "opened_at", "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"},
                "acknowledged before it was received",
            ),
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "closed_at", "column_B": "opened_at", "or_equal": True,
                 "ignore_row_if": "either_value_is_missing"},
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


_HELPERS: dict[str, Any] = {
    "site": pd.NA, "text": pd.NA, "rating_scale": pd.NA, "_rating_key": pd.NA, "complaint_status": pd.NA,
    "complaint_severity": pd.NA, "_bad_acknowledged_at": pd.NA, "_bad_closed_at": pd.NA,
    "_bad_contact_count": pd.NA, "_bad_handling_minutes": pd.NA,
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
    # Uniqueness is per source row: the several answers of one survey response share its id.
    first = ~out["_pos"].duplicated() if "_pos" in out else pd.Series(True, index=out.index)
    out["_row_id"] = out["response_id"].astype("string").where(first)
    return out


# One file context per folder per process: creating it costs seconds.
_CONTEXTS: dict[str, Any] = {}
_CHECKPOINTS: dict[tuple[str, str], Any] = {}


def _context(gx_dir: Path):  # noqa: ANN202 - GX type is imported lazily
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    key = str(Path(gx_dir).resolve())
    if key not in _CONTEXTS:
        for noisy in ("great_expectations",):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _CONTEXTS[key] = gx.get_context(mode="file", project_root_dir=key)
    return gx, _CONTEXTS[key]


def sync_suites(gx_dir: Path) -> list[str]:
    """Write all suites, validation definitions and checkpoints into the GX context."""
    gx, context = _context(gx_dir)
    return [_checkpoint(gx, context, gx_dir, stream).name for stream in STREAMS]


def _checkpoint(gx: Any, context: Any, gx_dir: Path, stream: str) -> Any:
    key = (str(Path(gx_dir).resolve()), stream)
    if key in _CHECKPOINTS:
        return _CHECKPOINTS[key]
    source = context.data_sources.add_or_update_pandas("feedback")
    try:
        asset = source.get_asset(stream)
    except LookupError:
        asset = source.add_dataframe_asset(stream)
    try:
        batch = asset.get_batch_definition("batch")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("batch")
    suite = gx.ExpectationSuite(
        name=f"feedback_{stream}",
        meta={"notes": f"Defined in pipelines/quality.py (suite_checks('{stream}')); edits here are overwritten."},
    )
    for check in suite_checks(stream):
        meta = {"check": check.name, "reason": check.reason}
        suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs, meta=meta))
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"feedback_{stream}")
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"feedback_{stream}",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
            result_format=RESULT_FORMAT,
        )
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
    result = checkpoint.run(batch_parameters={"dataframe": prepared})
    outcome = Outcome(success=bool(result.success), evaluated=len(df))
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
    urls = context.get_docs_sites_urls()
    outcome.docs_url = urls[0]["site_url"] if urls else None
    outcome.seconds = (datetime.now(UTC) - started).total_seconds()
    return outcome


def data_docs_url(gx_dir: Path) -> str | None:
    """Where the Data Docs site of the GX context is (``file://.../index.html``)."""
    _, context = _context(gx_dir)
    urls = context.get_docs_sites_urls()
    return urls[0]["site_url"] if urls else None


def _snake(name: str) -> str:
    out = [name[0].lower()]
    for ch in name[1:]:
        out.append(f"_{ch.lower()}" if ch.isupper() else ch)
    return "".join(out)


__all__ = ["FFT_SCALE", "Check", "Outcome", "data_docs_url", "prepare", "suite_checks", "sync_suites", "validate"]
