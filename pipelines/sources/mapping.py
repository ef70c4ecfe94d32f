"""Mapping source rows onto the canonical record, in two steps.

A reader-specific *extract* (tabular files and SQL here, FHIR in :mod:`pipelines.sources.fhir`)
turns source rows into canonical field names plus long frames of free-text answers and rated
items; :func:`build_records` then parses dates (local time -> UTC) and ratings for every format
alike. Values that cannot be parsed become null *and* leave a flag the Great Expectations suite
checks, so the row is quarantined with a reason instead of being loaded wrong or dropped.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from pipelines.sources.presets import FIELDS, Resolved, resolve
from pipelines.sources.scales import SCALES, SEVERITY_SYNONYMS, STATUS_SYNONYMS, on_uniques
from pipelines.sources.types import Reject, SourceConfig, SourceError, SourceRows

_DATE_FIELDS = ("acknowledged_at", "closed_at")
_INT_FIELDS = ("contact_count", "handling_minutes")

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


# Characters that show as nothing: zero-width space/non-joiner/joiner, word joiner, BOM. Not
# whitespace to str.strip(), so a comment of only a U+200B would otherwise be a comment.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + _INVISIBLE


def _strip(values: pd.Series) -> pd.Series:
    """Values without surrounding whitespace and invisible characters; null when nothing is left."""
    out = values.str.strip(_BLANK)
    return out.mask(out.eq(""))


def _clean_ids(values: pd.Series) -> pd.Series:
    """Ids without invisible characters anywhere ("ZW-1" + U+200B is "ZW-1") nor surrounding whitespace."""
    return _strip(values.str.replace(f"[{_INVISIBLE}]", "", regex=True))


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
    _check_columns(config, resolved, rows, locate, source_columns)
    renamed = {c: found for c in _all_columns(resolved) if (found := locate(c)) is not None and found != c}
    if renamed:
        rows.notes.append(
            "columns matched ignoring case and spaces: " + ", ".join(f"{c!r} -> {f!r}" for c, f in renamed.items())
        )
    frame = frame.rename(columns={f: c for c, f in renamed.items()})
    ids = [found for c in _names(resolved.columns.get("response_id")) if (found := locate(c)) is not None]
    if ids:
        rows.rejects[:] = [_with_record_id(r, ids[0]) for r in rows.rejects]
    return Extract(_canonical_fields(resolved, frame), _answers(resolved, frame), _rated_items(resolved, frame))


def _with_record_id(reject: Reject, id_column: str) -> Reject:
    """A rejected row keeps its record id (a JSON line with a lone surrogate, a CSV row with an unclosed quote)."""
    if reject.source_record_id is not None or reject.failed_check not in ("parse:unicode", "parse:csv"):
        return reject
    try:
        value = json.loads(reject.raw_row).get(id_column)
    except (ValueError, AttributeError, RecursionError):
        return reject
    return reject if value is None else replace(reject, source_record_id=str(value))


def _check_columns(
    config: SourceConfig,
    resolved: Resolved,
    rows: SourceRows,
    locate: Callable[[str], str | None],
    source_columns: list[str],
) -> None:
    """Fail, with hints, when a needed or explicitly mapped column is not in a file that has rows."""
    needed = ["received_at"] + ([] if resolved.preset.id_optional else ["response_id"])
    missing = [c for k in needed for c in _names(resolved.columns.get(k)) if locate(c) is None]
    missing += [c for c in _mapped_columns(config) if locate(c) is None and c not in missing]
    # Also when every row was rejected (a report title above the column names makes the title the
    # "header" and every real row the wrong width): the file is misread, not full of bad rows.
    if not missing or not (len(rows.frame) or rows.rejects):
        return
    hint = ""
    if len(source_columns) == 1:
        hint = (
            " The file has a single column: is `delimiter:` right? Or are the column names on a later "
            "line, below a title? Then set `header_row:`."
        )
    close = {c: m[0] for c in missing if (m := difflib.get_close_matches(c, source_columns, n=1, cutoff=0.6))}
    if close:
        hint += " Did you mean " + ", ".join(f"{m!r} for {c!r}" for c, m in close.items()) + "?"
    where = f"{rows.name}: " if rows.name else ""
    raise SourceError(
        f"source {config.name}: {where}no column(s) {missing}; found {source_columns[:20]}.{hint} "
        "Fix the export or set `mapping:` in the source YAML."
    )


def _canonical_fields(resolved: Resolved, frame: pd.DataFrame) -> pd.DataFrame:
    """One string column per mapped canonical field (null when the file lacks it) plus ``_row_number``."""
    out = pd.DataFrame(index=frame.index)
    for key, column in resolved.columns.items():
        present = [c for c in _names(column) if c in frame.columns]
        if not present:
            out[key] = pd.Series(pd.NA, index=frame.index, dtype="string")
        elif len(present) > 1:  # several columns (date + time): non-empty parts joined with a space
            parts = [_strip(frame[c].astype("string")).fillna("") for c in present]
            joined = parts[0].str.cat(parts[1:], sep=" ").str.strip()
            out[key] = _clean(joined)
        elif key == "response_id":  # ids and free text are (nearly) all distinct: no per-value caching
            out[key] = _clean_ids(frame[present[0]].astype("string"))
        elif key == "text":
            out[key] = _strip(frame[present[0]].astype("string"))
        else:
            out[key] = _clean(frame[present[0]])
    out["_row_number"] = frame["_row_number"].astype("int64")
    return out


def _answers(resolved: Resolved, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per non-empty free-text answer (:data:`ANSWER_COLUMNS`)."""
    answers = []
    for column, question in resolved.questions.items():
        if column not in frame.columns:
            continue
        text = _strip(frame[column].astype("string"))
        has = text.notna()
        answers.append(
            pd.DataFrame(
                {
                    "_pos": frame.index[has],
                    "question_key": column,
                    "question": question or column,
                    "text": text[has].to_numpy(),
                }
            )
        )
    return pd.concat(answers, ignore_index=True) if answers else pd.DataFrame(columns=ANSWER_COLUMNS)


