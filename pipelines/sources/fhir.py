"""FHIR R4 QuestionnaireResponse resources -> canonical survey records.

Reads a Bundle (``.json``: a Bundle, a single resource or a JSON array of resources) or bulk
NDJSON (``.ndjson``/``.jsonl``, one resource per line). Answers are found by ``linkId``
through the source's ``mapping`` (nested groups and answers with child items are walked)::

    mapping:
      rating: fft-overall           # linkId of the headline rating
      rating_scale: fft5            # (from the preset when omitted)
      site: site                    # linkIds whose answer gives site / service / age band
      service: ward
      questions:                    # free-text linkIds -> question text (null: the item's text)
        fft-good: null
        fft-improve: What could we improve?
      items: {nurse-courtesy: hcahps4}

``valueString`` answers of question linkIds become one record each (repeated answers get
``<linkId>#2``...), carrying their question text; ratings come from ``valueInteger``,
``valueDecimal`` or ``valueCoding`` (code, else display). ``authored`` is ``received_at``.
``status`` is respected: completed/amended/stopped are loaded, in-progress is skipped and
counted (it will arrive again when completed) and entered-in-error is skipped, counted and
retracts any record previously loaded for that response. A resource of another type, or
without a valid status, is quarantined with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.sources.files import TOO_DEEP, clean_frame, clean_text, decode_bytes, parse_json_line, split_lines
from pipelines.sources.mapping import ANSWER_COLUMNS, ITEM_COLUMNS, Extract
from pipelines.sources.presets import Resolved, resolve
from pipelines.sources.scales import SCALES
from pipelines.sources.types import Reject, SourceConfig, SourceError, SourceRows

STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
DEFAULT_ACCEPT = ("completed", "amended", "stopped")
DEFAULT_SKIP = ("in-progress",)
RETRACT = "entered-in-error"
_VALUE_KEYS = (
    "valueString",
    "valueInteger",
    "valueDecimal",
    "valueBoolean",
    "valueDate",
    "valueDateTime",
    "valueTime",
    "valueUri",
)


@dataclass
class FhirRead:
    """What one FHIR file yields: an extract, the rows read, and what was skipped."""

    extract: Extract
    rows: SourceRows
    skipped: dict[str, int] = field(default_factory=dict)
    retracted: list[str] = field(default_factory=list)


def _resources(config: SourceConfig, path: Path) -> tuple[list[tuple[int, str, Any]], list[Reject], list[str]]:
    """(row number, raw text, parsed value) per resource, plus rejects and decoding notes."""
    text, used, repaired = decode_bytes(path.read_bytes(), config.encoding)
    text, removed = clean_text(text)
    notes = [f"{path.name}: {repaired} byte(s) were not valid UTF-8; read as Windows-1252"] if repaired else []
    notes += [f"{path.name}: {removed} control character(s) such as NUL removed from the text"] if removed else []
    layout = config.options.get("fhir_layout") or ("ndjson" if path.suffix.lower() in {".ndjson", ".jsonl"} else "json")
    out: list[tuple[int, str, Any]] = []
    rejects: list[Reject] = []
    if layout == "ndjson":
        for number, line in enumerate(split_lines(text), start=1):
            if not line.strip():
                continue
            value, reject = parse_json_line(number, line)
            if reject is None:
                out.append((number, line, value))
            else:
                rejects.append(reject)
        return out, rejects, notes
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}; truncated file?)"
        ) from exc
    except RecursionError as exc:
        raise SourceError(f"{path.name}: {TOO_DEEP}") from exc
    if isinstance(document, dict) and document.get("resourceType") == "Bundle":
        for number, entry in enumerate(document.get("entry") or [], start=1):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            raw = json.dumps(entry, ensure_ascii=False)
            if resource is None:
                rejects.append(Reject(number, raw, "fhir:bundle_entry", "bundle entry has no resource"))
            else:
                out.append((number, json.dumps(resource, ensure_ascii=False), resource))
    elif isinstance(document, list):
        out = [(n, json.dumps(r, ensure_ascii=False), r) for n, r in enumerate(document, start=1)]
    else:
        out = [(1, text, document)]
    return out, rejects, notes


def _walk(items: Any, found: dict[str, list[tuple[str | None, dict]]]) -> None:
    """Collect (item text, answer) by linkId through nested items and answers' child items."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        link = str(item.get("linkId"))
        answers = item.get("answer") if isinstance(item.get("answer"), list) else []
        for answer in answers:
            if isinstance(answer, dict):
                found.setdefault(link, []).append((item.get("text"), answer))
                _walk(answer.get("item"), found)
        if not answers:
            found.setdefault(link, [])
        _walk(item.get("item"), found)


