"""PERSON without an NER model: title, relation and role cues plus packaged name lists.

Pure Python (no Presidio, no spaCy): :class:`PersonFinder` is wrapped as a Presidio recognizer
in :mod:`pipelines.privacy.engine`. Every word list it uses comes from the ``names:`` and
``person:`` sections of ``models/privacy/recognizers.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipelines.privacy.names import fold as _fold
from pipelines.privacy.names import lower_set
from pipelines.privacy.names import normalise as _norm

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
_CALENDAR = _MONTHS | _WEEKDAYS
_MONTH_NAMES = frozenset({"april", "may", "june", "august", "jan", "jun"})
# Titles after which a capitalised ordinary word is a surname ("Dr Child", "Mrs Sweet").
_SURNAME_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor"})
# "Comfort was the nurse in charge", "April on the antenatal ward": a role or ward after a name.
_WAS = r"(?:(?:was|is)\s+)?"
_ON_WARD = (
    r"|on\s+the\s+(?:[a-z]+\s+){0,2}ward"
    # "April from the clinic", "May on the day unit", "June on ward 5", "... in the cancer centre reception"
    r"|(?:on|in|from|at)\s+(?:the\s+)?(?:[a-z&]+\s+){0,3}?(?:ward|unit|clinic|reception|desk|team|centre|center"
    r"|department|dept|suite|lounge|bay|theatres?)(?:\s+\d{1,3}[a-z]?)?(?=\s+(?:is|was|were|has|had|rang|called|came"
    r"|made|gave|took|always|never|really|so|very|did|does|helped|explained|sorted|looked|[a-z]+ed)\b)"
    r"|on\s+ward\s+\d{1,3}[a-z]?"
)
_AFTER_TITLE_RE = re.compile(r"\b(?:dr|mr|mrs|ms|miss|mx|mister|prof|professor)\.?[ \t]+$", re.IGNORECASE)
# Word-names that are also verbs or modals: never a name just because a role follows
# ("Will the doctor call?", "Sue the hospital", "Hope the nurse is ok").
_VERB_NAMES = frozenset(
    {"will", "may", "can", "hope", "sue", "rob", "chase", "grant", "mark", "bill", "pat", "drew", "jack", "frank"}
)
_TIME_WORDS = frozenset(
    {
        *("in", "on", "of", "since", "until", "till", "by", "last", "next", "early", "late", "mid", "this"),
        *("from", "during", "before", "after", "through", "throughout", "every", "each", "that", "since"),
    }
)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# Titles that are names only when capitalised ("Miss Jones", not "I miss home").
# Facility words that always make the words before them a place ("Nightingale Ward").
_CARE_PLACES = frozenset(
    [
        "ward",
        "wards",
        "unit",
        "wing",
        "hospital",
        "hospitals",
        "clinic",
        "centre",
        "center",
        "suite",
        "surgery",
        "practice",
        "department",
        "theatre",
        "theatres",
        "hospice",
        "infirmary",
        "trust",
        "foundation",
        "medical",
        "health",
        "healthcare",
        "memorial",
    ]
)
_CASED_TITLES = frozenset({"miss", "sir", "dame", "lady", "lord", "father", "fr"})
_CUE_SEPARATOR = r"(?:\s*[,:\-–(]\s*|\s+)"
# Dots inside as Instagram allows ("@jess.kowalczyk_rn"), but not a web address ("@example.co.uk").
_HANDLE_RE = re.compile(
    r"(?<![\w.@])@[A-Za-z0-9_]{2,30}(?:\.[A-Za-z0-9_]+)*(?<!\.(?:com|org|net|gov|edu|nhs))(?<!\.(?:uk|us|ie|io|au|nz|ca|za|co))(?![\w@]|\.[A-Za-z])"
)
# A hashtag, but never a CSS/HTML hex colour ("#fdca26", "#bad"): charts carry those.
_HEX_COLOUR = r"[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?(?:[0-9A-Fa-f]{2})?\b"
_HASHTAG_RE = re.compile(rf"(?<![\w#])#(?!{_HEX_COLOUR})[A-Za-z][A-Za-z0-9_]{{2,40}}")
# "Dolores,\n": a bare name opening a message or an e-mail (text start, after a blank line or a header line).
_SALUTATION_RE = re.compile(
    r"(?:\A|\n[ \t]*\n|^[A-Za-z][\w ]{0,20}:[^\n]*\n)[ \t]*([A-Z][^\W\d_]+),[ \t]*\r?\n", re.MULTILINE
)
# An e-mail address or a phone-like run of digits (the contact after a name in a details block).
_CONTACT_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+|(?<![\w+])\+?\(?\d[\d ()\-]{8,}\d(?!\w)")
# Initials in staff notes: a sign-off at a line end ("-dmw", "- AW/TK") or the subject of an action.
_INITIALS_RE = re.compile(
    r"(?:(?<=\s)|^)[-–—~][ \t]?([A-Za-z]{2,3})(?:/([A-Za-z]{2,3}))?[ \t]*\.?[ \t]*$"
    r"|(?<![\w/&.])([A-Z]{2,3})(?:/([A-Z]{2,3}))?\s+to\s+(?:call|review|discuss|search|investigate|follow|contact|speak"
    r"|update|chase|phone|ring|check|arrange|respond|reply|escalate|liaise|visit|send|e-?mail|meet|look|feed\s?back"
    r"|book|see|refer|organise|organize|process|complete|document|sort|action)\b"
    # a note headed by its writer's initials: "LB - pt called re invoice"
    r"|^[ \t]*([A-Z]{2,3})[ \t]+[-–:][ \t]+(?=[a-z])",
    re.MULTILINE,
)
# After a weekday or month used as a name: a break, "and", or a verb ("nurse Sunday came").
_CALENDAR_NAME_AFTER_RE = re.compile(r"\s*(?:[,.!;)]|$|(?:and|&|was|is|who|were|has|had|came|come|said|[a-z]+ed)\b)")
_PARTICLE_HYPHEN_RE = re.compile(r"(?:al|el|ul|ad|ud|as|abu|bin|ibn|da|de|di|du)-[^\W\d_]", re.IGNORECASE)

PersonSpan = tuple[int, int, float]  # (start, end, score)


def _non_latin(word: str) -> bool:
    """True if every letter of ``word`` is outside the Latin script (CJK, Arabic, Cyrillic, ...)."""
    if word.isascii():
        return False
    return all(c.isalpha() and not unicodedata.name(c, "LATIN").startswith("LATIN") for c in word)


def _accented_latin(word: str) -> bool:
    """True for a capitalised Latin-script word with a letter outside ASCII ("Stanisław", "Erzsébet")."""
    if word.isascii() or not word[:1].isupper():
        return False
    letters = [c for c in word if c.isalpha()]
    return all(unicodedata.name(c, "").startswith("LATIN") for c in letters) and any(ord(c) > 127 for c in letters)


# Words after an accented eponym that make it a condition, a scale or a place, not a person.
_EPONYM_FOLLOWERS = frozenset(
    {
        "syndrome", "disease", "palsy", "sign", "test", "scale", "score", "classification", "fracture",
        "procedure", "manoeuvre", "maneuver", "reflex", "criteria", "stage", "ward", "unit", "hospital",
        "clinic", "centre", "center", "street", "road", "avenue",
    }
)  # fmt: skip


# Before an accented capitalised word these make it a place ("we lived in Kraków"), not a person.
_PLACE_PREPOSITIONS = frozenset({"in", "near", "at", "outside", "around", "across", "visiting", "via", "into"})


@dataclass(frozen=True)
class _Tok:
    start: int
    end: int  # end of the name part (possessive 's excluded)
    text: str  # name part, apostrophes normalised
    lower: str


@dataclass
class _Scan:
    """One text being scanned: its tokens and the person spans found so far."""

    work: str
    toks: list[_Tok]
    by_start: dict[int, int]
    spans: list[PersonSpan] = field(default_factory=list)
    taken: set[int] = field(default_factory=set)
    shouting: bool = False  # an ALL-CAPS comment, analysed title-cased

    def add(self, i: int, j: int, score: float) -> None:
        """Record tokens ``i..j`` as one name."""
        self.spans.append((self.toks[i].start, self.toks[j].end, score))
        self.taken.update(range(i, j + 1))

    def first_token_at(self, pos: int) -> int | None:
        """Index of the token starting at ``pos`` (after any whitespace), or None."""
        while pos < len(self.work) and self.work[pos].isspace():
            pos += 1
        return self.by_start.get(pos)


def _alternation(phrases: Iterable[str]) -> str:
    """Regex alternation of ``phrases``, longest first, any whitespace between words."""
    items = sorted({str(x) for x in phrases}, key=len, reverse=True)
    return "|".join(re.escape(x).replace(r"\ ", r"\s+") for x in items)


def _merge(spans: list[PersonSpan]) -> list[PersonSpan]:
    """Merge overlapping spans (keeping the higher score), sorted by start."""
    merged: list[PersonSpan] = []
    for s, e, sc in sorted(spans):
        if merged and s < merged[-1][1]:
            ps, pe, psc = merged[-1]
            merged[-1] = (ps, max(pe, e), max(psc, sc))
        else:
            merged.append((s, e, sc))
    return merged


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
        english_words: Iterable[str] = (),
        any_names: Iterable[str] = (),
        foreign_words: Iterable[str] = (),
    ) -> None:
        self.first = first_names
        self.last = surnames
        # Whole words of an English (BERT) vocabulary: a lower-case word found there is an
        # ordinary word unless the name lists know it ("gym", "referral" vs "kwesi", "tayo").
        self.english = lower_set(english_words)
        self.any_names = lower_set(any_names)  # names of any locale (see ordinary_lower_words)
        self.foreign = lower_set(foreign_words)  # other languages' stop words (see ordinary_lower_words)
        self._load_word_lists(cfg["names"], cfg["person"], extra_common)
        self._compile_cues(cfg["person"])
        # "?" and "/" join spellings and pairs too: "Shivaun? Chevonne?", "Kasia/Rob".
        self._conj_re = re.compile(r"\s*(?:,\s*(?:and\s+|&\s*)?|\s+and\s+|\s+or\s+|\s*&\s*|\?\s+|\s*/\s*)")

    def _load_word_lists(self, n: dict[str, Any], p: dict[str, Any], extra_common: Iterable[str]) -> None:
        """Lower-cased word sets from the ``names:`` and ``person:`` config sections."""
        self.ambiguous = lower_set(n.get("ambiguous_first_names", []))
        self.word_names = lower_set(n.get("names_that_are_words", []))
        self.not_names = lower_set(n.get("not_names", [])) | _MONTHS | _WEEKDAYS
        self.strong_titles = lower_set(t.rstrip(".") for t in p["strong_titles"])
        self.cased_titles = _CASED_TITLES
        self.not_after_cue = lower_set(p.get("not_names_after_cue", []))
        self.suffixes = tuple(p.get("not_name_suffixes", []))
        self.facility = lower_set(p.get("facility_words", []))
        self.place_prefix = lower_set(t.rstrip(".") for t in p.get("place_prefixes", []))
        self.particles = lower_set(p.get("name_particles", []))
        self.acronyms = frozenset(str(a).upper() for a in p.get("acronyms", []))
        self.common = (
            lower_set(p.get("common_words", []))
            | lower_set(extra_common)
            | _MONTHS
            | _WEEKDAYS
            | self.not_after_cue
            | self.facility
        )
        self.weak_titles = lower_set(p.get("weak_titles", []))
        self.cue_words = self.strong_titles | self.weak_titles | lower_set(p.get("role_cues", []))
        self.verbs = lower_set(p.get("common_verbs", []))
        self.relations = lower_set(p["relations"])
        self.role_nouns = lower_set(p.get("role_nouns", []))
        self.role_modifiers = lower_set(p.get("role_modifiers", []))
        # Cues after which a lower-case unknown word may be a name ("nurse ngozi", "the porter kwesi").
        self.job_words = lower_set(p.get("job_cues", [])) | self.role_nouns | self.weak_titles
        self.name_followers = lower_set(p.get("name_followers", []))
        self.nickname_adjectives = lower_set(p.get("nickname_adjectives", []))
        self.determiners = lower_set(p.get("determiners", []))
        self.lower_acronyms = lower_set(p.get("acronyms", []))
        # Words trimmed from the edges of names-model spans (see name_core).
        self.never_names = self.cue_words | self.not_after_cue | self.relations | _MONTHS | _WEEKDAYS | self.facility
        self.never_names |= frozenset(w for w in self.job_words if " " not in w and not self._known(w))
        self.never_names |= frozenset(a.lower() for a in self.acronyms if not self._known(a.lower()))
        self.never_names |= frozenset(w for w in lower_set(p.get("field_labels", [])) if not self._known(w))
        self.never_names |= frozenset(
            w for w in lower_set(p.get("naming_cues", [])) if w.isalpha() and not self._known(w)
        )  # "esp", "aka", "called"
        self.lower_common = self.common | self.verbs
        # Never-names that are also name words when written like one beside a name (see _trim_edge).
        short_days = frozenset(d for d in _WEEKDAYS if len(d) <= 5 and not d.endswith("day"))
        self.name_shaped_never = (_MONTHS | short_days | self.lower_acronyms) - (
            self.cue_words | self.relations | self.facility | self.job_words
        )

    def _compile_cues(self, p: dict[str, Any]) -> None:
        """Relation/naming cue regex (strong) and role/weak-title cue regex (weak)."""
        alt = _alternation
        rel = (
            rf"(?<![\w'])(?:{alt(p['relation_determiners'])})\s+(?:(?:{alt(p['relation_modifiers'])})[\s\-]+){{0,2}}"
            rf"(?:{alt(p['relations'])})"
        )
        patterns = "".join(f"|(?<![\\w'])(?:{x})" for x in p.get("naming_cue_patterns", []))
        self._strong_cue_re = re.compile(
            rf"(?:{rel}|(?<![\w'])(?:{alt(p['naming_cues'])}){patterns}){_CUE_SEPARATOR}", re.IGNORECASE
        )
        weak = list(p.get("weak_titles", [])) + list(p.get("role_cues", [])) + list(p.get("job_cues", []))
        self._weak_cue_re = re.compile(rf"(?<![\w'])(?:{alt(weak)}){_CUE_SEPARATOR}", re.IGNORECASE)
        # Sign-offs and "my details" blocks: anywhere ("signed", "regards") or only where a line
        # or sentence starts ("From ...", "Name: ...", "Cheers, ...").
        self._signoff_re = re.compile(
            rf"(?:(?<![\w'])(?:{alt(p.get('signoff_cues', []))})"
            rf"|(?:^|(?<=[\n.!?;])|(?<=\s[-–—]))\s*(?:{alt(p.get('line_start_cues', []))}))"
            r"(?![\w'])[\s,:\-–—(]*",
            re.IGNORECASE,
        )
        # Role nouns after a name: "Obi Nwosu the porter", "Zbigniew on reception".
        # Also "... was the nurse in charge" and "... on the antenatal ward" (a ward with up to two words).
        self._role_after_re = re.compile(
            rf"(?<![\w'])(?:{_WAS}(?:the|our|my|a|one|their)\s+(?:(?:{alt(p.get('role_modifiers', []))})\s+){{0,2}}"
            rf"(?:{alt(p.get('role_nouns', []))})|(?:{alt(p.get('place_of_work', []))}){_ON_WARD})(?![\w'])",
            re.IGNORECASE,
        )

        # A role phrase after "<word-name> the": "... healthcare support worker", "... transport guy".
        jobs = {*p.get("job_cues", []), *p.get("role_nouns", []), *p.get("weak_titles", [])}
        self._apposition_re = re.compile(
            rf"\s+(?:(?:{alt(p.get('role_modifiers', []))})\s+){{0,2}}(?:{alt(jobs)})(?![\w'])", re.IGNORECASE
        )
        # ... and the verb that makes it the subject: "Chase the transport guy was hilarious"
        # (not "Chase the consultant re results", "Will the nurse call?").
        self._role_subject_re = re.compile(
            rf"\s+the{self._apposition_re.pattern}\s*,?\s+(?:was|is|were|has|had|did|does|came|come|went|made|gave|"
            r"took|got|kept|helped|explained|told|said|looked|stayed|sorted|showed|brought|always|never|really|"
            r"also|just|so|very|[a-z]+ed|on|at|from|in)\b",
            re.IGNORECASE,
        )

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
        if allow_dot and gap == "." and len(a.text) == 1 and a.text.isupper():  # "A.J. Patel"
            return True
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
            shaped = (
                self._title_case(nxt)
                or (upper_ok and self._upper_name(nxt))
                or bool(_PARTICLE_HYPHEN_RE.match(nxt.text))
            )
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
        """True if a facility word follows token ``j`` on the same line ("Victoria Wing")."""
        return (
            j + 1 < len(toks)
            and toks[j + 1].lower in self.facility
            and self._adjacent(text, toks[j], toks[j + 1])
            and "\n" not in text[toks[j].end : toks[j + 1].start]  # a field on the next line
        )

    def _preceded_by_place(self, text: str, toks: list[_Tok], i: int) -> bool:
        return (
            i > 0
            and toks[i - 1].lower in self.place_prefix
            and self._adjacent(text, toks[i - 1], toks[i], allow_dot=True)
        )

    def name_core(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """Trim a span found elsewhere (the names model) to its name part, or None if it has none.

        Words that are never names are trimmed from both edges (titles, relations, role cues,
        job words, months, weekdays: "nan edna" -> "edna"); a span that then reads as a place
        (a facility word follows, "Victoria Wing"; a place prefix precedes, "Royal Victoria",
        "St Thomas'") or is empty gives None.
        """
        toks = self._tokens(text)
        inside = [k for k, t in enumerate(toks) if start <= t.start < end]
        first, last = (inside[0], inside[-1]) if inside else (0, -1)
        while inside and self._trim_edge(text, toks, inside, 0):
            inside.pop(0)
        while inside and self._trim_edge(text, toks, inside, -1):
            inside.pop()
        if not inside or (len(inside) == 1 and toks[inside[0]].text == "I"):
            return None  # the pronoun, not an initial
        i, j = inside[0], inside[-1]
        if self._followed_by_facility(text, toks, j) or self._preceded_by_place(text, toks, i):
            return None
        return (start if i == first else toks[i].start), (end if j == last else toks[j].end)

    def _trim_edge(self, text: str, toks: list[_Tok], inside: list[int], at: int) -> bool:
        """True if the edge word ``inside[at]`` of a model span is no name.

        A word of :attr:`never_names` is trimmed, except a title-case month, weekday abbreviation or
        acronym joined to another name word of the span: "Mrs Sun Li-Na", "Li Na Sun", "April Jones".
        """
        t = toks[inside[at]]
        if t.lower not in self.never_names:
            return self._ordinary_edge(toks, inside, t)
        if t.lower not in self.name_shaped_never or not self._title_case(t) or len(inside) < 2:
            return True
        other = toks[inside[at + 1] if at == 0 else inside[at - 1]]
        pair = (t, other) if at == 0 else (other, t)
        blocked = other.lower in self.never_names and other.lower not in self.name_shaped_never
        return blocked or not self._adjacent(text, *pair)

    def _ordinary_edge(self, toks: list[_Tok], inside: list[int], t: _Tok) -> bool:
        """True for a lower-case ordinary word at the edge of a span with a capital ("Mrs Oyelaran rang").

        Ordinary: an English-vocabulary word that is no name in the lists or any locale, and no particle.
        """
        if not t.text.islower() or t.lower in self.particles:
            return False
        if not any(toks[k].text[:1].isupper() for k in inside):
            return False
        return t.lower in self.english and t.lower not in self.any_names and not self._known(t.lower)

    # -- main ----------------------------------------------------------------------------------
    def find(self, text: str) -> list[PersonSpan]:
        """Return merged ``(start, end, score)`` person spans in ``text``."""
        work = self._working_text(text)
        toks = self._tokens(work)
        if not toks:
            return []
        scan = _Scan(work, toks, {t.start: k for k, t in enumerate(toks)}, shouting=work != text)
        # social-media handles ("thanks @nurse_kate"); e-mail addresses are the EMAIL recognizer's
        handles = (m for m in _HANDLE_RE.finditer(work) if m.group()[1:].lower() not in self.lower_common)
        scan.spans.extend((m.start(), m.end(), 0.7) for m in handles)
        scan.spans.extend(
            (m.start(), m.end(), 0.7) for m in _HASHTAG_RE.finditer(work) if self._names_hashtag(m.group())
        )
        self._strong_titles(scan)
        self._signoffs(scan)
        self._salutation(scan)
        self._before_contact(scan)
        self._staff_initials(scan)
        self._relation_cues(scan)
        self._role_cues(scan)
        self._before_role(scan)
        self._other_scripts(scan)
        self._accented(scan)
        self._name_lists(scan)
        self._coordination(scan)
        return _merge(scan.spans)

    @staticmethod
    def _working_text(text: str) -> str:
        """ALL-CAPS comments are analysed title-cased (same length, so offsets still hold)."""
        letters = [c for c in text if c.isalpha()]
        shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
        if shouting:
            titled = text.title()
            return titled if len(titled) == len(text) else text
        return text

    # 1. strong titles ---------------------------------------------------------------------------
    def _strong_titles(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        for k, t in enumerate(toks[:-1]):
            if t.lower not in self.strong_titles:
                continue
            if t.lower in self.cased_titles and not self._title_case(t):
                continue
            if work[t.end : t.end + 1] in "'’":  # "Dr's were great"
                continue
            nxt = toks[k + 1]
            if not self._adjacent(work, t, nxt, allow_dot=True):
                continue
            if nxt.lower in self.particles and nxt.text.islower():
                self._particle_name(scan, k)
                continue
            j = self._name_after_title(scan, k)
            if j is not None:
                scan.add(k + 1, j, 0.85)

    def _particle_name(self, scan: _Scan, k: int) -> None:
        """Name after title ``k`` that starts with particle(s): "Mr van der Berg", "Dr de Souza"."""
        work, toks = scan.work, scan.toks
        q = k + 1
        while (
            q + 1 < len(toks)
            and toks[q].lower in self.particles
            and toks[q].text.islower()
            and self._adjacent(work, toks[q], toks[q + 1])
        ):
            q += 1
        if q > k + 1 and self._title_case(toks[q]) and toks[q].lower not in self.particles:
            scan.add(k + 1, self._extend(work, toks, q, lower_ok=False, upper_ok=True), 0.85)

    def _name_after_title(self, scan: _Scan, k: int) -> int | None:
        """Index of the last token of the name after title token ``k``, or None if there is none."""
        work, toks = scan.work, scan.toks
        t, nxt = toks[k], toks[k + 1]
        initial = len(nxt.text) == 1 and nxt.text.isupper()
        if self._lower_initial_name(work, toks, k + 1):
            return self._extend(work, toks, k + 2, lower_ok=True, upper_ok=False)
        if t.lower in self.cased_titles:
            ok = self._nameish_after_cue(nxt, allow_upper=True) or initial
            lower = False
        else:
            ok = self._nameish_after_cue(nxt, allow_upper=True) or initial or self._lower_after_title(nxt)
            lower = nxt.text.islower()
        if (
            not ok
            and t.lower.rstrip(".") in _SURNAME_TITLES
            and self._title_case(nxt)
            and not scan.shouting
            and nxt.lower in self.common
            and not ({nxt.lower} & (self.not_after_cue | self.cue_words | self.facility | _MONTHS | _WEEKDAYS))
        ):
            ok, lower = True, False  # "Dr Child": a surname that is an ordinary word
        if not ok and nxt.lower in _CALENDAR and self._title_case(nxt) and k + 2 < len(toks):
            after = toks[k + 2]
            ok = self._adjacent(work, nxt, after) and self._title_case(after) and self._nameish_after_cue(after, False)
        if not ok:
            return None
        j = self._extend(work, toks, k + 1, lower_ok=lower, upper_ok=True)
        if j == k + 1 and len(nxt.text) == 1:  # a lone initial is not a name
            return None
        if self._followed_by_facility(work, toks, j):
            if not self._surname_not_place(work, toks, j + 1):
                return None
            j += 1  # "Dr Hyun-woo Park explained": a surname that is also a place word
        return j

    def _surname_not_place(self, work: str, toks: list[_Tok], f: int) -> bool:
        """Facility word ``f`` after a titled name that is the end of the name, not a place.

        Only surnames that double as place words (Park, Hall, Field, ...) and only when no
        capitalised word follows; care places (Ward, Unit, Hospital, ...) never are.
        """
        fac = toks[f]
        if fac.lower in _CARE_PLACES or not self._title_case(fac) or not self._known_last(fac.lower):
            return False
        return f + 1 == len(toks) or not self._adjacent(work, fac, toks[f + 1]) or not self._title_case(toks[f + 1])

    # 2. relation / naming cues (lower case allowed) ---------------------------------------------
    def _relation_cues(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        for m in self._strong_cue_re.finditer(work):
            i = scan.first_token_at(m.end())
            if i is None or i in scan.taken:
                continue
            t = toks[i]
            if self._nameish_after_cue(t, allow_upper=True) or (t.lower in self.ambiguous and self._title_case(t)):
                scan.add(i, self._extend(work, toks, i, lower_ok=False, upper_ok=True), 0.85)
            elif self._lower_after_relation(t) or self._lower_name_here(scan, i) or self._called_word_name(scan, m, i):
                scan.add(i, self._extend(work, toks, i, lower_ok=True, upper_ok=False), 0.8)

    def _called_word_name(self, scan: _Scan, m: re.Match[str], i: int) -> bool:
        """A word-name after a role noun + "called": "the receptionist called dawn", "the lad called Dec"."""
        t = scan.toks[i]
        # or a month or weekday written as a name there: "the lad called Dec", "a nurse named Sunday"
        # (then a verb or a break: not "the nurse called Monday to check")
        calendar = (
            self._title_case(t)
            and t.lower in _CALENDAR
            and bool(re.match(r"\s*(?:[.!;)]|$|(?:was|is|who|were|has|had)\b)", scan.work[t.end :]))
        )
        if (
            not (t.text.islower() or calendar)
            or (t.lower not in self.first and t.lower not in self.ambiguous and not calendar)
            or not m.group().strip().lower().startswith(("called", "named"))
        ):
            return False
        before = re.findall(r"[^\W\d_]+", scan.work[max(0, m.start() - 40) : m.start()].lower())
        people = {"lady", "man", "woman", "girl", "boy", "guy", "chap", "bloke", "lad", "fella", "gent", "gentleman"}
        return bool(before) and before[-1] in self.job_words | people

    # 3. role cues / weak titles (capitalised names only) ----------------------------------------
    def _role_cues(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        for m in self._weak_cue_re.finditer(work):
            i = scan.first_token_at(m.end())
            if i is None or i in scan.taken:
                continue
            t = toks[i]
            cue = re.sub(r"[\W_]+", " ", m.group()).strip().lower()
            if cue.split(" ")[-1] in self.job_words and self._lower_name_here(scan, i):
                scan.add(i, self._extend(work, toks, i, lower_ok=True, upper_ok=False), 0.7)
                continue
            if not (
                self._nameish_after_cue(t, allow_upper=False)
                or (t.lower in self.ambiguous and self._title_case(t))
                or self._month_name(scan, i)
                or (cue.split(" ")[-1] in self.job_words and self._calendar_name(scan, i))
            ):
                continue
            if scan.shouting and not self._rare_word(t.lower):  # "THE DRIVER SHOUTED AT ..."
                continue
            j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
            # "Nurse Sarah Ward" is a person; "thanks to Victoria Ward" is a place
            is_title = re.sub(r"\W+", " ", m.group()).strip().lower() in self.weak_titles
            if self._followed_by_facility(work, toks, j) and not is_title:
                continue
            scan.add(i, j, 0.75)

    def _calendar_name(self, scan: _Scan, k: int) -> bool:
        """A capitalised weekday or month right after a job word, then a verb or a break: "nurse Sunday came".

        Nigerian, Ghanaian and Caribbean day names; not "the nurse Monday morning", "physio Tuesday 3pm".
        """
        t = scan.toks[k]
        if not self._title_case(t) or t.lower not in _CALENDAR or scan.shouting:
            return False
        return bool(_CALENDAR_NAME_AFTER_RE.match(scan.work, t.end))

    def _month_name(self, scan: _Scan, k: int) -> bool:
        """A capitalised month that is a first name here ("Jan and Kasia", "May on reception").

        Only April, May, June, August and Jan, never after a time word ("in May", "last June")
        nor before a number ("May 3rd", "June 2023").
        """
        t = scan.toks[k]
        if t.lower not in _MONTH_NAMES or not self._title_case(t) or scan.shouting:
            return False
        before = scan.work[max(0, t.start - 12) : t.start].lower().split()
        if before and (before[-1] in _TIME_WORDS or (before[-1] in ("to", "-", "and") and _MONTHS & set(before))):
            return False  # "in May", "from April to June", "April and May"
        return not re.match(r"\s*(?:\d|of\b|the\s+\d)", scan.work[t.end :])

    # 2b. sign-offs and "my details" blocks --------------------------------------------------------
    def _signoffs(self, scan: _Scan) -> None:
        """Names in sign-offs and details blocks: "Signed, T. Ramsbottom", "regards tony", "Name: ..."."""
        work, toks = scan.work, scan.toks
        for m in self._signoff_re.finditer(work):
            i = scan.first_token_at(m.end())
            # skip a title or relation word: "signed mrs e. higginbottom", "love from Nanna Pat"
            while (
                i is not None
                and i + 1 < len(toks)
                and (toks[i].lower in self.strong_titles or toks[i].lower in self.relations)
                and self._adjacent(work, toks[i], toks[i + 1], allow_dot=True)
            ):
                i += 1
            if i is None or i in scan.taken:
                continue
            j = self._signature_name(scan, i)
            if j is not None:
                scan.add(i, j, 0.8)
        self._closing_name(scan)

    def _salutation(self, scan: _Scan) -> None:
        r"""A message or e-mail that opens with a bare first name: "Dolores,\nPlease see below".

        The name is the first word of the text or of a line after an empty line or a header
        ("Subject: ..."), followed by a comma and a line break; a known first name or a word
        no English vocabulary has ("Hi," "Team," "All," are not names).
        """
        work, toks = scan.work, scan.toks
        for m in _SALUTATION_RE.finditer(work):
            k = scan.first_token_at(m.start(1))
            if k is None or k in scan.taken:
                continue
            t = toks[k]
            if t.lower in self.lower_common or t.lower in self.never_names:
                continue
            if self._title_case(t) and (
                t.lower in self.ambiguous
                or self._is_first(t.lower)
                or t.lower in self.any_names
                or self._rare_word(t.lower)
            ):
                scan.add(k, k, 0.7)

    def _staff_initials(self, scan: _Scan) -> None:
        """Staff initials in case notes: "-dmw", "- AW/TK" ending a line; "LB to search bay 3"; "LB - pt called ...".

        Two or three letters that are no acronym of the rule lists (GP, OT, PALS ...) and, in lower
        case, no English word.
        """
        work = scan.work
        for m in _INITIALS_RE.finditer(work):
            for g in (1, 2) if m.group(1) else (3, 4) if m.group(3) else (5,):
                init = m.group(g)
                if init is None or init.upper() in self.acronyms or init.lower() in self.lower_common:
                    continue
                if not init.isupper() and (not init.islower() or init in self.english):
                    continue  # "-mt", "-AW"; not "-Ok", "- me"
                k = scan.first_token_at(m.start(g))
                if k is not None and k not in scan.taken and scan.toks[k].end == m.end(g):
                    scan.add(k, k, 0.7)

    def _before_contact(self, scan: _Scan) -> None:
        r"""Names written right before an e-mail address or a phone number ("Contact: Tariq Mahmood 0161 ...").

        Up to three words on the same line (or alone on the line above) just before the contact,
        each a capitalised first name or a word the English vocabulary lacks ("Abimbola
        Adeleke-Johnson a.b@x.com"), or a lower-case first name or surname that is no English word
        ("aneela\n07700 900123"); "Ring 0161 ...", "phone 07700 ..." stay.
        """
        work, toks = scan.work, scan.toks
        ends = {t.end: k for k, t in enumerate(toks)}
        for m in _CONTACT_RE.finditer(work):
            gap = re.search(r"[ \t]*(?:[,:\-–(]|\n)?[ \t]*$", work[max(0, m.start() - 6) : m.start()])
            j = ends.get(m.start() - len(gap.group()))
            if j is None or j in scan.taken:
                continue
            i = j + 1
            while i - 1 >= 0 and j - (i - 1) < 3 and (i == j + 1 or self._adjacent(work, toks[i - 1], toks[i])):
                t = toks[i - 1]
                if t.lower in self.lower_common or t.lower in self.never_names or len(t.text) < 2:
                    break
                # not an English word unless a first name: "Ring 0161 ...", "phone 07700 ..." stay
                cased = self._title_case(t) and (self._is_first(t.lower) or t.lower not in self.english)
                lower = t.text.islower() and (self._is_first(t.lower) or self._known_last(t.lower))
                lower = lower and t.lower not in self.english
                if not (cased or lower) or (i - 1) in scan.taken:
                    break
                i -= 1
            if i > j:
                continue
            line_start = work.rfind("\n", 0, toks[i].start) + 1
            if re.fullmatch(r"[\s\-–•*>]*", work[line_start : toks[i].start]) or re.search(
                r"(?:[:,]|\b(?:me|on|at|is|by)|contact|details)\s*$", work[line_start : toks[i].start], re.IGNORECASE
            ):
                scan.add(i, j, 0.7)

    def _closing_name(self, scan: _Scan) -> None:
        """A message that ends with a first name alone, after its last sentence: "... the 21st. Jess".

        Portal messages, e-mails and cards are signed that way without "regards". The last word
        (trailing kisses and punctuation aside) must be a capitalised first name of the name lists,
        not a common word, with a sentence end or line break before it.
        """
        work, toks = scan.work, scan.toks
        k = len(toks) - 1
        while k > 0 and toks[k].lower in {"x", "xx", "xxx", "xo", "xoxo"}:
            k -= 1
        if k < 2 or k in scan.taken:
            return
        t = toks[k]
        if not self._title_case(t) or t.lower not in self.first or t.lower in self.lower_common:
            return
        if not re.fullmatch(r"[\s.!,x-]*", work[t.end :], re.IGNORECASE):
            return
        if re.search(r"[.!?\n]\s*$", work[toks[k - 1].end : t.start]):
            scan.add(k, k, 0.7)

    def _signature_name(self, scan: _Scan, i: int) -> int | None:
        """Last token of a signed name starting at token ``i`` (initials, any case), or None."""
        work, toks = scan.work, scan.toks
        j, cased = i - 1, False
        while j + 1 < len(toks) and j + 1 - i < 4:
            t = toks[j + 1]
            initial_dot = len(toks[j].text) == 1 and work[toks[j].end : t.start] == "."
            if (
                j >= i
                and not initial_dot
                and (
                    not self._adjacent(work, toks[j], t, allow_dot=len(toks[j].text) == 1)
                    or work[toks[j].end : toks[j].end + 1] in "'’"
                )
            ):
                break
            if len(t.text) == 1 and (t.text.isupper() or self._lower_initial(work, t)):
                j += 1
                continue
            if j >= i and t.lower in self.particles and t.text.islower():
                j += 1
                continue
            if self._nameish_after_cue(t, allow_upper=True) and t.lower not in self.relations:
                cased, j = True, j + 1
                continue
            if t.text.islower() and self._lower_signature_word(t, lenient=j >= i):
                j += 1
                continue
            break
        if j > i and all(len(toks[x].text) == 1 and toks[x].text.isupper() for x in range(i, j + 1)):
            tail = work[toks[j].end :].removeprefix(".")
            if all(work[toks[x].end : toks[x].end + 1] == "." for x in range(i, j)) and re.match(
                r"\s*(?:$|[\n(,]|[-–—])", tail
            ):
                return j  # initials alone where a signature ends: "Signed — D.O. (patient)"
        while j >= i and (len(toks[j].text) == 1 or toks[j].lower in self.particles):
            j -= 1
        if j < i:
            return None
        if not cased and not re.match(r"\s*(?:$|[\n(\d]|[-–—]|,\s*(?:\d|$)|x+\b|\.\s*$|!)", work[toks[j].end :]):
            return None  # a lower-case tail counts only where a signature ends
        return j

    def _rare_word(self, lw: str) -> bool:
        """Not an ordinary English word: known as a name, or absent from the English vocabulary."""
        if self._known(lw):
            return True
        if not self.english or lw in self.english or lw in self.job_words or re.fullmatch(r"x+", lw):
            return False
        return not lw.endswith(self.suffixes + ("al", "er", "ers", "ness", "ful", "less", "ous", "ive", "able"))

    def _names_hashtag(self, tag: str) -> bool:
        """A hashtag holding a known name among its CamelCase parts ("#NurseSarah", "#ThankYouPriya")."""
        parts = [w.lower() for w in re.findall(r"[A-Z][a-z]+|[a-z]+", tag[1:])]
        return any(
            (w in self.first or w in self.last) and w not in self.ambiguous and w not in self.lower_common
            for w in parts
        )

    def _lower_signature_word(self, t: _Tok, lenient: bool = False) -> bool:
        """A lower-case word that can end a signature ("regards jaswant"): not a common word or verb form.

        ``lenient``: after a first name word, an English-vocabulary word may follow ("kaur gill").
        """
        lw = t.lower
        if lw in self.lower_common or lw in self.not_names or lw in self.lower_acronyms or self._contraction(t):
            return False
        if self._known(lw):
            return True
        return len(lw) >= 3 and not lw.endswith(("ed", "ing", "ly", "'s")) and (lenient or self._rare_word(lw))

    @staticmethod
    def _lower_initial(work: str, t: _Tok) -> bool:
        """A lower-case initial: one letter other than "a"/"i", or any letter with a full stop."""
        return t.text.islower() and (t.text not in ("a", "i") or work[t.end : t.end + 1] == ".")

    def _lower_initial_name(self, work: str, toks: list[_Tok], k: int) -> bool:
        """Token ``k`` is a lower-case initial followed by a lower-case surname ("e. higginbottom")."""
        if k + 1 >= len(toks) or len(toks[k].text) != 1 or not toks[k].text.islower():
            return False
        nxt = toks[k + 1]
        if not self._adjacent(work, toks[k], nxt, allow_dot=True) or not self._lower_after_title(nxt):
            return False
        # "mrs a samelova": "a"/"i" after a title only before a word that is not English
        return self._lower_initial(work, toks[k]) or self._rare_word(nxt.lower)

    # 3b. a name before its role: "Obi Nwosu the porter", "Zbigniew on reception" ------------------
    def _before_role(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        ends = {t.end: k for k, t in enumerate(toks)}
        for m in self._role_after_re.finditer(work):
            gap = re.search(r"\s*,?\s*\(?\s*$", work[max(0, m.start() - 8) : m.start()])
            j = ends.get(m.start() - len(gap.group()) if gap else m.start())
            if j is None or j in scan.taken or work[toks[j].end : toks[j].end + 1] in "'’":
                continue
            i = j + 1
            while (
                i - 1 >= 0
                and j - i < 2
                and i - 1 not in scan.taken
                and (i == j + 1 or self._adjacent(work, toks[i - 1], toks[i], allow_dot=len(toks[i - 1].text) == 1))
                and self._name_before_role(scan, i - 1, i - 1 < j)
            ):
                i -= 1
            while i <= j and len(toks[i].text) == 1:
                i += 1
            if i > j or self._preceded_by_place(work, toks, i):
                continue
            lower = any(toks[k].text.islower() for k in range(i, j + 1))
            start = toks[i - 1].end if i > 0 else 0
            if lower and not (i == 0 or re.search(r"[.!?\n]\s*$", work[start : toks[i].start])):
                continue  # lower case only where the name starts the comment or a sentence
            scan.add(i, j, 0.75)

    def _name_before_role(self, scan: _Scan, k: int, inner: bool) -> bool:
        """Token ``k`` can be part of a name just before a role phrase (``inner``: not its last word)."""
        t = scan.toks[k]
        prev_end = scan.toks[k - 1].end if k else 0
        sentence_start = k == 0 or bool(re.search(r"[.!?\n]\s*$", scan.work[prev_end : t.start]))
        if t.lower in self.relations or t.lower in self.place_prefix or t.lower in self.job_words:
            return False
        if len(t.text) == 1:
            return inner and t.text.isupper()
        if self._month_name(scan, k):  # "May on reception", "June the HCA"
            return True
        if t.lower in self.lower_common:  # "Good scan, the lady was nice"
            return False
        if t.lower in self.ambiguous:  # "Will the doctor call?"; "Grace Adeleke the nurse"; "Dawn the HCA"
            if not inner and t.lower in _VERB_NAMES and self._title_case(t) and not scan.shouting:
                return bool(self._role_subject_re.match(scan.work, t.end))  # "Rob the HCA was kind"
            if inner or t.lower in _VERB_NAMES or not self._title_case(t) or scan.shouting:
                return inner and self._title_case(t)
            return bool(re.match(r"\s+(?:(?:was|is)\s+)?the\s", scan.work[t.end :]))  # "Comfort was the nurse"
        if (sentence_start or t.text.islower() or scan.shouting) and not self._rare_word(t.lower):
            return False  # "Sack the call handler", "good scan the lady was nice"
        if self._nameish_after_cue(t, allow_upper=False):
            return True
        return t.text.islower() and self._lower_after_title(t) and t.lower not in self.lower_acronyms

    def _lower_name_here(self, scan: _Scan, i: int) -> bool:
        """Lower-case token ``i`` after a job cue is a name.

        A known first name, or an unknown word that is not a common word and is followed by
        what follows names ("was", ",", the end).
        """
        t = scan.toks[i]
        if not t.text.islower() or t.lower in self.lower_acronyms or not self._lower_after_title(t):
            return False
        if self._lower_after_relation(t):
            return True
        if not self._rare_word(t.lower):
            return False
        rest = scan.work[t.end :]
        if re.match(r"\s*(?:$|[,.!)\n;:(]|-\s)", rest):
            return True
        nxt = re.match(r"\s+([^\W\d_]+)", rest)
        return bool(nxt) and nxt.group(1).lower() in self.name_followers

    def ordinary_lower_words(self, span_text: str) -> bool:
        """True if a span is only lower-case English words that are no name anywhere ("calm", "rang").

        Other languages' stop words count as ordinary words too ("cuando", "agus", "yn"): comments
        written partly in Spanish, Irish or Welsh.

        Words known to the rule lists, the ambiguous names or any Faker locale's names
        ("abdullah", "rosa", "vi tang") are names; without ``any_names`` this is never true.
        """
        words = [_norm(w) for w in _TOKEN_RE.findall(span_text)]
        return (
            bool(words)
            and bool(self.any_names)
            and all(
                w.islower()
                and (w in self.english or _fold(w) in self.foreign)
                and w not in self.any_names
                and not self._known(w)
                for w in words
            )
        )

    def foreign_text(self, text: str) -> bool:
        """True if ``text`` reads as another language: 2+ words, and >= 20%, are other languages' stop words.

        Only words of 3+ letters that are no common English word count ("muy", "cuando", "agus"; not
        "the", "was", nor the "u", "r", "x" of text speak).
        """
        words = [_norm(w).lower() for w in _TOKEN_RE.findall(text)]
        foreign = sum(len(w) >= 3 and _fold(w) in self.foreign and w not in self.lower_common for w in words)
        return foreign >= 2 and foreign >= 0.2 * len(words)

    def foreign_words_out(self, text: str, start: int, end: int, foreign_comment: bool) -> list[tuple[int, int]]:
        """A names-model span without the lower-case ordinary words of a sentence in another language.

        "la enfermera Rocío fue muy amable" -> "Rocío"; "no me hizo caso cuando pedí agua" -> nothing.
        Where the sentence (or the whole comment) reads as Spanish, Polish, Irish, Welsh ..., a
        lower-case word that is no name of any Faker locale nor of the rule lists is a word there,
        however rare in English; capitalised words and lower-case name words stay.
        ``foreign_comment``: :meth:`foreign_text` of the whole comment (computed once per comment).
        """
        if not self.foreign or not self.any_names:
            return [(start, end)]
        left = max(text.rfind(c, 0, start) for c in ".!?\n") + 1
        stops = [i for i in (text.find(c, end) for c in ".!?\n") if i != -1]
        if not (foreign_comment or self.foreign_text(text[left : min(stops, default=len(text))])):
            return [(start, end)]
        parts: list[tuple[int, int]] = []
        for m in _TOKEN_RE.finditer(text, start, end):
            w = _norm(m.group()).lower()
            if m.group().islower() and w not in self.any_names and not self._known(w):
                continue
            if parts and re.fullmatch(r"[\s.\-'’]*", text[parts[-1][1] : m.start()]):
                parts[-1] = (parts[-1][0], m.end())
            else:
                parts.append((m.start(), m.end()))
        return parts

    @staticmethod
    def after_title(text: str, start: int) -> bool:
        """True if a personal title ends right before ``start`` ("mrs ng", "Dr Parkinson's")."""
        return bool(_AFTER_TITLE_RE.search(text[max(0, start - 12) : start]))

    def word_not_name(self, text: str, start: int, end: int) -> bool:
        """True for a name that is a word, starting a sentence before a word no name is followed by.

        "Rose garden ...", "Frank conversation ...", "Daisy chain ...", "Rose early ...": the span
        is one word of ``ambiguous_first_names``/``names_that_are_words`` at the start of a
        sentence, and the next word is an ordinary lower-case English word that is not a verb
        form ("-s", "-ed", irregular pasts) nor one of ``name_followers``. Used on names-model
        spans ("Rose gave me my morphine", "Grace, the HCA, ..." stay names).
        """
        word = text[start:end]
        lw = _norm(word).lower().removesuffix("'s")
        if not word[:1].isupper() or not (lw in self.ambiguous or lw in self.word_names):
            return False
        if start and not re.search(r"(?:^|[.!?\n])\s*$", text[max(0, start - 4) : start]):
            return False
        m = re.match(r" ([a-z]+)\b(?![-'’])", text[end:])
        if not m:
            return False
        nxt = m.group(1)
        verbish = nxt.endswith(("s", "ed")) or nxt in self.verbs or nxt in self.name_followers
        if nxt in self.determiners and self._role_apposition(text, end + m.end()):
            return False
        return nxt in self.english and not verbish and nxt not in self.cue_words and nxt not in self.job_words

    def _role_apposition(self, text: str, pos: int) -> bool:
        """True if a job word follows ``pos`` (after a determiner) in a sentence that asks nothing.

        "Bill the volunteer on the front desk showed me", "Will the porter wheeled me down": the
        word-name before "the <role>" is the role's name; "Will the doctor call me?" asks.
        """
        # up to two modifiers first: "Rob the healthcare support worker", "Chase the transport guy"
        if not self._apposition_re.match(text, pos):
            return False
        sentence = re.match(r"[^.!?\n]*[.!?\n]?", text[pos:])
        return not (sentence and sentence.group().endswith("?"))

    # 7. around a name found by rules or model: "Châu, Ahmed-Filipova, Sadina", "Mercy Magić" ---------
    def grow(self, text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """New name spans next to ``spans``: names listed after them, and a first name just before.

        Listed: ", X", " and X", " & X", " or X" where X is capitalised and not a common word
        (nor an English-vocabulary word unless the name lists know it). After: such a word
        directly after a span ("Mercy Magić"). Before: a known first name (also an ambiguous
        one) directly before a capitalised span.
        """
        work = self._working_text(text)
        toks = self._tokens(work)
        starts = {t.start: k for k, t in enumerate(toks)}
        ends = {t.end: k for k, t in enumerate(toks)}
        spans = list(spans)
        covered = [False] * len(text)
        for s, e in spans:
            covered[s:e] = [True] * (e - s)
        out: list[tuple[int, int]] = []
        for s, e in spans:
            m = self._conj_re.match(work, e)
            k = starts.get(m.end()) if m and m.end() > e else None
            if k is not None and not covered[toks[k].start]:
                t = toks[k]
                if self._title_case(t) and self._nameish_after_cue(t, allow_upper=False) and self._rare_word(t.lower):
                    out.append((t.start, toks[self._extend(work, toks, k, lower_ok=False, upper_ok=False)].end))
                elif t.lower in _MONTH_NAMES and self._title_case(t) and re.match(r",|\s+(?:and|&)\s", work[t.end :]):
                    out.append((t.start, t.end))  # a month-name inside a list of names: "Marisol, Jun, Ahmed"
            k = starts.get(e + 1) if work[e : e + 1] == " " else None
            if k is not None and not covered[toks[k].start] and work[e - 1 : e].isalpha():
                t = toks[k]  # "Mercy Magić": a surname the span stopped before
                if (
                    self._title_case(t)
                    and t.lower not in self.never_names
                    and self._nameish_after_cue(t, allow_upper=False)
                    and (self._known_last(t.lower) or self._rare_word(t.lower))
                ):
                    out.append((t.start, t.end))
            k = starts.get(e + 1) if work[e : e + 1] == " " else None
            if k is not None and k + 1 < len(toks) and not covered[toks[k].start] and work[e - 1 : e].isalpha():
                out.extend(self._saint_surname(work, toks, k))
            gap = re.search(r"[ \t]$", work[max(0, s - 1) : s])
            j = ends.get(s - 1) if gap else None
            if j is not None and not covered[toks[j].start] and work[s : s + 1].isupper():
                out.extend(self._nickname_adjective(work, toks, j))
                if toks[j].lower in self.particles and toks[j].lower != "st":
                    out.append((toks[j].start, toks[j].end))  # "the Ó Súilleabháin family", "de Souza"
            if j is not None and not covered[toks[j].start] and self._title_case(toks[j]) and work[s : s + 1].isupper():
                t = toks[j]
                if (t.lower in self.first or t.lower in self.ambiguous) and t.lower not in self.never_names:
                    out.append((t.start, t.end))
        return out

    def _saint_surname(self, work: str, toks: list[_Tok], k: int) -> list[tuple[int, int]]:
        """A saint surname after a name ("St John-Smythe"): prefix ``k`` + a capitalised word, no place."""
        t, nxt = toks[k], toks[k + 1]
        if (
            t.lower not in ("st", "saint")
            or not self._title_case(t)
            or not re.fullmatch(r"\.?\s", work[t.end : nxt.start])
            or not self._title_case(nxt)
            or work[nxt.end : nxt.end + 1] in "'’"  # "St Mary's"
            or self._followed_by_facility(work, toks, k + 1)
            or nxt.lower in self.never_names
        ):
            return []
        return [(t.start, nxt.end)]

    def _nickname_adjective(self, work: str, toks: list[_Tok], j: int) -> list[tuple[int, int]]:
        """A nickname adjective ``j`` right before a name ("Big Tel"), with no determiner before it."""
        t = toks[j]
        if t.lower not in self.nickname_adjectives:
            return []
        if j > 0 and toks[j - 1].lower in self.determiners and re.fullmatch(r"\s+", work[toks[j - 1].end : t.start]):
            return []  # "my big brother", "the little one"
        return [(t.start, t.end)]

    # 6. the same name again: "Sandra was great. Sandra Okoye deserves a medal" -------------------
    def propagate(self, text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Other occurrences (any case) of the name words of ``spans`` in ``text``, as new spans.

        A word that is also a common word or an ambiguous name ("Will", "Rose", "Grace") is
        repeated only with the same capitalisation and not at the start of a sentence.
        """
        spans = list(spans)
        toks = self._tokens(self._working_text(text))
        covered = [False] * len(text)
        for s, e in spans:
            covered[s:e] = [True] * (e - s)
        found: dict[str, str] = {}
        for t in toks:
            if covered[t.start] and len(t.text) >= 2 and t.lower not in self.never_names:
                found.setdefault(t.lower, text[t.start : t.end])
        out = []
        for k, t in enumerate(toks):
            if t.lower not in found or covered[t.start]:
                continue
            risky = t.lower in self.lower_common or t.lower in self.ambiguous or t.lower in self.word_names
            if risky:
                prev_end = toks[k - 1].end if k else 0
                initial = k == 0 or bool(re.search(r"[.!?\n]\s*$", text[prev_end : t.start]))
                if initial or text[t.start : t.end] != found[t.lower]:
                    continue
            j = self._extend(text, toks, k, lower_ok=t.text.islower(), upper_ok=False)
            out.append((t.start, toks[j].end))
        return out + self._short_forms(text, toks, found, covered)

    def _short_forms(
        self, text: str, toks: list[_Tok], found: dict[str, str], covered: list[bool]
    ) -> list[tuple[int, int]]:
        """Capitalised short forms of found name words ("Reg" of "Reginald", "Zsófi" of "Zsófia").

        The word must be 3+ letters, at least two shorter than the found word, not start a sentence
        and not be a common word unless it stands in brackets or quotes.
        """
        out = []
        for k, t in enumerate(toks):
            if covered[t.start] or len(t.text) < 3 or not self._title_case(t) or t.lower in self.never_names:
                continue
            if not any(len(f) >= len(t.lower) + 2 and f.startswith(t.lower) for f in found):
                continue
            prev_end = toks[k - 1].end if k else 0
            if k == 0 or re.search(r"[.!?\n]\s*$", text[prev_end : t.start]):
                continue
            quoted = text[t.start - 1 : t.start] in "(\"'“‘" and t.start > 0
            if t.lower in self.lower_common and not quoted:
                continue
            out.append((t.start, t.end))
        return out

    # 3c. words in other scripts: "my mum 王秀英", "Dr محمد" ----------------------------------------
    def _other_scripts(self, scan: _Scan) -> None:
        """Runs of words written wholly outside the Latin script are taken as names.

        The rules and the names model read English; a word in Chinese, Arabic, Cyrillic or
        Devanagari script in a UK or US comment is most often a name, and cannot be checked.
        """
        if scan.work.isascii():
            return
        toks = scan.toks
        k = 0
        while k < len(toks):
            if k in scan.taken or not _non_latin(toks[k].text):
                k += 1
                continue
            j = k
            while (
                j + 1 < len(toks) and _non_latin(toks[j + 1].text) and self._adjacent(scan.work, toks[j], toks[j + 1])
            ):
                j += 1
            scan.add(k, j, 0.6)
            k = j + 1

    def _accented(self, scan: _Scan) -> None:
        """Capitalised words with letters outside ASCII, inside a sentence, are taken as names.

        "thank you for all you did for Stanisław", "kept asking for 'Erzsébet'". The name lists
        and the names model know few Polish, Hungarian, Turkish, Vietnamese or Nordic spellings; in
        the hand-written corpora of five writers, 181 capitalised accented words were names and 17
        were not (thank-yous in other languages, eponyms such as Guillain-Barré, Sjögren's). So: not
        at the start of a sentence or line (where a foreign "Teşekkürler" stands), not a common word
        (the English word list is not asked: it holds names such as "Stanisław"), not a possessive,
        not after "in", "near", "at" ("we lived in Kraków"),
        and not before syndrome, disease, ward, street and the like.
        """
        if scan.work.isascii():
            return
        work, toks = scan.work, scan.toks
        for k, t in enumerate(toks):
            if k in scan.taken or not _accented_latin(t.text) or t.lower in self.lower_common:
                continue
            prev_end = toks[k - 1].end if k else 0
            if k == 0 or re.search(r"[.!?\n:]\s*[\"'“‘(]?\s*$", work[prev_end : t.start]):
                continue  # sentence or line start
            if work[t.end : t.end + 2] in ("'s", "’s") or (k and toks[k - 1].lower in _PLACE_PREPOSITIONS):
                continue
            nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
            if nxt in _EPONYM_FOLLOWERS or "-" in t.text and nxt in _EPONYM_FOLLOWERS:
                continue
            scan.add(k, k, 0.6)

    # 4. name lists ------------------------------------------------------------------------------
    def _name_lists(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        for i, t in enumerate(toks):
            if i in scan.taken or len(t.text) < 2:
                continue
            if self._lower_no_cue(t):
                scan.add(i, self._extend(work, toks, i, lower_ok=True, upper_ok=False), 0.6)
                continue
            score = self._list_name_score(scan, i)
            if score is None:
                continue
            j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
            if not self._followed_by_facility(work, toks, j):
                scan.add(i, j, score)

    def _list_name_score(self, scan: _Scan, i: int) -> float | None:
        """Score for a capitalised name starting at token ``i`` by the name lists, or None."""
        work, toks = scan.work, scan.toks
        t = toks[i]
        if not self._title_case(t) or self._contraction(t):
            return None
        lw = t.lower
        if lw in self.not_names or self._preceded_by_place(work, toks, i):
            return None
        if self._is_first(lw) and lw not in self.ambiguous and lw not in self.common:
            return 0.7
        if not self._known_surname_follows(work, toks, i):
            return None
        unknown_then_surname = (
            not self._known(lw)
            and lw not in self.common
            and lw not in self.cue_words
            and lw not in self.place_prefix
            and len(lw) >= 3
            and t.text.upper() not in self.acronyms
        )
        return 0.65 if lw in self.ambiguous or unknown_then_surname else None

    def _known_surname_follows(self, work: str, toks: list[_Tok], i: int) -> bool:
        """True if token ``i`` is directly followed by a capitalised known surname ("Will Smith")."""
        if i + 1 >= len(toks):
            return False
        t, nxt = toks[i], toks[i + 1]
        return (
            self._adjacent(work, t, nxt)
            and self._title_case(nxt)
            and self._known_last(nxt.lower)
            and nxt.lower not in self.common
            and nxt.lower not in self.ambiguous
            and work[t.end : t.end + 1] not in "'’"
        )

    # 5. coordination after a found name: "Sarah and Kowalczyk" ----------------------------------
    def _coordination(self, scan: _Scan) -> None:
        work, toks = scan.work, scan.toks
        changed = True
        while changed:
            changed = False
            for _s, e, score in list(scan.spans):  # noqa: B007
                m = self._conj_re.match(work, e)
                if not m or m.end() == e:
                    continue
                i = scan.by_start.get(m.end())
                if i is None or i in scan.taken:
                    continue
                t = toks[i]
                lower_prev = work[_s:e].islower()
                if lower_prev and self._lower_name_here(scan, i):
                    scan.add(i, self._extend(work, toks, i, lower_ok=True, upper_ok=False), min(score, 0.7))
                    changed = True
                    continue
                listed = "," in m.group() or "&" in m.group() or self._title_case(t)
                if self._month_name(scan, i) or (
                    self._nameish_after_cue(t, allow_upper=False) and (t.lower not in self.ambiguous or listed)
                ):
                    j = self._extend(work, toks, i, lower_ok=False, upper_ok=False)
                    if not self._followed_by_facility(work, toks, j):
                        scan.add(i, j, min(score, 0.7))
                        changed = True
