"""Great Expectations validation of ingested rows, and the quarantine split.

Suites are defined here (reviewable Python) and synced into the GX file context under
``great_expectations/gx`` (suites, validation definitions, one checkpoint per stream, Data
Docs under ``uncommitted/``). Each batch of mapped rows is validated as a pandas DataFrame
(validating DuckDB through SQLAlchemy is broken in GX 1.x); every failing row index is mapped
back to the expectation it failed, so quarantine rows carry a precise reason.

``great_expectations`` is imported lazily: it costs seconds and must never load at DAG parse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.sources.presets import FFT_SCALE

MAX_TEXT_CHARS = 20_000
MAX_AGE_DAYS = 365 * 30
COMPLAINT_STATUSES = ["open", "acknowledged", "closed", "reopened"]
COMPLAINT_SEVERITIES = ["low", "moderate", "high", "extreme"]


@dataclass(frozen=True)
class Check:
    """One expectation with the human reason stored on quarantined rows."""

    expectation: str
    kwargs: dict[str, Any]
    reason: str


def _common() -> list[Check]:
    return [
        Check("ExpectColumnValuesToNotBeNull", {"column": "response_id"}, "missing record id"),
        Check("ExpectColumnValuesToNotBeNull", {"column": "received_at"}, "missing or unparseable date"),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "_age_days", "min_value": -1, "max_value": MAX_AGE_DAYS},
            "date in the future or more than 30 years old",
        ),
        Check(
            "ExpectColumnValuesToBeBetween",
            {"column": "_text_chars", "min_value": 0, "max_value": MAX_TEXT_CHARS},
            f"text longer than {MAX_TEXT_CHARS:,} characters",
        ),
        Check("ExpectColumnValuesToBeUnique", {"column": "source_record_id"}, "duplicate record id within the file"),
    ]


def suite_checks(stream: str) -> list[Check]:
    """The checks of one stream's suite."""
    checks = _common()
    if stream == "survey":
        checks += [
            Check("ExpectColumnValuesToNotBeNull", {"column": "site"}, "missing site"),
            Check("ExpectColumnValuesToBeInSet", {"column": "_rating_valid", "value_set": [True]}, "rating not on its scale"),
        ]
    elif stream == "suggestion":
        checks += [Check("ExpectColumnValuesToNotBeNull", {"column": "text"}, "empty suggestion text")]
    elif stream == "complaint":
        checks += [
            Check("ExpectColumnValuesToNotBeNull", {"column": "site"}, "missing site"),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "complaint_status", "value_set": COMPLAINT_STATUSES},
                f"complaint status not one of {COMPLAINT_STATUSES}",
            ),
            Check(
                "ExpectColumnValuesToBeInSet",
                {"column": "complaint_severity", "value_set": COMPLAINT_SEVERITIES},
                f"complaint severity not one of {COMPLAINT_SEVERITIES}",
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


def prepare(df: pd.DataFrame, now: datetime | None = None) -> pd.DataFrame:
    """Add the derived columns the suites check (age in days, text length, rating validity)."""
    now = now or datetime.now(UTC)
    out = df.copy()
    out["_age_days"] = (pd.Timestamp(now) - out["received_at"]).dt.total_seconds() / 86400
    out["_text_chars"] = out["text"].astype("string").str.len().fillna(0).astype("int64") if "text" in out else 0
    if "_rating_valid" not in out:
        out["_rating_valid"] = True
    out["_rating_valid"] = out["_rating_valid"].fillna(False).astype(bool)
    for col in ("site", "complaint_status", "complaint_severity", "text"):
        if col not in out:
            out[col] = pd.NA
    return out


def _context(gx_dir: Path):  # noqa: ANN202 - GX type is imported lazily
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx, gx.get_context(mode="file", project_root_dir=str(gx_dir))


def sync_suites(gx_dir: Path) -> None:
    """Write all suites, validation definitions and checkpoints into the GX context."""
    gx, context = _context(gx_dir)
    for stream in ("survey", "suggestion", "complaint"):
        _checkpoint(gx, context, stream)


def _checkpoint(gx: Any, context: Any, stream: str) -> Any:
    source = context.data_sources.add_or_update_pandas("feedback")
    try:
        asset = source.get_asset(stream)
    except LookupError:
        asset = source.add_dataframe_asset(stream)
    try:
        batch = asset.get_batch_definition("batch")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("batch")
    suite = gx.ExpectationSuite(name=f"feedback_{stream}")
    for check in suite_checks(stream):
        suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs))
    suite = context.suites.add_or_update(suite)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch, suite=suite, name=f"feedback_{stream}")
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"feedback_{stream}",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
            result_format={"result_format": "COMPLETE"},
        )
    )


def validate(df: pd.DataFrame, stream: str, gx_dir: Path) -> Outcome:
    """Run the stream's checkpoint on ``df``; map failing row indices to their reasons.

    For duplicate ids only the second and later occurrences fail (the first is kept).
    """
    if df.empty:
        return Outcome(success=True)
    checks = {(c.expectation, c.kwargs["column"]): c for c in suite_checks(stream)}
    prepared = prepare(df)
    gx, context = _context(gx_dir)
    checkpoint = _checkpoint(gx, context, stream)
    result = checkpoint.run(batch_parameters={"dataframe": prepared})
    outcome = Outcome(success=bool(result.success), evaluated=len(df))
    for run in result.run_results.values():
        for item in run.results:
            if item.success:
                continue
            config = item.expectation_config
            column = config.kwargs.get("column")
            check = next(c for (name, col), c in checks.items() if col == column and _snake(name) == config.type)
            indices = list(item.result.get("unexpected_index_list") or [])
            if check.expectation == "ExpectColumnValuesToBeUnique":
                first = ~prepared.loc[indices, column].duplicated(keep="first")
                indices = [i for i, keep in zip(indices, first, strict=True) if not keep]
            for index in indices:
                outcome.failures.setdefault(index, []).append((config.type, check.reason))
    urls = context.get_docs_sites_urls()
    outcome.docs_url = urls[0]["site_url"] if urls else None
    return outcome


def _snake(name: str) -> str:
    out = [name[0].lower()]
    for ch in name[1:]:
        out.append(f"_{ch.lower()}" if ch.isupper() else ch)
    return "".join(out)


__all__ = ["FFT_SCALE", "Outcome", "suite_checks", "sync_suites", "validate"]