def _value(answer: dict, scale: str | None = None) -> str | None:
    for key in _VALUE_KEYS:
        if key in answer:
            value = answer[key]
            return value if isinstance(value, str) else json.dumps(value)
    coding = answer.get("valueCoding")
    if isinstance(coding, dict):
        code, display = coding.get("code"), coding.get("display")
        if scale is not None and code is not None and _on_scale(str(code), scale):
            return str(code)
        # Sites and wards read better by name; a rating code off the scale may still have a valid display.
        return None if display is None and code is None else str(display if display is not None else code)
    quantity = answer.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        return json.dumps(quantity["value"])
    return None


@lru_cache(maxsize=4096)
def _on_scale(value: str, scale: str) -> bool:
    key, _ = SCALES[scale].parse(pd.Series([value], dtype="string"))
    return bool(key.isin(SCALES[scale].keys).iloc[0])


def read_fhir(config: SourceConfig, path: Path) -> FhirRead:
    """Read one FHIR file into an extract of QuestionnaireResponses.

    Raises:
        SourceError: if a ``.json`` document does not parse at all.
    """
    resolved = resolve(config)
    accept = tuple(config.options.get("fhir_statuses") or DEFAULT_ACCEPT)
    skip = tuple(s for s in config.options.get("fhir_skip_statuses") or DEFAULT_SKIP if s not in accept)
    resources, rejects, notes = _resources(config, path)
    taken = _Responses(resolved, accept, skip)
    for number, raw, resource in resources:
        reject = _type_reject(number, raw, resource)
        if reject is None:
            try:
                reject = taken.take(number, raw, resource)
            except RecursionError:  # items nested hundreds deep: that resource, not the file
                reject = Reject(number, raw, "parse:json_depth", TOO_DEEP, _resource_id(resource))
        if reject is not None:
            rejects.append(reject)
    frame = _rows_frame(taken.rows)
    answers = pd.DataFrame(taken.answers, columns=ANSWER_COLUMNS)
    items = pd.DataFrame(taken.items, columns=ITEM_COLUMNS)
    # Escaped control characters (\u0000 in a JSON string) are only visible once parsed.
    removed = sum(clean_frame(f) for f in (frame, answers, items))
    notes += [f"{path.name}: {removed} control character(s) such as NUL removed from answers"] if removed else []
    extract = Extract(frame.drop(columns=["_raw"]), answers, items)
    if taken.skipped:
        notes.append("skipped " + ", ".join(f"{n} {s}" for s, n in sorted(taken.skipped.items())))
    return FhirRead(extract, SourceRows(frame, rejects, notes), taken.skipped, taken.retracted)


def _resource_id(resource: dict) -> str | None:
    rid = resource.get("id") or (resource.get("identifier") or {}).get("value")
    return None if rid is None else str(rid)


