"""Presets: the default column names of each export layout, and a source's overrides of them.

A preset names the source column of each canonical field, the free-text questions and (for
multi-item surveys) the rated items; a source YAML's ``mapping`` overrides any of them::

    mapping:
      received_at: Date Completed        # canonical field -> source column (FHIR: linkId)
      questions:                         # free-text columns -> the question they answer
        good: What was good?
      items:                             # further rated items -> raw.survey_items
        q7: {question: Nurses listened?, scale: hcahps4}
      rating_scale: nps11                # the headline rating's scale

:func:`resolve` applies the overrides; :func:`check_config` cross-checks preset, stream and
mapping when a source YAML is loaded. Rows are mapped in :mod:`pipelines.sources.mapping`;
rating scales are in :mod:`pipelines.sources.scales`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.sources.scales import SCALES
from pipelines.sources.types import SourceConfig, SourceError

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
            "doctor_explain": Item(
                _H + "how often did doctors explain things in a way you could understand?", "hcahps4"
            ),
            "help_quickly": Item(_H + "how often did you get help as soon as you wanted it?", "hcahps4"),
            "room_clean": Item(_H + "how often were your room and bathroom kept clean?", "hcahps4"),
            "quiet_night": Item(_H + "how often was the area around your room quiet at night?", "hcahps4"),
            "medicine_explained": Item(
                "Before giving you any new medicine, how often did hospital staff tell you what the medicine was for?",
                "hcahps4",
            ),
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
    "response_id",
    "received_at",
    "site",
    "service",
    "rating",
    "age_band",
    "text",
    "complaint_category",
    "complaint_severity",
    "complaint_status",
    "acknowledged_at",
    "closed_at",
    "contact_count",
    "handling_minutes",
)
_MAPPING_SPECIAL = ("questions", "items", "rating_scale")


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
