"""PHI redaction with Microsoft Presidio, fully offline.

Presidio's default engine needs a downloaded spaCy NER model, which cannot be had here. This
module wraps a blank spaCy ``en`` pipeline (tokenizer only) as Presidio's NLP engine and
registers only pattern/rule recognizers configured in ``models/privacy/recognizers.yaml``:

* NHS numbers (mod-11 check digit), hospital numbers, UK/US phones (regex + python-phonenumbers),
  emails (Presidio's recognizer, public-suffix check from the bundled snapshot), UK postcodes and
  US ZIPs, full dates, street addresses and URLs;
* PERSON from title/relation/role cues and packaged first-name/surname lists (Faker's person
  providers), see :class:`PersonFinder`.

Heavy imports (presidio, spacy, faker) happen in :class:`Redactor.__init__`, never at import.

Example::

    redactor = Redactor(allow_list=["Rainbow Ward"])
    redactor.redact("Dr Patel on Rainbow Ward rang 07700 900123").text
    # 'Dr [NAME] on Rainbow Ward rang [PHONE]'
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "models" / "privacy" / "recognizers.yaml"

_MONTHS = frozenset(
    {
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    }
)
_WEEKDAYS = frozenset(
    {
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"),
    }
)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class Span:
    """One redacted span, with character offsets into the *input* text."""

    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Redaction:
    """Redacted text plus the spans (input offsets) that were replaced."""

    text: str
    spans: tuple[Span, ...]


# ---------------------------------------------------------------------------------------------
# Validators for pattern matches: take the matched text, return it (possibly trimmed) or None.
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


def _make_street_validator(stop_words: frozenset[str]) -> Callable[[str], str | None]:
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


# ---------------------------------------------------------------------------------------------
# Configuration and name lists
# ---------------------------------------------------------------------------------------------
def load_config(path: Path | None = None) -> tuple[dict[str, Any], bytes]:
    """Read the recognizer YAML; return ``(config, raw_bytes)``."""
    import yaml

    raw = Path(path or DEFAULT_CONFIG_PATH).read_bytes()
    return yaml.safe_load(raw), raw


def _norm(word: str) -> str:
    return word.replace("’", "'")


def load_name_lists(cfg: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """Return lower-cased (first_names, surnames) from Faker person providers + config extras.

    Only class attributes of ``faker.providers.person.<locale>.Provider`` are read: no Faker
    instance, no randomness, no network.
    """
    first: set[str] = set()
    last: set[str] = set()
    names_cfg = cfg["names"]
    for loc in names_cfg.get("faker_locales", []):
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            first.update(getattr(provider, attr, ()) or ())
        last.update(getattr(provider, "last_names", ()) or ())
    first.update(names_cfg.get("extra_first_names", []))
    last.update(names_cfg.get("extra_surnames", []))

    def clean(names: Iterable[str]) -> frozenset[str]:
        return frozenset(_norm(n).lower() for n in names if n and " " not in n and len(n) >= 2)

    return clean(first), clean(last)


# ---------------------------------------------------------------------------------------------
# PERSON without an NER model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Tok:
    start: int
    end: int  # end of the name part (possessive 's excluded)
    text: str  # name part, apostrophes normalised
    lower: str


class PersonFinder:
    """Rule-based person-name finder (pure Python, no Presidio needed).

    Rules, in order of confidence:

    1. strong titles (Dr, Mr, Mrs, Ms, Prof, ...) + name-shaped token(s), or a lower-case known
       name ("dr patel");
    2. relation ("my husband John", "my mum jean") and naming cues ("a nurse called Priya");
    3. role cues / weak titles ("the receptionist Karen", "Nurse Joy"), capitalised names only,
       never job words ("Nurse Practitioner");
    4. packaged name lists: known first name (+ following capitalised tokens), an ambiguous first
       name only with a known surname ("Will Smith"), an unknown capitalised token + known surname;
    5. coordination: "Sarah and Kowalczyk", "Sarah, Tom and Bartosz" after a found name.

    A name directly followed by a facility word ("Victoria Wing", "Florence Ward") or preceded by
    a place prefix ("St Mary's", "Queen Elizabeth") is treated as a place.
    """

    def __init__(
        self,
        cfg: dict[str, Any],
        first_names: frozenset[str],
        surnames: frozenset[str],
        extra_common: Iterable[str] = (),
    ) -> None:
        p = cfg["person"]
        n = cfg["names"]
        low = lambda xs: frozenset(_norm(str(x)).lower() for x in xs)  # noqa: E731
        self.first = first_names
        self.last = surnames
        self.ambiguous = low(n.get("ambiguous_first_names", []))
        self.word_names = low(n.get("names_that_are_words", []))
        self.not_names = low(n.get("not_names", [])) | _MONTHS | _WEEKDAYS
        self.strong_titles = low(t.rstrip(".") for t in p["strong_titles"])
        self.cased_titles = frozenset({"miss", "sir", "dame", "lady", "lord", "father", "fr"})
        self.not_after_cue = low(p.get("not_names_after_cue", []))
        self.suffixes = tuple(p.get("not_name_suffixes", []))
        self.facility = low(p.get("facility_words", []))
        self.place_prefix = low(t.rstrip(".") for t in p.get("place_prefixes", []))
        self.particles = low(p.get("name_particles", []))
        self.acronyms = frozenset(str(a).upper() for a in p.get("acronyms", []))
        self.common = (
            low(p.get("common_words", []))
            | low(extra_common)
            | _MONTHS
            | _WEEKDAYS
            | self.not_after_cue
            | self.facility
        )
        self.weak_titles = low(p.get("weak_titles", []))
        self.cue_words = self.strong_titles | self.weak_titles | low(p.get("role_cues", []))
        self.verbs = low(p.get("common_verbs", []))
        self.lower_common = self.common | self.verbs

        def alt(phrases: Iterable[str]) -> str:
            items = sorted({str(x) for x in phrases}, key=len, reverse=True)
            return "|".join(re.escape(x).replace(r"\ ", r"\s+") for x in items)

        sep = r"(?:\s*[,:\-–(]\s*|\s+)"
        rel = (
            rf"(?<![\w'])(?:{alt(p['relation_determiners'])})\s+(?:(?:{alt(p['relation_modifiers'])})[\s\-]+){{0,2}}"
            rf"(?:{alt(p['relations'])})"
        )
        self._strong_cue_re = re.compile(rf"(?:{rel}|(?<![\w'])(?:{alt(p['naming_cues'])})){sep}", re.IGNORECASE)
        self._weak_cue_re = re.compile(
            rf"(?<![\w'])(?:{alt(list(p.get('weak_titles', [])) + list(p.get('role_cues', [])))}){sep}", re.IGNORECASE
        )
        self._conj_re = re.compile(r"\s*(?:,\s*(?:and\s+|&\s*)?|\s+and\s+|\s*&\s*)")

    # -- token predicates ----------------------------------------------------------------------
    @staticmethod
    def _title_case(t: _Tok) -> bool:
        w = t.text
        return w[0].isupper() and (len(w) == 1 or not w.isupper())

    def _upper_name(self, t: _Tok) -> bool:
        return len(t.text) >= 2 and t.text.isupper() and t.text not in self.acronyms

    def _known(self, lw: str) -> bool:
        parts = lw.split("-")
        return any(x in self.first or x in self.last for x in [lw, *parts])

    def _is_first(self, lw: str) -> bool:
        """Known first name, including hyphenated ones ("Mary-Jane", "Jean-Paul")."""
        if lw in self.first:
            return True
        parts = lw.split("-")
        return len(parts) > 1 and all(x in self.first for x in parts)

    def _known_last(self, lw: str) -> bool:
        return lw in self.last or any(x in self.last for x in lw.split("-"))

    @staticmethod
    def _contraction(t: _Tok) -> bool:
        """True for "I've", "HADN'T", "I'd" (not for "O'Brien", "D'Arcy")."""
        return "'" in t.text and t.text.rsplit("'", 1)[1].lower() in {"t", "ve", "d", "m", "ll", "re", "s"}

    def _nameish_after_cue(self, t: _Tok, allow_upper: bool) -> bool:
        """Capitalised token after a cue that can be a name (unknown names allowed)."""
        if not (self._title_case(t) or (allow_upper and self._upper_name(t))) or len(t.text) < 2:
            return False
        if self._contraction(t):
            return False
        lw = t.lower
        if lw in self.not_after_cue or lw in self.cue_words or lw in _MONTHS or lw in _WEEKDAYS:
            return False
        if self._known(lw):
            return True
        if lw in self.common or lw in self.facility:
            return False
        return not lw.endswith(self.suffixes)

    def _lower_after_title(self, t: _Tok) -> bool:
        """Lower-case token after "dr"/"mrs": a name unless it is a common word or verb form."""
        lw = t.lower
        if not t.text.islower() or len(lw) < 2 or self._contraction(t):
            return False
        if lw in self.lower_common or lw in self.not_names:
            return False
        if self._known(lw):
            return True
        if len(lw) < 3 or lw.endswith(("ed", "ing", "ly", "nt", "'s")):
            return False
        return not (lw.endswith("s") and (lw[:-1] in self.lower_common or lw[:-2] in self.lower_common))

    def _lower_after_relation(self, t: _Tok) -> bool:
        """Lower-case known name after "my husband"/"called": "my husband john"."""
        lw = t.lower
        if not t.text.islower() or len(lw) < 2 or lw in self.lower_common or lw in self.not_names:
            return False
        if lw in self.first and lw not in self.ambiguous:
            return True
        return self._known_last(lw) and lw not in self.word_names

    def _lower_no_cue(self, t: _Tok) -> bool:
        """Lower-case first name with no cue at all: only names that are not English words."""
        lw = t.lower
        return (
            t.text.islower()
            and len(lw) >= 3
            and lw in self.first
            and lw not in self.ambiguous
            and lw not in self.word_names
            and lw not in self.lower_common
            and lw not in self.not_names
        )

    def _lower_surname(self, t: _Tok) -> bool:
        lw = t.lower
        return (
            t.text.islower()
            and self._known_last(lw)
            and lw not in self.word_names
            and lw not in self.lower_common
            and lw not in self.not_names
        )

    # -- helpers -----------------------------------------------------------------------------
    def _tokens(self, text: str) -> list[_Tok]:
        toks = []
        for m in _TOKEN_RE.finditer(text):
            w = _norm(m.group())
            end = m.end()
            if len(w) > 2 and w.lower().endswith("'s"):
                w, end = w[:-2], end - 2
            toks.append(_Tok(m.start(), end, w, w.lower()))
        return toks

    @staticmethod
    def _adjacent(text: str, a: _Tok, b: _Tok, allow_dot: bool = False) -> bool:
        gap = text[a.end : b.start]
        if a.end < b.start and text[a.end] in "'’":  # possessive ends the name
            return False
        return bool(re.fullmatch(r"\.?\s{1,2}" if allow_dot else r"\s{1,2}", gap))

    def _extend(self, text: str, toks: list[_Tok], i: int, lower_ok: bool, upper_ok: bool) -> int:
        """Return the index of the last token of the name starting at token ``i``."""
        j = i
        while j + 1 < len(toks) and j - i < 3:
            cur, nxt = toks[j], toks[j + 1]
            initial = len(cur.text) == 1 and cur.text.isupper()
            if not self._adjacent(text, cur, nxt, allow_dot=initial):
                break
            if cur.end < len(text) and text[cur.end] in "'’":
                break
            lw = nxt.lower
            if lw in self.particles and nxt.text.islower() and j + 2 < len(toks):
                after = toks[j + 2]
                if self._adjacent(text, nxt, after) and self._title_case(after) and lw not in self.common:
                    j += 2
                    continue
                break
            if lw in self.facility or lw in self.cue_words or lw in self.not_after_cue:
                break
            if len(nxt.text) == 1 and nxt.text.isupper():
                j += 1
                continue
            shaped = self._title_case(nxt) or (upper_ok and self._upper_name(nxt))
            if shaped and (self._known_last(lw) or self._known(lw) or lw not in self.common):
                if lw in _MONTHS or lw in _WEEKDAYS:
                    break
                j += 1
                continue
            if lower_ok and self._lower_surname(nxt):
                j += 1
                continue
            break
        return j

    def _followed_by_facility(self, text: str, toks: list[_Tok], j: int) -> bool:
        return j + 1 < len(toks) and toks[j + 1].lower in self.facility and self._adjacent(text, toks[j], toks[j + 1])

    def _preceded_by_place(self, text: str, toks: list[_Tok], i: int) -> bool:
        return (
            i > 0
            and toks[i - 1].lower in self.place_prefix
            and self._adjacent(text, toks[i - 1], toks[i], allow_dot=True)
        )

    # -- main ----------------------------------------------------------------------------------
    def find(self, text: str) -> list[tuple[int, int, float]]:
        """Return merged ``(start, end, score)`` person spans in ``text``."""
        letters = [c for c in text if c.isalpha()]
        shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
        work = text
        if shouting:
            titled = text.title()
            work = titled if len(titled) == len(text) else text
        toks = self._tokens(work)
        if not toks:
            return []
        by_start = {t.start: k for k, t in enumerate(toks)}
        spans: list[tuple[int, int, float]] = []
        taken: set[int] = set()

        def add(i: int, j: int, score: float) -> None:
            spans.append((toks[i].start, toks[j].end, score))
            taken.update(range(i, j + 1))

        def first_token_at(pos: int) -> int | None:
            while pos < len(work) and work[pos].isspace():
                pos += 1
            return by_start.get(pos)

        # 1. strong titles
        for k, t in enumerate(toks[:-1]):
            if t.lower not in self.strong_titles or k + 1 >= len(toks):
                continue
            if t.lower in self.cased_titles and not self._title_case(t):
                continue
            raw_after = work[t.end : t.end + 2]
            if raw_after[:1] in "'’":  # "Dr's were great"
                continue
            nxt = toks[k + 1]
            if not self._adjacent(work, t, nxt, allow_dot=True):
                continue
            if nxt.lower in self.particles and nxt.text.islower():
                # "Mr van der Berg", "Dr de Souza": the name starts with its particle(s)
                q = k + 1
                while (
                    q + 1 < len(toks)
                    and toks[q].lower in self.particles
                    and toks[q].text.islower()
                    and self._adjacent(work, toks[q], toks[q + 1])
                ):
                    q += 1
                if q > k + 1 and self._title_case(toks[q]) and toks[q].lower not in self.particles:
                    add(k + 1, self._extend(work, toks, q, lower_ok=False, upper_ok=True), 0.85)
                continue
            if t.lower in self.cased_titles:
                ok = self._nameish_after_cue(nxt, allow_upper=True) or (len(nxt.text) == 1 and nxt.text.isupper())
                lower = False
            else:
                ok = (
                    self._nameish_after_cue(nxt, allow_upper=True)
                    or (len(nxt.text) == 1 and nxt.text.isupper())
                    or self._lower_after_title(nxt)
                )
                lower = nxt.text.islower()
            if not ok:
                continue
            j = self._extend(work, toks, k + 1, lower_ok=lower, upper_ok=True)
            # a lone initial is not a name
            if j == k + 1 and len(nxt.text) == 1:
                continue
            if self._followed_by_facility(work, toks, j):
                continue
            add(k + 1, j, 0.85)

        # 2. relation / naming cues (lower case allowed)
        for m in self._strong_cue_re.finditer(work):
            i = first_token_at(m.end())
            if i is None or i in taken:
                continue
            t = toks[i]
            if self._nameish_after_cue(t, allow_upper=True) or (t.lower in self.ambiguous and self._title_case(t)):
                j = self._extend(work, toks, i, lower_ok=False, upper_ok=True)
                add(i, j, 0.85)
            elif self._lower_after_relation(t):
                j = self._extend(work, toks, i, lower_ok=True, upper_ok=False)
                add(i, j, 0.8)

        # 3. role cues / weak titles (capitalised names only)
        for m in self._weak_cue_re.finditer(work):
            i = first_token_at(m.end())
            if i is None or i in taken:
                continue
            t = toks[i]
            if self._nameish_after_cue(t, allow_upper=False) or (t.lower in self.ambiguous and self._title_case(t)):
                j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
                # "Nurse Sarah Ward" is a person; "thanks to Victoria Ward" is a place
                is_title = re.sub(r"\W+", " ", m.group()).strip().lower() in self.weak_titles
                if self._followed_by_facility(work, toks, j) and not is_title:
                    continue
                add(i, j, 0.75)

        # 4. name lists
        for i, t in enumerate(toks):
            if i in taken or len(t.text) < 2:
                continue
            if self._lower_no_cue(t):
                add(i, self._extend(work, toks, i, lower_ok=True, upper_ok=False), 0.6)
                continue
            if not self._title_case(t) or self._contraction(t):
                continue
            lw = t.lower
            if lw in self.not_names or self._preceded_by_place(work, toks, i):
                continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            nxt_ok = (
                nxt is not None
                and self._adjacent(work, t, nxt)
                and self._title_case(nxt)
                and self._known_last(nxt.lower)
                and nxt.lower not in self.common
                and nxt.lower not in self.ambiguous
                and work[t.end : t.end + 1] not in "'’"
            )
            if self._is_first(lw) and lw not in self.ambiguous and lw not in self.common:
                j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
                score = 0.7
            elif (lw in self.ambiguous and nxt_ok) or (
                nxt_ok
                and not self._known(lw)
                and lw not in self.common
                and lw not in self.cue_words
                and lw not in self.place_prefix
                and len(lw) >= 3
                and t.text.upper() not in self.acronyms
            ):
                j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
                score = 0.65
            else:
                continue
            if self._followed_by_facility(work, toks, j):
                continue
            add(i, j, score)

        # 5. coordination after a found name: "Sarah and Kowalczyk"
        changed = True
        while changed:
            changed = False
            for _s, e, score in list(spans):
                m = self._conj_re.match(work, e)
                if not m or m.end() == e:
                    continue
                i = by_start.get(m.end())
                if i is None or i in taken:
                    continue
                t = toks[i]
                if self._nameish_after_cue(t, allow_upper=False) and t.lower not in self.ambiguous:
                    j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
                    if not self._followed_by_facility(work, toks, j):
                        add(i, j, min(score, 0.7))
                        changed = True

        # merge overlapping/adjacent-identical spans
        spans.sort()
        merged: list[tuple[int, int, float]] = []
        for s, e, sc in spans:
            if merged and s < merged[-1][1]:
                ps, pe, psc = merged[-1]
                merged[-1] = (ps, max(pe, e), max(psc, sc))
            else:
                merged.append((s, e, sc))
        return merged


# ---------------------------------------------------------------------------------------------
# Presidio glue (imported lazily)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _CompiledPattern:
    name: str
    regex: re.Pattern[str]
    score: float
    validator: Callable[[str], str | None] | None
    cue: re.Pattern[str] | None
    cue_window: int
    cue_score: float


def _import_presidio() -> None:
    """Import Presidio without dragging in torch/transformers.

    presidio_analyzer imports its optional Hugging Face engine (and, through thinc, torch) when
    those packages are installed: ~6 s and ~1 GB we never use, since this redactor has no NER
    model. While Presidio is first imported, both are masked so their optional imports fail
    fast; the masks are removed straight after, so later ``import torch`` elsewhere works.
    """
    import sys

    if "presidio_analyzer.nlp_engine" in sys.modules:
        return
    masked = [m for m in ("torch", "transformers") if m not in sys.modules]
    for m in masked:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        importlib.import_module("presidio_analyzer")
        importlib.import_module("presidio_analyzer.nlp_engine")
        importlib.import_module("presidio_analyzer.predefined_recognizers")
        importlib.import_module("presidio_anonymizer")
    finally:
        for m in masked:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]


@lru_cache(maxsize=1)
def _presidio_classes() -> dict[str, type]:
    """Define the Presidio recognizer subclasses (needs presidio imported)."""
    _import_presidio()
    import tldextract
    from presidio_analyzer import EntityRecognizer, RecognizerResult
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, PhoneRecognizer

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """Presidio NLP engine over ``spacy.blank('en')`` (tokenizer only, nothing to download)."""

        def load(self) -> None:  # noqa: D102
            import spacy

            self.nlp = {"en": spacy.blank("en")}

    class RegexRecognizer(EntityRecognizer):
        """Config-driven regex recognizer: ``phi`` group span, validator, cue-window boost."""

        def __init__(self, entity: str, patterns: list[_CompiledPattern]) -> None:
            self.patterns = patterns
            super().__init__(
                supported_entities=[entity],
                name=f"Regex{entity.title().replace('_', '')}Recognizer",
                supported_language="en",
                version="1.0.0",
            )

        def load(self) -> None:  # noqa: D102
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            entity = self.supported_entities[0]
            out = []
            for p in self.patterns:
                for m in p.regex.finditer(text):
                    grp = "phi" if "phi" in p.regex.groupindex else 0
                    start, end = m.span(grp)
                    if start == end:
                        continue
                    value = text[start:end]
                    if p.validator is not None:
                        checked = p.validator(value)
                        if checked is None:
                            continue
                        end = start + len(checked)
                    score = p.score
                    if p.cue is not None and p.cue.search(text, max(0, start - p.cue_window), start):
                        score = max(score, p.cue_score)
                    out.append(
                        RecognizerResult(
                            entity,
                            start,
                            end,
                            score,
                            recognition_metadata={"recognizer_name": self.name, "pattern_name": p.name},
                        )
                    )
            return out

    class PersonRecognizer(EntityRecognizer):
        """Presidio wrapper around :class:`PersonFinder`."""

        def __init__(self, finder: PersonFinder) -> None:
            self.finder = finder
            super().__init__(
                supported_entities=["PERSON"],
                name="CuesAndNameListPersonRecognizer",
                supported_language="en",
                version="1.0.0",
            )

        def load(self) -> None:  # noqa: D102
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            return [
                RecognizerResult("PERSON", s, e, sc, recognition_metadata={"recognizer_name": self.name})
                for s, e, sc in self.finder.find(text)
            ]

    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's email recognizer, validating the domain against the bundled suffix snapshot."""

        def validate_result(self, pattern_text: str) -> bool:  # noqa: D102
            return offline_tld(pattern_text).fqdn != ""

    class ScoredPhoneRecognizer(PhoneRecognizer):
        """Presidio's python-phonenumbers recognizer with a configurable base score.

        Skips texts without a run of 7+ digits (most comments): phonenumbers' matcher is the
        most expensive recognizer and can only match such runs.
        """

        SCORE = 0.6
        _DIGITS = re.compile(r"\d(?:[\s().+\-]{0,3}\d){6}")

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            if not self._DIGITS.search(text):
                return []
            return super().analyze(text, entities, nlp_artifacts)

    class NoContextEnhancer(ContextAwareEnhancer):
        """Cue words are handled inside our recognizers (cue_regex); skip Presidio's lemma pass."""

        def __init__(self) -> None:
            super().__init__(0.0, 0.0, 0, 0)

        def enhance_using_context(
            self, text: str, raw_results: list, nlp_artifacts: Any, recognizers: list, context: list[str] | None = None
        ) -> list:  # noqa: D102
            return raw_results

    return {
        "nlp": BlankSpacyNlpEngine,
        "regex": RegexRecognizer,
        "person": PersonRecognizer,
        "email": OfflineEmailRecognizer,
        "phone": ScoredPhoneRecognizer,
        "no_context": NoContextEnhancer,
    }