def _type_reject(number: int, raw: str, resource: Any) -> Reject | None:
    """A reject unless ``resource`` is a QuestionnaireResponse."""
    if not isinstance(resource, dict):
        kind = type(resource).__name__
        return Reject(number, raw, "fhir:resource_type", f"a JSON {kind}, not a resource")
    kind = resource.get("resourceType")
    if kind != "QuestionnaireResponse":
        reason = f"resourceType {kind!r} is not QuestionnaireResponse"
        return Reject(number, raw, "fhir:resource_type", reason, _resource_id(resource))
    return None


@dataclass
class _Responses:
    """The QuestionnaireResponses of one file as extract rows, answers and items, plus what was skipped."""

    resolved: Resolved
    accept: tuple[str, ...]
    skip: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    retracted: list[str] = field(default_factory=list)

    def take(self, number: int, raw: str, resource: dict) -> Reject | None:
        """Load, skip (counted; entered-in-error also retracts) or reject one response by its status."""
        rid = _resource_id(resource)
        status = resource.get("status")
        if status in self.skip or status == RETRACT:
            self.skipped[str(status)] = self.skipped.get(str(status), 0) + 1
            if status == RETRACT and rid:
                self.retracted.append(rid)
            return None
        if status not in self.accept:
            reason = (
                f"status is not one of {list(STATUSES)}"
                if status not in STATUSES
                else (f"status {status!r} is not accepted by this source (fhir_statuses: {list(self.accept)})")
            )
            return Reject(number, raw, "fhir:status", reason, rid)
        self._add(number, raw, rid, resource)
        return None

    def _add(self, number: int, raw: str, rid: str | None, resource: dict) -> None:
        resolved = self.resolved
        found: dict[str, list[tuple[str | None, dict]]] = {}
        _walk(resource.get("item"), found)
        pos = len(self.rows)
        row: dict[str, Any] = {
            "response_id": rid,
            "received_at": resource.get("authored"),
            "_row_number": number,
            "_raw": raw,
        }
        for key in ("site", "service", "age_band", "rating"):
            link = resolved.columns.get(key)
            if link and found.get(link):
                row[key] = _value(found[link][0][1], resolved.rating_scale if key == "rating" else None)
        self.rows.append(row)
        self.answers += _free_text(resolved, found, pos)
        self.items += _rated_items(resolved, found, pos)


def _free_text(resolved: Resolved, found: dict[str, list[tuple[str | None, dict]]], pos: int) -> list[dict]:
    """One answer per non-blank string answer of a question linkId; repeats get ``<linkId>#2``..."""
    out = []
    for link, question in resolved.questions.items():
        n = 0
        for item_text, answer in found.get(link, []):
            text = _value(answer)
            if text is None or not text.strip():
                continue
            n += 1
            out.append(
                {
                    "_pos": pos,
                    "question_key": link if n == 1 else f"{link}#{n}",
                    "question": question or item_text or link,
                    "text": text.strip(),
                }
            )
    return out


def _rated_items(resolved: Resolved, found: dict[str, list[tuple[str | None, dict]]], pos: int) -> list[dict]:
    """The first answer of each mapped item linkId, raw (parsed on its scale later)."""
    out = []
    for link, item in resolved.items.items():
        if found.get(link):
            item_text, answer = found[link][0]
            value = _value(answer, item.scale)
            if value is not None and value.strip():
                out.append(
                    {
                        "_pos": pos,
                        "item_key": link,
                        "question": item.question if item.question != link else (item_text or link),
                        "scale": item.scale,
                        "answer_raw": value.strip(),
                    }
                )
    return out


def _rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The responses as strings (blank -> null), ``_row_number`` as an integer, ``_raw`` kept."""
    frame = pd.DataFrame(
        rows, columns=["response_id", "received_at", "site", "service", "age_band", "rating", "_row_number", "_raw"]
    )
    for col in frame.columns:
        frame[col] = frame[col].astype("int64" if col == "_row_number" else "string")
    for col in ("response_id", "received_at", "site", "service", "age_band", "rating"):
        frame[col] = frame[col].str.strip().mask(frame[col].str.strip().eq(""))
    return frame
