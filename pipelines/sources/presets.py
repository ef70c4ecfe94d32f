"""Presets: how a source's columns map onto the canonical record.

A preset names the source columns for each canonical field; a source YAML's ``mapping``
overrides any of them (e.g. ``mapping: {received_at: "Date Completed"}``) and ``questions``
maps free-text columns to the question they answer. Values that cannot be parsed become null
here and are caught by the Great Expectations suite, so the row is quarantined with a reason
instead of being dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.sources.base import SourceConfig, SourceError

# NHS Friends and Family Test: 6 answers, "Don't know" excluded from scores (rating null).
FFT_SCALE: dict[str, float | None] = {
    "very good": 1.0,
    "good": 0.75,
    "neither good nor poor": 0.5,
    "poor": 0.25,
    "very poor": 0.0,
    "don't know": None,
}
# FFT exports sometimes carry the answer code instead (1 = Very good ... 6 = Don't know).
FFT_CODES = {"1": "very good", "2": "good", "3": "neither good nor poor", "4": "poor", "5": "very poor", "6": "don't know"}
HCAHPS_SCALE: dict[str, float | None] = {"never": 0.0, "sometimes": 1 / 3, "usually": 2 / 3, "always": 1.0}


@dataclass(frozen=True)
class Preset:
    """Default column names of one export layout."""

    channel: str
    columns: dict[str, str]
    questions: dict[str, str] = field(default_factory=dict)
    rating_scale: str | None = None


PRESETS: dict[str, Preset] = {
    "fft": Preset(
        channel="survey",
        rating_scale="fft5",
        columns={
            "response_id": "response_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "rating": "fft_rating",
            "age_band": "age_band",
        },
        questions={
            "what_was_good": "What was good about your experience?",
            "what_could_improve": "Is there anything we could improve?",
        },
    ),
    "nps": Preset(
        channel="survey",
        rating_scale="nps11",
        columns={
            "response_id": "response_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "rating": "nps_score",
        },
        questions={"reason": "Why did you give this score?"},
    ),
    "suggestion_box": Preset(
        channel="suggestion",
        columns={
            "response_id": "entry_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "text": "text",
        },
    ),
    "complaints": Preset(
        channel="complaint",
        columns={
            "response_id": "complaint_ref",
            "received_at": "received_date",
            "site": "site",
            "service": "service",
            "text": "description",
            "complaint_category": "category",
            "complaint_severity": "severity",
            "complaint_status": "status",
            "acknowledged_at": "acknowledged_date",
            "closed_at": "closed_date",
            "contact_count": "contact_count",
            "handling_minutes": "handling_minutes",
        },
    ),
}


def resolve(config: SourceConfig) -> tuple[Preset, dict[str, str], dict[str, str]]:
    """The preset of ``config`` with its mapping overrides applied."""
    if config.preset not in PRESETS:
        raise SourceError(f"source {config.name}: unknown preset {config.preset!r}; known: {sorted(PRESETS)}")
    preset = PRESETS[config.preset]
    columns = dict(preset.columns)
    questions = dict(preset.questions)
    for key, value in config.mapping.items():
        if key == "questions":
            questions = dict(value)
        else:
            columns[key] = value
    return preset, columns, questions


def local_to_utc(values: pd.Series, timezone: str, dayfirst: bool) -> pd.Series:
    """Parse local date/time strings of a source and convert them to UTC (bad ones -> NaT)."""
    text = values.astype("string").str.strip()
    # ISO 8601 first (never day-first), then the source's local convention (01/03/2026).
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    local = pd.to_datetime(text.where(iso.isna()), errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    parsed = iso.fillna(local)
    naive_local = parsed.where(~has_offset).dt.tz_localize(None)
    aware = parsed.where(has_offset)
    parsed = _localize(naive_local, timezone).fillna(aware)
    return parsed.dt.tz_convert("UTC")


def _localize(parsed: pd.Series, timezone: str) -> pd.Series:
    if getattr(parsed.dt, "tz", None) is None:
        # Ambiguous wall times in the autumn fold are read as standard time, not dropped.
        parsed = parsed.dt.tz_localize(timezone, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC")


def _col(df: pd.DataFrame, columns: dict[str, str], key: str) -> pd.Series:
    name = columns.get(key)
    if name and name in df.columns:
        return df[name].astype("string").str.strip().replace("", pd.NA)
    return pd.Series(pd.NA, index=df.index, dtype="string")


def map_rows(config: SourceConfig, df: pd.DataFrame) -> pd.DataFrame:
    """Map a frame of source rows (strings) to canonical records.

    Returns canonical columns (without ids) plus ``_row_number`` and ``_raw``; survey rows
    are melted to one record per non-empty free-text answer.
    """
    preset, columns, questions = resolve(config)
    required = [c for k, c in columns.items() if k in {"response_id", "received_at"}]
    missing = [c for c in required if c not in df.columns]
    if missing and len(df):
        raise SourceError(
            f"source {config.name}: file has no column(s) {missing}; found {list(df.columns[:-2])}. "
            "Fix the export or set `mapping:` in the source YAML."
        )
    base = pd.DataFrame(index=df.index)
    base["channel"] = preset.channel
    base["source"] = config.name
    base["response_id"] = _col(df, columns, "response_id")
    base["received_at"] = local_to_utc(_col(df, columns, "received_at"), config.timezone, config.dayfirst)
    base["source_timezone"] = config.timezone
    base["site"] = _col(df, columns, "site")
    base["service"] = _col(df, columns, "service")
    base["age_band"] = _col(df, columns, "age_band")
    base["_row_number"] = df["_row_number"]
    base["_raw"] = df["_raw"]
    if preset.rating_scale:
        _map_rating(base, _col(df, columns, "rating"), preset.rating_scale)
    if preset.channel == "complaint":
        for key in ("complaint_category", "complaint_severity", "complaint_status"):
            base[key] = _col(df, columns, key).str.lower() if key != "complaint_category" else _col(df, columns, key)
        base["opened_at"] = base["received_at"]
        for key in ("acknowledged_at", "closed_at"):
            base[key] = local_to_utc(_col(df, columns, key), config.timezone, config.dayfirst)
        for key in ("contact_count", "handling_minutes"):
            base[key] = pd.to_numeric(_col(df, columns, key), errors="coerce").astype("Int64")
    if questions:
        return _melt_questions(base, df, questions)
    base["source_record_id"] = base["response_id"]
    base["text"] = _col(df, columns, "text")
    base["question"] = config.options.get("question")
    return base


def _map_rating(base: pd.DataFrame, raw: pd.Series, scale: str) -> None:
    base["rating_scale"] = scale
    base["rating_raw"] = raw
    if scale == "fft5":
        key = raw.str.lower().str.replace("’", "'", regex=False).replace(FFT_CODES)
        base["rating_value"] = key.map(lambda v: FFT_SCALE.get(v) if isinstance(v, str) else None).astype("Float64")
        base["_rating_valid"] = key.isin(list(FFT_SCALE)) | raw.isna()
    elif scale == "nps11":
        score = pd.to_numeric(raw, errors="coerce")
        valid = score.between(0, 10) & (score == score.round())
        base["nps"] = score.where(valid).astype("Int64")
        base["rating_value"] = (score.where(valid) / 10).astype("Float64")
        base["_rating_valid"] = valid | raw.isna()


def _melt_questions(base: pd.DataFrame, df: pd.DataFrame, questions: dict[str, str]) -> pd.DataFrame:
    parts = []
    answered = pd.Series(False, index=df.index)
    for key, question in questions.items():
        text = df[key].astype("string").str.strip() if key in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
        has_text = text.notna() & (text.str.len() > 0)
        answered |= has_text
        part = base[has_text].copy()
        part["question_key"] = key
        part["question"] = question
        part["text"] = text[has_text]
        part["source_record_id"] = part["response_id"].fillna("?") + "#" + key
        parts.append(part)
    # A rating with no free text still counts towards the KPIs.
    empty = base[~answered].copy()
    empty["question_key"] = None
    empty["question"] = None
    empty["text"] = None
    empty["source_record_id"] = empty["response_id"].fillna("?") + "#rating"
    parts.append(empty)
    out = pd.concat(parts)
    return out.sort_values(["_row_number", "source_record_id"], kind="stable")
