"""The canonical feedback record: the one shape all three streams map into.

Every source adapter (survey CSV/Excel/FHIR, suggestion box, complaints CSV/SQL) returns a
DataFrame with exactly :data:`COLUMNS`. ``sql/schema/010_raw.sql`` declares the same columns
for ``raw.feedback``; ``tests/unit/test_schema.py`` keeps the two in step.

One survey response with several free-text answers becomes one record per answer, each with
its own ``question``; the shared rating is repeated and ``response_id`` ties them together so
KPIs count responses, not records. A response with a rating but no free text still yields one
record (``question`` and ``text`` null) so that it counts towards satisfaction KPIs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

CHANNELS = ("survey", "suggestion", "complaint")


@dataclass(frozen=True)
class Column:
    """One canonical column: name, pandas dtype and meaning."""

    name: str
    dtype: str
    doc: str


COLUMN_SPECS: tuple[Column, ...] = (
    Column("feedback_id", "string", "sha1(source|source_record_id)[:20]; stable across re-ingests"),
    Column("channel", "string", "survey | suggestion | complaint"),
    Column("source", "string", "configured source name (the YAML file stem)"),
    Column("source_record_id", "string", "id in the source; '<response>#<question key>' for surveys"),
    Column("response_id", "string", "parent survey response / complaint reference / entry id"),
    Column("received_at", "datetime64[us, UTC]", "when the feedback was given, stored in UTC"),
    Column("source_timezone", "string", "IANA zone the source's local times were in"),
    Column("site", "string", "hospital / clinic site (null when unknown, e.g. anonymous cards)"),
    Column("service", "string", "service or department"),
    Column("question_key", "string", "stable key of the question within its survey"),
    Column("question", "string", "question text the free text answers (null for cards/complaints)"),
    Column("text", "string", "raw free text (PHI!) - lives only in raw/staging layers"),
    Column("rating_scale", "string", "fft5 | nps11 | hcahps4 | rating0_10 | likert5 | null"),
    Column("rating_raw", "string", "rating as the source gave it ('Very good', '9', 'Usually')"),
    Column("rating_value", "float64", "rating normalised to 0..1 (1 = best); null for Don't know"),
    Column("nps", "Int64", "0..10 likelihood-to-recommend where the source has one"),
    Column("complaint_category", "string", "complaint category from the complaints system"),
    Column("complaint_severity", "string", "low | moderate | high | extreme"),
    Column("complaint_status", "string", "open | acknowledged | closed | reopened"),
    Column("opened_at", "datetime64[us, UTC]", "complaint received/opened"),
    Column("acknowledged_at", "datetime64[us, UTC]", "complaint acknowledged"),
    Column("closed_at", "datetime64[us, UTC]", "complaint closed/resolved"),
    Column("contact_count", "Int64", "number of contacts needed (first-contact resolution = 1)"),
    Column("handling_minutes", "Int64", "staff handling time in minutes where recorded"),
    Column("age_band", "string", "respondent age band where the source collects it"),
    Column("record_hash", "string", "sha1 of the mapped content; changes when the source row changes"),
    Column("batch_id", "string", "ingest batch that last wrote this record"),
    Column("ingested_at", "datetime64[us, UTC]", "when that batch ran (UTC)"),
    Column("file_checksum", "string", "sha256 of the source file/extract the row came from"),
)

COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMN_SPECS)
DTYPES: dict[str, str] = {c.name: c.dtype for c in COLUMN_SPECS}
CONTENT_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in {"feedback_id", "record_hash", "batch_id", "ingested_at", "file_checksum"}
)


def feedback_id(source: str, source_record_id: str) -> str:
    """Stable id of a record: the same source row always maps to the same id."""
    return hashlib.sha1(f"{source}|{source_record_id}".encode()).hexdigest()[:20]


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the canonical columns, in order and with canonical dtypes.

    Missing columns are added as nulls; ``feedback_id`` and ``record_hash`` are derived.

    Raises:
        ValueError: if ``source`` or ``source_record_id`` is missing, or a channel is unknown.
    """
    out = df.copy()
    for col in ("source", "source_record_id", "channel"):
        if col not in out.columns or out[col].isna().any():
            raise ValueError(f"canonical records need a non-null '{col}' column")
    bad = set(out["channel"].unique()) - set(CHANNELS)
    if bad:
        raise ValueError(f"unknown channel(s) {sorted(bad)}; expected one of {CHANNELS}")
    for col in COLUMNS:
        if col not in out.columns:
            out[col] = None
    out = out[list(COLUMNS)]
    for col, dtype in DTYPES.items():
        if dtype.startswith("datetime64"):
            out[col] = pd.to_datetime(out[col], utc=True).astype(dtype)
        elif dtype == "Int64":
            out[col] = pd.to_numeric(out[col]).astype("Int64")
        else:
            out[col] = out[col].astype(dtype)
    out["feedback_id"] = [feedback_id(s, r) for s, r in zip(out["source"], out["source_record_id"], strict=True)]
    out["record_hash"] = _row_hashes(out)
    return out


def _row_hashes(df: pd.DataFrame) -> list[str]:
    content = df[list(CONTENT_COLUMNS)].astype("string").fillna("\x00").to_numpy(dtype=object)
    return [hashlib.sha1("\x1f".join(row).encode()).hexdigest() for row in content]
