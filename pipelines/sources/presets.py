"""Presets and rating scales: how a source's rows map onto the canonical record.

A preset names the source column of each canonical field, the free-text questions and (for
multi-item surveys) the rated items; a source YAML's ``mapping`` overrides any of them::

    mapping:
      received_at: Date Completed        # canonical field -> source column (FHIR: linkId)
      questions:                         # free-text columns -> the question they answer
        good: What was good?
      items:                             # further rated items -> raw.survey_items
        q7: {question: Nurses listened?, scale: hcahps4}
      rating_scale: nps11                # the headline rating's scale

Mapping happens in two steps. A reader-specific *extract* (tabular files and SQL here,
FHIR in :mod:`pipelines.sources.fhir`) turns source rows into canonical field names plus long
frames of free-text answers and rated items; :func:`build_records` then parses dates (local
time -> UTC) and ratings for every format alike. Values that cannot be parsed become null
*and* leave a flag the Great Expectations suite checks, so the row is quarantined with a
reason instead of being loaded wrong or dropped.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.sources.base import SourceConfig, SourceError, SourceRows

# --- rating scales -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """One rating scale: its answers (normalised text -> value in 0..1, 1 = best) or a range."""

    name: str
    description: str
    labels: dict[str, float | None] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    numeric: tuple[int, int] | None = None

    @property
    def keys(self) -> list[str]:
        """Every accepted answer key after normalisation (what the GX suite allows)."""
        if self.numeric:
            return [str(i) for i in range(self.numeric[0], self.numeric[1] + 1)]
        return list(self.labels)

    def parse(self, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Normalise raw answers.

        Returns:
            (key: the answer as one of :attr:`keys`, or the cleaned raw text when it is not on
            the scale; value: 0..1, null for unscored answers such as "Don't know")
        """
        raw = raw.astype("string")
        key = on_uniques(raw, lambda v: self._parse(v)[0])
        if self.numeric:
            lo, hi = self.numeric
            values = {str(i): (i - lo) / (hi - lo) for i in range(lo, hi + 1)}
        else:
            values = self.labels
        return key, key.map(values, na_action="ignore").astype("Float64")

    def _parse(self, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        if self.numeric:
            number = pd.to_numeric(raw, errors="coerce")
            lo, hi = self.numeric
            ok = number.between(lo, hi) & (number == number.round())
            key = number.where(ok).astype("Int64").astype("string").fillna(raw)
            value = (number.where(ok) - lo) / (hi - lo)
            return key, value.astype("Float64")
        text = _normalise(raw)
        lookup = {**{k: k for k in self.labels}, **self.aliases}
        key = text.map(lookup, na_action="ignore")
        # "1 - Very good", "4: Always": a code glued to its label.
        stripped = text.str.replace(r"^\d+\s*[-:.)]\s*", "", regex=True)
        key = key.fillna(stripped.map(lookup, na_action="ignore")).astype("string")
        value = key.map(self.labels, na_action="ignore").astype("Float64")
        return key.fillna(text), value


def on_uniques(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(values)``, computed once per distinct value when there are few (sites, ratings, dates)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) * 2 > len(values):
        return fn(values)
    done = fn(pd.Series(uniques, dtype=values.dtype))
    na = fn(pd.Series([pd.NA], dtype=values.dtype))
    out = pd.concat([done, na], ignore_index=True).take(np.where(codes < 0, len(uniques), codes))
    out.index = values.index
    return out


def _normalise(raw: pd.Series) -> pd.Series:
    return (
        raw.astype("string")
        .str.lower()
        .str.replace("\u2019", "'", regex=False)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
        .str.rstrip(".")
    )


def _codes(labels: list[str]) -> dict[str, str]:
    return {str(i): label for i, label in enumerate(labels, start=1)}


_FFT = ["very good", "good", "neither good nor poor", "poor", "very poor", "don't know"]
_HCAHPS = ["never", "sometimes", "usually", "always"]
_RECOMMEND = ["definitely no", "probably no", "probably yes", "definitely yes"]
_LIKERT = ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"]

SCALES: dict[str, Scale] = {
    "fft5": Scale(
        "fft5",
        "NHS Friends and Family Test: Very good (1.0) .. Very poor (0.0); Don't know is not scored; codes 1-6",
        labels={"very good": 1.0, "good": 0.75, "neither good nor poor": 0.5, "poor": 0.25, "very poor": 0.0,
                "don't know": None},
        aliases={
            **_codes(_FFT),
            "dont know": "don't know",
            "do not know": "don't know",
            "neither good or poor": "neither good nor poor",
            # The pre-2020 FFT question ("How likely are you to recommend ...?") on the same 5+1 points.
            "extremely likely": "very good",
            "likely": "good",
            "neither likely nor unlikely": "neither good nor poor",
            "unlikely": "poor",
            "extremely unlikely": "very poor",
        },
    ),
    "nps11": Scale("nps11", "likelihood to recommend 0..10 (value = score / 10)", numeric=(0, 10)),
    "rating0_10": Scale("rating0_10", "overall rating 0 (worst) .. 10 (best) (value = score / 10)", numeric=(0, 10)),
    "hcahps4": Scale(
        "hcahps4",
        "HCAHPS frequency: Never (0) / Sometimes / Usually / Always (1); codes 1-4",
        labels=dict(zip(_HCAHPS, (0.0, 1 / 3, 2 / 3, 1.0), strict=True)),
        aliases=_codes(_HCAHPS),
    ),
    "recommend4": Scale(
        "recommend4",
        "HCAHPS recommend: Definitely no (0) / Probably no / Probably yes / Definitely yes (1); codes 1-4",
        labels=dict(zip(_RECOMMEND, (0.0, 1 / 3, 2 / 3, 1.0), strict=True)),
        aliases=_codes(_RECOMMEND),
    ),
    "likert5": Scale(
        "likert5",
        "agreement: Strongly disagree (0) .. Strongly agree (1); codes 1-5",
        labels=dict(zip(_LIKERT, (0.0, 0.25, 0.5, 0.75, 1.0), strict=True)),
        aliases=_codes(_LIKERT),
    ),
}
# Kept for callers of the first version of this module.
FFT_SCALE: dict[str, float | None] = SCALES["fft5"].labels
HCAHPS_SCALE: dict[str, float | None] = SCALES["hcahps4"].labels

COMPLAINT_STATUSES = ("open", "acknowledged", "closed", "reopened")
COMPLAINT_SEVERITIES = ("low", "moderate", "high", "extreme")
_STATUS_SYNONYMS = {
    "new": "open", "received": "open", "opened": "open", "re-opened": "reopened", "re opened": "reopened",
    "acknowledged": "acknowledged", "under investigation": "acknowledged", "in progress": "acknowledged",
    "resolved": "closed", "completed": "closed", "responded": "closed",
}
_SEVERITY_SYNONYMS = {
    "medium": "moderate", "minor": "low", "major": "high", "severe": "high", "catastrophic": "extreme",
}

# --- presets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A rated survey item stored in ``raw.survey_items`` (not the headline rating)."""

    question: str
    scale: str


@dataclass(frozen=True)
class Preset:
    """Default column names of one export layout."""

    channel: str
    columns: dict[str, str]
    questions: dict[str, str | None] = field(default_factory=dict)
    rating_scale: str | None = None
    items: dict[str, Item] = field(default_factory=dict)
    id_optional: bool = False
    description: str = ""


_H = "During this hospital stay, "
PRESETS: dict[str, Preset] = {
    "fft": Preset(
        channel="survey",
        rating_scale="fft5",
        description="NHS Friends and Family Test: the 6-point overall question plus free-text follow-ups",
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
        description="Net Promoter Score: 0-10 likelihood to recommend plus 'why'",
        columns={
            "response_id": "response_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "rating": "nps_score",
            "age_band": "age_band",
        },
        questions={"reason": "Why did you give this score?"},
    ),
    "hcahps": Preset(
        channel="survey",
        rating_scale="rating0_10",
        description="HCAHPS-style inpatient survey: 0-10 overall rating (headline), Never..Always items and the "
        "recommend item (raw.survey_items), free-text comments",
        columns={
            "response_id": "response_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "rating": "overall_rating",
            "age_band": "age_band",
        },
        questions={"comments": "Is there anything else you would like to tell us about your hospital stay?"},
        items={
            "nurse_courtesy": Item(_H + "how often did nurses treat you with courtesy and respect?", "hcahps4"),
            "nurse_listen": Item(_H + "how often did nurses listen carefully to you?", "hcahps4"),
            "nurse_explain": Item(_H + "how often did nurses explain things in a way you could understand?", "hcahps4"),
            "doctor_courtesy": Item(_H + "how often did doctors treat you with courtesy and respect?", "hcahps4"),
            "doctor_listen": Item(_H + "how often did doctors listen carefully to you?", "hcahps4"),
            "doctor_explain": Item(_H + "how often did doctors explain things in a way you could understand?",
                                   "hcahps4"),
            "help_quickly": Item(_H + "how often did you get help as soon as you wanted it?", "hcahps4"),
            "room_clean": Item(_H + "how often were your room and bathroom kept clean?", "hcahps4"),
            "quiet_night": Item(_H + "how often was the area around your room quiet at night?", "hcahps4"),
            "medicine_explained": Item("Before giving you any new medicine, how often did hospital staff tell you "
                                       "what the medicine was for?", "hcahps4"),
            "recommend": Item("Would you recommend this hospital to your friends and family?", "recommend4"),
        },
    ),
    "questionnaire": Preset(
        channel="survey",
        description="any other survey (and FHIR QuestionnaireResponse): set rating_scale, questions and items",
        columns={
            "response_id": "response_id",
            "received_at": "submitted_at",
            "site": "site",
            "service": "service",
            "rating": "rating",
            "age_band": "age_band",
        },
    ),
    "suggestion_box": Preset(
        channel="suggestion",
        id_optional=True,
        description="web-form or transcribed suggestion cards: anonymous, site optional",
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
        description="complaints system export or table: one row per complaint in its current state",
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

FIELDS = (
    "response_id", "received_at", "site", "service", "rating", "age_band", "text", "complaint_category",
    "complaint_severity", "complaint_status", "acknowledged_at", "closed_at", "contact_count", "handling_minutes",
)
_MAPPING_SPECIAL = ("questions", "items", "rating_scale")
_DATE_FIELDS = ("acknowledged_at", "closed_at")
_INT_FIELDS = ("contact_count", "handling_minutes")


@dataclass(frozen=True)
class Resolved:
    """A preset with a source's overrides applied."""

    preset: Preset
    columns: dict[str, str | tuple[str, ...]]  # a tuple: several columns joined with a space
    questions: dict[str, str | None]
    items: dict[str, Item]
    rating_scale: str | None


def _items(value: object, origin: str) -> dict[str, Item]:
    if not isinstance(value, dict):
        raise SourceError(f"{origin}: mapping.items must map a column/linkId to a scale or {{question, scale}}")
    out = {}
    for key, spec in value.items():
        if isinstance(spec, str):
            spec = {"scale": spec}
        if not isinstance(spec, dict) or spec.get("scale") not in SCALES:
            raise SourceError(f"{origin}: item {key!r} needs a scale, one of {sorted(SCALES)}")
        out[str(key)] = Item(str(spec.get("question") or key), spec["scale"])
    return out


def resolve(config: SourceConfig, origin: str | None = None) -> Resolved:
    """The preset of ``config`` with its mapping overrides applied.

    For FHIR sources the preset's column names mean nothing: only mapped linkIds are used.

    Raises:
        SourceError: for an unknown preset, mapping key or scale.
    """
    origin = origin or f"source {config.name}"
    if config.preset not in PRESETS:
        raise SourceError(f"{origin}: unknown preset {config.preset!r}; known: {sorted(PRESETS)}")
    preset = PRESETS[config.preset]
    fhir = config.format == "fhir"
    columns = {} if fhir else dict(preset.columns)
    questions = {} if fhir else dict(preset.questions)
    items = {} if fhir else dict(preset.items)
    rating_scale = preset.rating_scale
    for key, value in config.mapping.items():
        if key == "questions":
            if isinstance(value, list):
                value = {str(v): None for v in value}
            if not isinstance(value, dict):
                raise SourceError(f"{origin}: mapping.questions must map a column/linkId to its question text")
            questions = {str(k): (None if v is None else str(v)) for k, v in value.items()}
        elif key == "items":
            items = _items(value, origin)
        elif key == "rating_scale":
            rating_scale = value
        elif key in FIELDS:
            if isinstance(value, list | tuple):
                # Date and time in two columns: received_at: [Date Completed, Time Completed]
                if not value or not all(isinstance(v, str) and v for v in value):
                    raise SourceError(f"{origin}: mapping.{key} must be a column name or a list of column names")
                columns[key] = value[0] if len(value) == 1 else tuple(value)
            else:
                columns[key] = str(value)
        else:
            raise SourceError(f"{origin}: unknown mapping key {key!r}; allowed: {sorted(FIELDS + _MAPPING_SPECIAL)}")
    if rating_scale is not None and rating_scale not in SCALES:
        raise SourceError(f"{origin}: unknown rating_scale {rating_scale!r}; known: {sorted(SCALES)}")
    return Resolved(preset, columns, questions, items, rating_scale)


def check_config(config: SourceConfig, origin: str) -> None:
    """Cross-check a source's preset, stream and mapping (called when the YAML is loaded).

    Raises:
        SourceError: naming ``origin`` and what is wrong.
    """
    resolved = resolve(config, origin)
    if resolved.preset.channel != config.stream:
        raise SourceError(
            f"{origin}: preset {config.preset!r} is for the {resolved.preset.channel} stream, not {config.stream!r}"
        )
    if "rating" in config.mapping and resolved.rating_scale is None:
        raise SourceError(f"{origin}: mapping.rating is set but no mapping.rating_scale")
    if config.format == "fhir":
        combined = sorted(k for k, v in resolved.columns.items() if isinstance(v, tuple))
        if combined:
            raise SourceError(f"{origin}: a fhir source maps each field to one linkId, not a list ({combined})")
        if config.stream != "survey":
            raise SourceError(f"{origin}: format fhir (QuestionnaireResponse) is for the survey stream")
        if not resolved.questions and "rating" not in resolved.columns:
            raise SourceError(f"{origin}: a fhir source needs mapping.questions and/or mapping.rating (linkIds)")
    unknown_defaults = set(config.defaults) - {"site", "service"}
    if unknown_defaults:
        raise SourceError(f"{origin}: defaults may set site and service only, not {sorted(unknown_defaults)}")


# --- step 1: tabular rows -> canonical names (CSV, Excel, JSON Lines, SQL) ----------------------


@dataclass
class Extract:
    """Source rows in canonical field names, before any value is parsed.

    ``rows`` has one row per source row (index = position 0..n-1) with string columns named
    after canonical fields plus ``_row_number``; ``answers`` holds one row per non-empty
    free-text answer and ``items`` one per answered rated item, both keyed by ``_pos``.
    """

    rows: pd.DataFrame
    answers: pd.DataFrame
    items: pd.DataFrame


ANSWER_COLUMNS = ["_pos", "question_key", "question", "text"]
ITEM_COLUMNS = ["_pos", "item_key", "question", "scale", "answer_raw"]


def _strip(values: pd.Series) -> pd.Series:
    out = values.str.strip()
    return out.mask(out.eq(""))


def _clean(series: pd.Series) -> pd.Series:
    return on_uniques(series.astype("string"), _strip)


def tabular_extract(config: SourceConfig, rows: SourceRows) -> Extract:
    """Rename a tabular source's columns to canonical fields and melt answers and items.

    A mapped column is found by its exact name, else by the one header equal to it ignoring
    case and spaces (exports change "Ward / Department" to "Ward / department").

    Raises:
        SourceError: when a column the preset needs (record id, date), or any column named in
            the source's own ``mapping:``, is not in the file (a typo would otherwise drop every
            answer of that column silently).
    """
    resolved = resolve(config)
    frame = rows.frame.reset_index(drop=True)
    source_columns = [c for c in frame.columns if not c.startswith("_")]
    locate = _column_locator(source_columns)
    needed = ["received_at"] + ([] if resolved.preset.id_optional else ["response_id"])
    missing = [c for k in needed for c in _names(resolved.columns.get(k)) if locate(c) is None]
    missing += [c for c in _mapped_columns(config) if locate(c) is None and c not in missing]
    # Also when every row was rejected (a report title above the column names makes the title the
    # "header" and every real row the wrong width): the file is misread, not full of bad rows.
    if missing and (len(frame) or rows.rejects):
        hint = ""
        if len(source_columns) == 1:
            hint = (" The file has a single column: is `delimiter:` right? Or are the column names on a later "
                    "line, below a title? Then set `header_row:`.")
        close = {c: m[0] for c in missing if (m := difflib.get_close_matches(c, source_columns, n=1, cutoff=0.6))}
        if close:
            hint += " Did you mean " + ", ".join(f"{m!r} for {c!r}" for c, m in close.items()) + "?"
        where = f"{rows.name}: " if rows.name else ""
        raise SourceError(
            f"source {config.name}: {where}no column(s) {missing}; found {source_columns[:20]}.{hint} "
            "Fix the export or set `mapping:` in the source YAML."
        )
    renamed = {c: found for c in _all_columns(resolved) if (found := locate(c)) is not None and found != c}
    if renamed:
        rows.notes.append("columns matched ignoring case and spaces: "
                          + ", ".join(f"{c!r} -> {f!r}" for c, f in renamed.items()))
    frame = frame.rename(columns={f: c for c, f in renamed.items()})
    out = pd.DataFrame(index=frame.index)
    for key, column in resolved.columns.items():
        present = [c for c in _names(column) if c in frame.columns]
        if not present:
            out[key] = pd.Series(pd.NA, index=frame.index, dtype="string")
        elif len(present) > 1:  # several columns (date + time): non-empty parts joined with a space
            parts = [_strip(frame[c].astype("string")).fillna("") for c in present]
            joined = parts[0].str.cat(parts[1:], sep=" ").str.strip()
            out[key] = _clean(joined)
        else:  # ids and free text are (nearly) all distinct: no point in per-value caching
            out[key] = _strip(frame[present[0]].astype("string")) if key in {"response_id", "text"} else _clean(
                frame[present[0]])
    out["_row_number"] = frame["_row_number"].astype("int64")
    answers = []
    for column, question in resolved.questions.items():
        if column not in frame.columns:
            continue
        text = _strip(frame[column].astype("string"))
        has = text.notna()
        answers.append(
            pd.DataFrame(
                {"_pos": frame.index[has], "question_key": column, "question": question or column,
                 "text": text[has].to_numpy()}
            )
        )
    items = []
    for column, item in resolved.items.items():
        if column not in frame.columns:
            continue
        answer = _clean(frame[column])
        has = answer.notna()
        items.append(
            pd.DataFrame(
                {"_pos": frame.index[has], "item_key": column, "question": item.question, "scale": item.scale,
                 "answer_raw": answer[has].to_numpy()}
            )
        )
    return Extract(
        out,
        pd.concat(answers, ignore_index=True) if answers else pd.DataFrame(columns=ANSWER_COLUMNS),
        pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=ITEM_COLUMNS),
    )


def _normalised_header(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _column_locator(source_columns: list[str]) -> Callable[[str], str | None]:
    """Find a mapped column: its exact name, else the single header equal ignoring case and spaces."""
    exact = set(source_columns)
    loose: dict[str, list[str]] = {}
    for c in source_columns:
        loose.setdefault(_normalised_header(c), []).append(c)

    def locate(name: str) -> str | None:
        if name in exact:
            return name
        found = loose.get(_normalised_header(name), [])
        return found[0] if len(found) == 1 else None

    return locate


def _mapped_columns(config: SourceConfig) -> list[str]:
    """Source columns named in the source's own ``mapping:`` (not the preset's defaults)."""
    out: list[str] = []
    for key, value in config.mapping.items():
        if key in ("questions", "items"):
            out += [str(k) for k in (value or {})] if not isinstance(value, list) else [str(v) for v in value]
        elif key in FIELDS:
            out += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    return list(dict.fromkeys(out))


def _all_columns(resolved: Resolved) -> list[str]:
    names = [c for v in resolved.columns.values() for c in _names(v)]
    return list(dict.fromkeys([*names, *resolved.questions, *resolved.items]))


def _names(column: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """The source column(s) a canonical field is mapped to."""
    if column is None:
        return ()
    return column if isinstance(column, tuple) else (column,)


# --- step 2: parse values, one record per free-text answer --------------------------------------

# An explicit offset after a time of day ("...10:00Z", "...10:00:00+01:00"); "2026-05-04" has none.
_OFFSET = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"
_DAYFIRST_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M",
                     "%d-%m-%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
_MONTHFIRST_FORMATS = tuple(f.replace("%d", "%_").replace("%m", "%d").replace("%_", "%m") for f in _DAYFIRST_FORMATS)
_COMMON_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d %b %Y %H:%M", "%d %b %Y", "%d %B %Y")
_UTC = "datetime64[us, UTC]"


def local_to_utc(values: pd.Series, timezone: str, dayfirst: bool = True, excel_serials: bool = False) -> pd.Series:
    """Parse date/time strings of a source and convert them to UTC (unparseable -> NaT).

    See :func:`_local_to_utc`; each distinct string is parsed once.
    """
    return on_uniques(values.astype("string"), lambda v: _local_to_utc(v, timezone, dayfirst, excel_serials))


def _local_to_utc(values: pd.Series, timezone: str, dayfirst: bool, excel_serials: bool) -> pd.Series:
    """Parse date/time strings of a source and convert them to UTC (unparseable -> NaT).

    Strings with an offset (``Z``, ``+01:00``) keep it; others are wall-clock times in the
    source's ``timezone``: an ambiguous autumn-fold time is read as standard time and a
    non-existent spring-gap time is shifted forward, never dropped. ISO 8601 first, then the
    source's day-first (or month-first) convention, then free text with a 4-digit year.
    """
    text = values.astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
    has_offset = text.str.contains(_OFFSET, regex=True, na=False)
    aware = pd.to_datetime(text.where(has_offset), errors="coerce", format="ISO8601", utc=True).astype(_UTC)
    todo = aware.isna() & has_offset
    if todo.any():
        aware = aware.fillna(
            pd.to_datetime(text[todo], errors="coerce", format="mixed", dayfirst=dayfirst, utc=True).astype(_UTC)
        )
    naive_text = text.where(~has_offset)
    naive = pd.to_datetime(naive_text, errors="coerce", format="ISO8601").astype("datetime64[us]")
    formats = (_DAYFIRST_FORMATS if dayfirst else _MONTHFIRST_FORMATS) + _COMMON_FORMATS
    for fmt in formats:
        todo = naive.isna() & naive_text.notna()
        if not todo.any():
            break
        naive = naive.fillna(pd.to_datetime(naive_text[todo], errors="coerce", format=fmt).astype("datetime64[us]"))
    todo = naive.isna() & naive_text.str.contains(r"\d{4}", regex=True, na=False)
    if todo.any():
        # Rare layouts ("Tue 3 March 2026 10:00") through dateutil, one by one.
        naive = naive.fillna(
            pd.to_datetime(naive_text[todo], errors="coerce", format="mixed", dayfirst=dayfirst).astype(
                "datetime64[us]"
            )
        )
    if excel_serials:
        serial = pd.to_numeric(naive_text.where(naive.isna() & naive_text.str.fullmatch(r"\d{5}(?:\.\d+)?")),
                               errors="coerce")
        naive = naive.fillna((pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D")).astype("datetime64[us]"))
    localized = naive.dt.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    ).dt.tz_convert("UTC")
    return localized.astype(_UTC).where(~has_offset, aware)


def content_ids(rows: pd.DataFrame) -> pd.Series:
    """Ids for rows without one (transcribed cards): hash of date, site and text, numbered."""
    basis = rows[["received_at", "site", "text"]].astype("string").fillna("").agg("\x1f".join, axis=1)
    digest = basis.map(lambda s: "c" + hashlib.sha1(s.encode()).hexdigest()[:15])
    occurrence = digest.groupby(digest).cumcount()
    return digest.where(occurrence.eq(0), digest + "-" + (occurrence + 1).astype("string"))


@dataclass
class Mapped:
    """Canonical records (plus ``_``-prefixed helper columns) and parsed survey items."""

    records: pd.DataFrame
    items: pd.DataFrame


def build_records(config: SourceConfig, extract: Extract) -> Mapped:
    """Parse an extract into canonical records (one per free-text answer for surveys).

    Helper columns for validation: ``_pos`` (source row), ``_row_number``, ``_rating_key``,
    ``_items_valid``, ``_has_content`` and ``_bad_<field>`` (raw value that did not parse).
    """
    resolved = resolve(config)
    preset = resolved.preset
    rows = extract.rows
    base = pd.DataFrame(index=rows.index)
    base["channel"] = preset.channel
    base["source"] = config.name
    response_id = rows["response_id"] if "response_id" in rows else pd.Series(pd.NA, index=rows.index, dtype="string")
    if preset.id_optional and response_id.isna().any():
        response_id = response_id.fillna(content_ids(rows.reindex(columns=["received_at", "site", "text"])))
    base["response_id"] = response_id.astype("string")
    excel = config.format == "xlsx"
    base["received_at"] = local_to_utc(_field(rows, "received_at"), config.timezone, config.dayfirst, excel)
    base["source_timezone"] = config.timezone
    for key in ("site", "service"):
        value = _field(rows, key)
        base[key] = value.fillna(config.defaults[key]) if key in config.defaults else value
    base["age_band"] = _field(rows, "age_band")
    base["_row_number"] = rows["_row_number"].astype("int64")
    base["_pos"] = rows.index.to_numpy()
    if resolved.rating_scale:
        raw = _field(rows, "rating")
        key, value = SCALES[resolved.rating_scale].parse(raw)
        base["rating_scale"] = pd.Series(resolved.rating_scale, index=rows.index, dtype="string").where(raw.notna())
        base["rating_raw"] = raw
        base["rating_value"] = value
        base["_rating_key"] = key
        if resolved.rating_scale == "nps11":
            base["nps"] = (value * 10).round().astype("Int64")
    if preset.channel == "complaint":
        _complaint_fields(config, rows, base)
    items = _parse_items(extract.items)
    invalid = items.loc[~items["_valid"], "_pos"] if len(items) else pd.Series([], dtype="int64")
    base["_items_valid"] = ~base["_pos"].isin(set(invalid))
    if preset.channel == "survey":
        records = _melt_answers(base, extract.answers)
        has_rating = records["rating_raw"].notna() if "rating_raw" in records else False
        records["_has_content"] = records["text"].notna() | has_rating
    else:
        records = base
        records["source_record_id"] = records["response_id"]
        records["text"] = _field(rows, "text")
        records["question"] = config.options.get("question")
        records["question_key"] = None
        records["_has_content"] = True
    return Mapped(records, items)


def _field(rows: pd.DataFrame, key: str) -> pd.Series:
    if key in rows:
        return rows[key].astype("string")
    return pd.Series(pd.NA, index=rows.index, dtype="string")


def _complaint_fields(config: SourceConfig, rows: pd.DataFrame, base: pd.DataFrame) -> None:
    status_map = {str(k).strip().lower(): str(v) for k, v in (config.options.get("status_map") or {}).items()}
    severity_map = {str(k).strip().lower(): str(v) for k, v in (config.options.get("severity_map") or {}).items()}
    base["complaint_category"] = _field(rows, "complaint_category")
    status = _field(rows, "complaint_status").str.strip().str.lower().str.replace(r"\s+", " ", regex=True)
    base["complaint_status"] = status.replace({**_STATUS_SYNONYMS, **status_map})
    severity = _field(rows, "complaint_severity").str.strip().str.lower()
    base["complaint_severity"] = severity.replace({**_SEVERITY_SYNONYMS, **severity_map})
    base["opened_at"] = base["received_at"]
    excel = config.format == "xlsx"
    for key in _DATE_FIELDS:
        raw = _field(rows, key)
        base[key] = local_to_utc(raw, config.timezone, config.dayfirst, excel)
        base[f"_bad_{key}"] = raw.where(base[key].isna())
    for key in _INT_FIELDS:
        raw = _field(rows, key)
        number = pd.to_numeric(raw, errors="coerce")
        ok = number.notna() & (number == number.round())
        base[key] = number.where(ok).astype("Int64")
        base[f"_bad_{key}"] = raw.where(~ok)


def _parse_items(items: pd.DataFrame) -> pd.DataFrame:
    if not len(items):
        return pd.DataFrame(columns=[*ITEM_COLUMNS, "value", "_valid"])
    out = items.copy()
    out["value"] = pd.Series(np.nan, index=out.index, dtype="Float64")
    out["_valid"] = False
    for scale, part in out.groupby("scale"):
        key, value = SCALES[str(scale)].parse(part["answer_raw"].astype("string"))
        out.loc[part.index, "value"] = value
        out.loc[part.index, "_valid"] = key.isin(SCALES[str(scale)].keys).to_numpy()
    return out


def _melt_answers(base: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    answered = base.join(answers.set_index("_pos"), on="_pos", how="inner")
    answered["source_record_id"] = answered["response_id"].fillna("?") + "#" + answered["question_key"]
    # A rating with no free text still counts towards the KPIs: one record, text null.
    rating_only = base[~base["_pos"].isin(set(answers["_pos"]))].copy()
    rating_only["question_key"] = pd.NA
    rating_only["question"] = pd.NA
    rating_only["text"] = pd.NA
    rating_only["source_record_id"] = rating_only["response_id"].fillna("?") + "#rating"
    out = pd.concat([answered, rating_only], ignore_index=True)
    for col in ("question_key", "question", "text", "source_record_id"):
        out[col] = out[col].astype("string")
    return out.sort_values(["_pos", "source_record_id"], kind="stable").reset_index(drop=True)


def map_rows(config: SourceConfig, rows: SourceRows) -> Mapped:
    """Map tabular source rows (CSV, Excel, JSON Lines, SQL) to canonical records."""
    return build_records(config, tabular_extract(config, rows))

