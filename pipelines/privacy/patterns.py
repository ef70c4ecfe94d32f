"""Config-driven regex recognizers: validators, compiled patterns and matching (pure Python).

Each entry under ``patterns:`` in ``models/privacy/recognizers.yaml`` becomes a
:class:`CompiledPattern`; :func:`find_matches` runs them. Presidio only wraps the matches
(see :mod:`pipelines.privacy.engine`), so everything here runs and tests without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Validator = Callable[[str], str | None]


@dataclass(frozen=True)
class CompiledPattern:
    """One configured pattern: regex (optional ``phi`` group), validator and cue-window boost."""

    name: str
    regex: re.Pattern[str]
    score: float
    validator: Validator | None
    cue: re.Pattern[str] | None
    cue_window: int
    cue_score: float


@dataclass(frozen=True)
class PatternMatch:
    """A validated match: character offsets, score and the name of the pattern that found it."""

    start: int
    end: int
    score: float
    pattern_name: str


# ---------------------------------------------------------------------------------------------
# Validators: take the matched text, return it (possibly trimmed) or None to reject the match.
# ---------------------------------------------------------------------------------------------
def nhs_number_is_valid(number: str) -> bool:
    """Return True if ``number`` (any separators) is 10 digits with a valid NHS mod-11 check digit."""
    digits = re.sub(r"\D", "", number)
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _v_nhs(s: str) -> str | None:
    return s if nhs_number_is_valid(s) else None


def _v_uk_phone(s: str) -> str | None:
    digits = re.sub(r"\D", "", s)
    if s.lstrip().startswith(("+", "00")):
        digits = digits.removeprefix("00")
        if not digits.startswith("44"):
            return None
        nsn = digits[2:].removeprefix("0")
    elif digits.startswith("0"):
        nsn = digits[1:]
    else:
        return None
    return s if len(nsn) in (9, 10) and nsn[0] != "0" else None


def _v_nanp_phone(s: str) -> str | None:
    digits = re.sub(r"\D", "", s)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return s if len(digits) == 10 and digits[0] in "23456789" else None


def _v_numeric_date(s: str) -> str | None:
    parts = re.split(r"[/.\-]", s)
    if len(parts) != 3:
        return None
    a, b, y = (int(p) for p in parts)
    if len(parts[2]) == 4 and not 1900 <= y <= 2099:
        return None
    day_month = 1 <= a <= 31 and 1 <= b <= 12
    month_day = 1 <= a <= 12 and 1 <= b <= 31
    return s if day_month or month_day else None


def _v_iso_date(s: str) -> str | None:
    _, m, d = (int(p) for p in s.split("-"))
    return s if 1 <= m <= 12 and 1 <= d <= 31 else None


_STREET_BODY_RE = re.compile(r"\d{1,4}[A-Za-z]?,?\s+(?P<body>.+?)\s+\S+$")


def _make_street_validator(stop_words: frozenset[str]) -> Validator:
    def validate(s: str) -> str | None:
        m = _STREET_BODY_RE.search(s)
        if not m:
            return None
        words = [w.lower().rstrip(".") for w in m.group("body").split()]
        return None if any(w in stop_words for w in words) else s

    return validate


def _v_url_trim(s: str) -> str | None:
    s = s.rstrip(".,;:!?)]}'\"")
    return s if len(s) >= 4 else None


def _validators(cfg: dict[str, Any], stop_words: Iterable[str]) -> dict[str, Validator]:
    street_stop = frozenset(str(w).lower() for w in cfg.get("street_stop_words", []))
    return {
        "nhs_mod11": _v_nhs,
        "uk_phone": _v_uk_phone,
        "nanp_phone": _v_nanp_phone,
        "numeric_date": _v_numeric_date,
        "iso_date": _v_iso_date,
        "street_words": _make_street_validator(street_stop),
        "street_words_strict": _make_street_validator(street_stop | frozenset(stop_words)),
        "url_trim": _v_url_trim,
    }


# ---------------------------------------------------------------------------------------------
# Compiling and matching
# ---------------------------------------------------------------------------------------------
def compile_patterns(cfg: dict[str, Any], stop_words: Iterable[str] = ()) -> dict[str, list[CompiledPattern]]:
    """Compile the ``patterns:`` section of the recognizer config, per entity type.

    Args:
        cfg: The parsed recognizer YAML.
        stop_words: Extra words a lower-case street name never contains (``street_words_strict``).

    Raises:
        ValueError: if a pattern names a validator that does not exist.
    """
    validators = _validators(cfg, stop_words)
    out: dict[str, list[CompiledPattern]] = {}
    for entity, plist in cfg["patterns"].items():
        compiled = []
        for p in plist:
            flags = re.IGNORECASE if "ignore_case" in p.get("flags", []) else 0
            vname = p.get("validator")
            if vname is not None and vname not in validators:
                raise ValueError(f"unknown validator {vname!r} in pattern {p['name']!r}")
            compiled.append(
                CompiledPattern(
                    name=p["name"],
                    regex=re.compile(p["regex"], flags),
                    score=float(p["score"]),
                    validator=validators[vname] if vname else None,
                    cue=re.compile(p["cue_regex"], re.IGNORECASE) if p.get("cue_regex") else None,
                    cue_window=int(p.get("cue_window", 0)),
                    cue_score=float(p.get("cue_score", p["score"])),
                )
            )
        out[entity] = compiled
    return out


def find_matches(text: str, patterns: Iterable[CompiledPattern]) -> list[PatternMatch]:
    """Run ``patterns`` over ``text``: ``phi`` group span, validator, cue-window score boost."""
    out = []
    for p in patterns:
        grp = "phi" if "phi" in p.regex.groupindex else 0
        for m in p.regex.finditer(text):
            start, end = m.span(grp)
            if start == end:
                continue
            if p.validator is not None:
                checked = p.validator(text[start:end])
                if checked is None:
                    continue
                end = start + len(checked)
            score = p.score
            if p.cue is not None and p.cue.search(text, max(0, start - p.cue_window), start):
                score = max(score, p.cue_score)
            out.append(PatternMatch(start, end, score, p.name))
    return out