def _compile_patterns(cfg: dict[str, Any], stop_words: Iterable[str] = ()) -> dict[str, list[_CompiledPattern]]:
    street_stop = frozenset(str(w).lower() for w in cfg.get("street_stop_words", []))
    validators: dict[str, Callable[[str], str | None]] = {
        "nhs_mod11": _v_nhs,
        "uk_phone": _v_uk_phone,
        "nanp_phone": _v_nanp_phone,
        "numeric_date": _v_numeric_date,
        "iso_date": _v_iso_date,
        "street_words": _make_street_validator(street_stop),
        "street_words_strict": _make_street_validator(street_stop | frozenset(stop_words)),
        "url_trim": _v_url_trim,
    }
    out: dict[str, list[_CompiledPattern]] = {}
    for entity, plist in cfg["patterns"].items():
        compiled = []
        for p in plist:
            flags = re.IGNORECASE if "ignore_case" in p.get("flags", []) else 0
            vname = p.get("validator")
            if vname is not None and vname not in validators:
                raise ValueError(f"unknown validator {vname!r} in pattern {p['name']!r}")
            compiled.append(
                _CompiledPattern(
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


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


class Redactor:
    """Offline PHI redactor built on Presidio's AnalyzerEngine and AnonymizerEngine.

    Args:
        config_path: Recognizer YAML (default ``models/privacy/recognizers.yaml``).
        allow_list: Site/service names never redacted (merged with the YAML allow-list).
    """

    def __init__(self, config_path: Path | None = None, allow_list: Iterable[str] = ()) -> None:
        # tldextract would otherwise try to download the public suffix list.
        if not os.environ.get("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "").strip():
            os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
        _import_presidio()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        self.config_path = Path(config_path or DEFAULT_CONFIG_PATH)
        self._cfg, raw = load_config(self.config_path)
        cfg = self._cfg
        self._placeholders: dict[str, str] = dict(cfg["placeholders"])
        self.entities: tuple[str, ...] = tuple(self._placeholders)
        self._threshold = float(cfg.get("score_threshold", 0.4))

        allow = {a.strip() for a in [*cfg.get("allow_list", []), *allow_list] if a and a.strip()}
        self.allow_list: tuple[str, ...] = tuple(sorted(allow, key=str.casefold))
        self._allow_re = (
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(
                    re.escape(a).replace(r"\ ", r"\s+").replace("'", "['’]")
                    for a in sorted(allow, key=len, reverse=True)
                )
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if allow
            else None
        )

        first, last = load_name_lists(cfg)
        from faker.providers.lorem.en_US import Provider as LoremProvider
        from spacy.lang.en.stop_words import STOP_WORDS

        self._finder = PersonFinder(cfg, first, last, extra_common=[*STOP_WORDS, *LoremProvider.word_list])

        digest = hashlib.sha256()
        digest.update(raw)
        for group in (sorted(first), sorted(last), sorted(a.casefold() for a in allow)):
            digest.update(b"\x00" + "\n".join(group).encode())
        self._hash = digest.hexdigest()
        self._config_sha256 = hashlib.sha256(raw).hexdigest()
        self._n_names = (len(first), len(last))

        classes = _presidio_classes()
        nlp_engine = classes["nlp"](models=[{"lang_code": "en", "model_name": "blank:en"}])
        nlp_engine.load()
        recognizers: list[Any] = [classes["person"](self._finder)]
        for entity, patterns in _compile_patterns(cfg, STOP_WORDS).items():
            recognizers.append(classes["regex"](entity, patterns))
        recognizers.append(classes["email"](supported_entity="EMAIL"))
        phone_cfg = cfg.get("phonenumbers") or {}
        if phone_cfg.get("regions"):
            phone = classes["phone"](
                supported_entity="PHONE",
                supported_regions=tuple(phone_cfg["regions"]),
                leniency=int(phone_cfg.get("leniency", 1)),
            )
            phone.SCORE = float(phone_cfg.get("score", 0.6))
            recognizers.append(phone)
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=["en"])
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp_engine,
            supported_languages=["en"],
            default_score_threshold=self._threshold,
            context_aware_enhancer=classes["no_context"](),
        )
        self._anonymizer = AnonymizerEngine()
        self._operators = {e: OperatorConfig("replace", {"new_value": ph}) for e, ph in self._placeholders.items()}
        self._recognizers = recognizers

    # -- audit ---------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Stable id of the recognizer set: presidio version + hash of config, name lists, allow-list."""
        return f"presidio-{_pkg_version('presidio-analyzer')}/recognizers-{self._hash[:8]}"

    def describe(self) -> dict:
        """Return recognizer names, versions, entity types and hashes for the run's audit record."""
        return {
            "version": self.version,
            "recognizer_set_sha256": self._hash,
            "config_path": str(self.config_path),
            "config_sha256": self._config_sha256,
            "entities": list(self.entities),
            "placeholders": dict(self._placeholders),
            "score_threshold": self._threshold,
            "allow_list": list(self.allow_list),
            "name_lists": {
                "source": f"faker {_pkg_version('faker')} person providers",
                "locales": list(self._cfg["names"].get("faker_locales", [])),
                "first_names": self._n_names[0],
                "surnames": self._n_names[1],
            },
            "nlp_engine": f"spacy {_pkg_version('spacy')} blank('en') tokenizer, no NER",
            "packages": {
                name: _pkg_version(name)
                for name in ("presidio-analyzer", "presidio-anonymizer", "spacy", "faker", "phonenumbers", "tldextract")
            },
            "recognizers": [
                {"name": r.name, "version": r.version, "entities": list(r.supported_entities)}
                for r in self._recognizers
            ],
        }

    # -- redaction -----------------------------------------------------------------------------
    def _analyze(self, text: str) -> list[Span]:
        results = self._analyzer.analyze(
            text=text, language="en", entities=list(self.entities), score_threshold=self._threshold
        )
        blocked = [m.span() for m in self._allow_re.finditer(text)] if self._allow_re else []
        cands = [r for r in results if r.end > r.start and not any(r.start < be and bs < r.end for bs, be in blocked)]
        # Overlaps: highest score wins, then the longer span.
        cands.sort(key=lambda r: (-r.score, -(r.end - r.start), r.start))
        kept: list[Any] = []
        for r in cands:
            if all(r.end <= k.start or k.end <= r.start for k in kept):
                kept.append(r)
        kept.sort(key=lambda r: r.start)
        return [Span(r.entity_type, r.start, r.end, round(float(r.score), 4)) for r in kept]

    def redact(self, text: str) -> Redaction:
        """Redact one text: every detected span is replaced by its entity placeholder.

        Raises:
            TypeError: if ``text`` is not a ``str`` (e.g. a missing value).
        """
        if not isinstance(text, str):
            raise TypeError(f"Redactor.redact expects str, got {type(text).__name__}")
        if not text.strip():
            return Redaction(text, ())
        spans = self._analyze(text)
        if not spans:
            return Redaction(text, ())
        from presidio_anonymizer.entities import RecognizerResult as AnonResult

        res = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[AnonResult(s.entity_type, s.start, s.end, s.score) for s in spans],
            operators=self._operators,
        )
        return Redaction(res.text, tuple(spans))

    def redact_many(self, texts: Sequence[str], progress: bool = False) -> list[Redaction]:
        """Redact many texts; identical texts are analysed once, output order matches input."""
        unique = list(dict.fromkeys(texts))
        iterator: Iterable[str] = unique
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(unique, desc="redact", unit="text")
        done = {t: self.redact(t) for t in iterator}
        return [done[t] for t in texts]

    def __repr__(self) -> str:
        return f"Redactor({self.version!r})"
