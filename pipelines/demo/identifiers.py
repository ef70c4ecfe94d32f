"""Planted fictional identifiers (the PHI pattern): one sentence per plant, and what it planted.

Names, streets and templates come from ``data/identifiers.yaml``; the number formats are code:
NHS numbers in the unissued 9xx range with a valid mod-11 check digit, Ofcom drama phone ranges,
``example.*`` e-mail domains.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from typing import Any

from pipelines.demo import phrases
from pipelines.demo.draw import Draw, cumulative
from pipelines.demo.text import cap

PHI_TYPES: tuple[str, ...] = (
    "name",
    "nhs_number",
    "phone",
    "email",
    "postcode",
    "date_of_birth",
    "hospital_number",
    "address",
)
_PHI_TYPES_CUM = cumulative((35, 12, 12, 8, 8, 10, 8, 7))
_POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_MONTH_NAMES = tuple(calendar.month_name)[1:]

Planted = list[tuple[str, str]]  # (identifier type, exact string planted)


def _bank() -> dict[str, Any]:
    return phrases.load("identifiers")


def _nhs_number(d: Draw) -> str:
    while True:
        digits = [9] + [d.below(10) for _ in range(8)]
        check = 11 - sum(v * (10 - i) for i, v in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, digits)) + str(check)
            style = d.below(3)
            if style == 0:
                return f"{s[:3]} {s[3:6]} {s[6:]}"
            if style == 1:
                return s
            return f"{s[:3]}-{s[3:6]}-{s[6:]}"


def _phone(d: Draw) -> str:
    x = d.below(1000)
    return (
        f"07700 900{x:03d}",
        f"+44 7700 900{x:03d}",
        f"07700900{x:03d}",
        f"020 7946 0{x:03d}",
        f"+44 20 7946 0{x:03d}",
        f"(0161) 496 0{x:03d}",
        f"0113 496 0{x:03d}",
        f"0117 496 0{x:03d}",
    )[d.below(8)]


def _postcode(d: Draw) -> str:
    unit = d.pick(_POSTCODE_UNIT_LETTERS) + d.pick(_POSTCODE_UNIT_LETTERS)
    if d.chance(0.2):
        return f"{d.pick(_bank()['london_areas'])}{d.between(1, 9)}{d.pick('ABCEHMNPRVWXY')} {d.below(10)}{unit}"
    return f"{d.pick(_bank()['postcode_areas'])}{d.between(1, 29)} {d.below(10)}{unit}"


def _dob(d: Draw) -> str:
    year, month, day = d.between(1930, 2005), d.between(1, 12), d.between(1, 28)
    style = d.below(3)
    if style == 0:
        return f"{day:02d}/{month:02d}/{year}"
    if style == 1:
        return f"{day} {_MONTH_NAMES[month - 1]} {year}"
    return f"{year}-{month:02d}-{day:02d}"


def _with_template(d: Draw, kind: str, value: str) -> tuple[str, Planted]:
    """``value`` in one of the sentence templates of ``kind``."""
    return d.pick(_bank()["templates"][kind]).format(v=value), [(kind, value)]


def _name_sentence(d: Draw) -> tuple[str, Planted]:
    bank = _bank()
    name = f"{d.pick(bank['first_names'])} {d.pick(bank['last_names'])}"
    if d.chance(0.5):
        cue = d.pick(bank["family_cues"])
        tpl = d.pick(bank["templates"]["name_family"])
        return tpl.format(cue=cue, Cue=cap(cue), name=name), [("name", name)]
    return d.pick(bank["templates"]["name_staff"]).format(cue=d.pick(bank["staff_cues"]), name=name), [("name", name)]


def _email_sentence(d: Draw) -> tuple[str, Planted]:
    bank = _bank()
    first, last = d.pick(bank["first_names"]), d.pick(bank["last_names"])
    # The three candidates are built (one draw for the number) before one is picked.
    local = d.pick((f"{first}.{last}", f"{first}{last}{d.between(1, 99)}", f"{first[0]}{last}"))
    domain = d.pick(bank["email_domains"])
    return _with_template(d, "email", local.lower().replace("'", "") + "@" + domain)


def _hospital_number_sentence(d: Draw) -> tuple[str, Planted]:
    bank = _bank()
    if d.chance(0.5):
        v = f"{d.pick(bank['hospital_number_prefixes'])}{d.between(1000000, 9999999)}"
        tpl = d.pick(bank["templates"]["hospital_number"])
    else:
        v = f"{d.below(100000000):08d}"
        tpl = d.pick(bank["templates"]["mrn"])
    return tpl.format(v=v), [("hospital_number", v)]


def _address_sentence(d: Draw) -> tuple[str, Planted]:
    bank = _bank()
    addr = f"{d.between(1, 150)} {d.pick(bank['streets'])}"
    if d.chance(0.5):
        pc = _postcode(d)
        return bank["templates"]["address_with_postcode"].format(a=addr, pc=pc), [("address", addr), ("postcode", pc)]
    tpl = d.pick(bank["templates"]["address"])
    return tpl.format(a=addr, t=d.pick(bank["towns"])), [("address", addr)]


_SENTENCES: dict[str, Callable[[Draw], tuple[str, Planted]]] = {
    "name": _name_sentence,
    "nhs_number": lambda d: _with_template(d, "nhs_number", _nhs_number(d)),
    "phone": lambda d: _with_template(d, "phone", _phone(d)),
    "email": _email_sentence,
    "postcode": lambda d: _with_template(d, "postcode", _postcode(d)),
    "date_of_birth": lambda d: _with_template(d, "date_of_birth", _dob(d)),
    "hospital_number": _hospital_number_sentence,
    "address": _address_sentence,
}


def phi_snippet(d: Draw) -> tuple[str, Planted]:
    """One sentence carrying fictional identifiers, and the (type, exact string) planted."""
    return _SENTENCES[PHI_TYPES[d.weighted(_PHI_TYPES_CUM)]](d)


def with_phi(d: Draw, text: str, sink: Planted) -> str:
    """``text`` with one identifier sentence before or after it; the plants are appended to ``sink``."""
    snippet, found = phi_snippet(d)
    sink.extend(found)
    if d.chance(0.4):
        return cap(snippet) + " " + text
    if text and text[-1] not in ".!?":
        text += "."
    return text + " " + snippet