def _rated_items(resolved: Resolved, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per answered rated item (:data:`ITEM_COLUMNS`), its answer still raw."""
    items = []
    for column, item in resolved.items.items():
        if column not in frame.columns:
            continue
        answer = _clean(frame[column])
        has = answer.notna()
        items.append(
            pd.DataFrame(
                {
                    "_pos": frame.index[has],
                    "item_key": column,
                    "question": item.question,
                    "scale": item.scale,
                    "answer_raw": answer[has].to_numpy(),
                }
            )
        )
    return pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=ITEM_COLUMNS)


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
_OFFSET = r"(?:\d:\d\d(?::\d\d(?:[.,]\d+)?)?|T\d\d)\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"
_DAYFIRST_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
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
    naive = _parse_naive(naive_text, format="ISO8601").astype("datetime64[us]")
    formats = (_DAYFIRST_FORMATS if dayfirst else _MONTHFIRST_FORMATS) + _COMMON_FORMATS
    for fmt in formats:
        todo = naive.isna() & naive_text.notna()
        if not todo.any():
            break
        naive = naive.fillna(pd.to_datetime(naive_text[todo], errors="coerce", format=fmt).astype("datetime64[us]"))
    todo = naive.isna() & naive_text.str.contains(r"\d{4}", regex=True, na=False)
    if todo.any():
        # Rare layouts ("Tue 3 March 2026 10:00") through dateutil, one by one.
        guessed = _parse_naive(naive_text[todo], format="mixed", dayfirst=dayfirst)
        naive = naive.fillna(
            guessed.where(_in_written_order(naive_text[todo], guessed, dayfirst)).astype("datetime64[us]")
        )
    if excel_serials:
        serial = pd.to_numeric(
            naive_text.where(naive.isna() & naive_text.str.fullmatch(r"\d{5}(?:\.\d+)?")), errors="coerce"
        )
        naive = naive.fillna((pd.Timestamp("1899-12-30") + pd.to_timedelta(serial, unit="D")).astype("datetime64[us]"))
    localized = naive.dt.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward"
    ).dt.tz_convert("UTC")
    return localized.astype(_UTC).where(~has_offset, aware)


def _parse_naive(text: pd.Series, **how: Any) -> pd.Series:
    """``pd.to_datetime(text, **how)`` as naive times; NaT for a string read with a zone.

    A zone the offset pattern does not know ("2026 10:00 UTC+3", "EST") is no wall-clock time of
    the source: such a date is left unparsed (its row is quarantined for the date), and one such
    string never makes the whole column fail (pandas raises on mixed zones and on casting aware
    times to naive). Only then is the column parsed string by string.
    """
    try:
        parsed = pd.to_datetime(text, errors="coerce", **how)
    except (ValueError, TypeError, OverflowError):  # mixed zones in one column
        parsed = None
    if parsed is not None and pd.api.types.is_datetime64_dtype(parsed):
        return parsed
    out = []
    for value in text:
        try:
            one = pd.to_datetime(value, errors="coerce", **how)
        except (ValueError, TypeError, OverflowError):
            one = pd.NaT
        out.append(pd.NaT if pd.isna(one) or one.tzinfo is not None else one)
    return pd.Series(pd.to_datetime(pd.Series(out, dtype="object"), errors="coerce"), index=text.index)


def _in_written_order(text: pd.Series, parsed: pd.Series, dayfirst: bool) -> pd.Series:
    """Whether dateutil kept the month and day of an ISO-ordered date (``YYYY-MM-DD``) in place.

    dateutil swaps them when the written order gives no date: "2026-13-01" becomes 13 January,
    which is not a date of any source (ISO order is never year-day-month). A day/month date that is
    valid only in the other order ("02/16/2025" in a day-first export) is unambiguous and kept:
    real UK exports carry a few US-style dates, and the source sniffer flags them.
    """
    ymd = text.str.extract(r"^\d{4}[/.-](\d{1,2})[/.-](\d{1,2})").astype("Float64")
    kept = parsed.dt.month.eq(ymd[0]) & parsed.dt.day.eq(ymd[1])
    return (ymd[0].isna() | kept).fillna(False).astype(bool)


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
    base["complaint_status"] = status.replace({**STATUS_SYNONYMS, **status_map})
    severity = _field(rows, "complaint_severity").str.strip().str.lower()
    base["complaint_severity"] = severity.replace({**SEVERITY_SYNONYMS, **severity_map})
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
