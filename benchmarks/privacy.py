"""Planted-PHI benchmark for :mod:`pipelines.privacy.redactor`.

Builds synthetic patient comments with known character spans for every entity type the
redactor handles, written the varied ways patients write (titles, relatives, lower case,
names that are *not* in any packaged name list, numbers in several formats), plus about 30%
comments with no identifier at all but full of hard negatives (job titles, site names,
"Bill was confusing", "Will the doctor call", drug names, ward numbers, times, money).

The name, street and site pools below are written by hand for this benchmark and are
deliberately different from the recognizer's packaged name lists: a share of the first names
and surnames are rare, non-English or invented, so PERSON recall is measured honestly.

Most of this module (~660 lines) is those hand-written pools, sentence frames and generators, kept
beside the scoring so one file defines the whole benchmark.

Full calendar dates (day + month + year) are planted as ``DATE_OF_BIRTH`` whether or not they
are a birth date: the redactor's policy is that any full date written by a patient identifies
them (HIPAA Safe Harbor treats all dates except the year as identifiers).

Usage::

    python -m benchmarks.privacy --n 600 --seed 7
    python -m benchmarks.privacy --json
    python -m benchmarks.privacy --config variant.yaml   # measure another recognizer set
    python -m benchmarks.privacy names --corpus names.jsonl   # PERSON figures (benchmarks/privacy_names.py)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

ENTITY_TYPES: tuple[str, ...] = (
    "PERSON",
    "NHS_NUMBER",
    "MRN",
    "PHONE",
    "EMAIL",
    "POSTCODE",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
    "URL",
)

# Sites a trust would configure as its allow-list (the bench passes these to the Redactor).
SITE_NAMES: tuple[str, ...] = (
    "Queen Elizabeth Hospital",
    "Northgate General Hospital",
    "St Mary's Hospital",
    "Rainbow Ward",
    "Nightingale Ward",
    "Florence Unit",
    "Victoria Wing",
)
# Site/service words that are NOT given to the allow-list: generic precision test.
UNLISTED_SITES: tuple[str, ...] = (
    "Emergency Department",
    "A&E",
    "Maternity Unit",
    "Outpatients",
    "Radiology",
    "the Fracture Clinic",
    "Urgent Treatment Centre",
    "Cardiac Day Unit",
    "Phlebotomy",
    "the Discharge Lounge",
)

# ---- name pools: hand-written; mixes common UK names with rare and invented ones ----------
# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    # common in UK feedback
    "Sarah", "James", "Emma", "Mohammed", "Olivia", "Harry", "Priya", "Chloe", "David", "Fatima",
    "Liam", "Sophie", "Daniel", "Aisha", "Thomas", "Megan", "Gareth", "Joanne", "Karen", "Stephen",
    "Lucy", "Ahmed", "Hannah", "Paul", "Nicola", "Ian", "Zoe", "Carl", "Bethany", "Kieran",
    # rarer / other communities
    "Siobhan", "Aoife", "Bartosz", "Agnieszka", "Chidinma", "Ngozi", "Eilidh", "Ffion", "Rhiannon",
    "Kwabena", "Yusra", "Caoimhe", "Wojciech", "Ifeoma", "Parveen", "Tegwen", "Oluwaseun", "Xiulan",
    "Thandiwe", "Leocadia", "Dagny", "Anwen", "Bronagh", "Tomasz", "Jaswinder",
    # invented
    "Zephyrine", "Quillon", "Marisova", "Teodrin", "Ysolde", "Bramwen", "Orlaithe", "Kestrel",
)
SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Patel", "Williams", "Taylor", "Brown", "Khan", "Davies", "Evans", "Wilson",
    "Roberts", "Johnson", "Walker", "Wright", "Robinson", "Thompson", "Hughes", "Edwards", "Harris",
    "Lewis", "Jackson", "Clarke", "Turner", "Scott", "Cooper", "Morris", "Watson", "Harrison",
    "Ahmed", "Hussain", "Begum", "Singh", "Kaur", "Chen", "Nguyen", "O'Brien", "McDonald", "MacLeod",
    "Murphy", "Kelly", "Okafor", "Adeyemi", "Mensah",
    # rarer / other communities
    "Kowalczyk", "Przybylski", "Nwachukwu", "Wojciechowska", "Ogunbanjo", "Tshabalala", "Dziedzic",
    "Achterberg", "Trevelyan", "Penhaligon", "Blenkinsop", "Kettleborough", "Abernethy", "Umeh",
    "Szymańska", "Oyelaran-Bello", "Pemberton-Lowe", "Featherstonehaugh", "Vandersteen",
    # invented
    "Thistlewood", "Quigglesworth", "Fennimore", "Ravensdale", "Aldwinckle", "Morvantine", "Castellow",
)
# Names that are also ordinary words: planted only with a person cue.
AMBIGUOUS_FIRST: tuple[str, ...] = ("Grace", "Hope", "Faith", "Joy", "Will", "May", "Bill", "Rose", "Dawn", "Mark")

STREET_NAMES: tuple[str, ...] = (
    "Acacia", "High", "Church", "Mill", "Station", "Victoria", "Rowan", "Willow", "Oak", "Queens",
    "Manor", "Chapel", "Albert", "Bridge", "Meadow", "Beech", "Sycamore", "Elmfield", "Hawthorn",
    "Kingsley", "Larkspur", "Windermere", "Cromwell", "Tennyson", "St John's",
)
STREET_TYPES: tuple[str, ...] = (
    "Street", "Road", "Avenue", "Lane", "Close", "Drive", "Crescent", "Way", "Gardens", "Court",
    "Grove", "Terrace", "Place", "Mews",
)
TOWNS: tuple[str, ...] = ("Northgate", "Leeds", "Bristol", "Salford", "Ipswich", "Wrexham", "Dundee", "Truro")
OUTWARD: tuple[str, ...] = (
    "SW1A", "M1", "LS1", "B15", "EH3", "CF10", "NE1", "L8", "BS7", "G12", "OX3", "CB2", "NG7", "S10",
    "PO3", "BN2", "EX4", "TR1", "BT9", "LE1", "W1D", "EC2A", "N17", "SE5", "M14", "WF10",
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
US_CITIES: tuple[tuple[str, str], ...] = (
    ("Springfield", "IL"), ("Austin", "TX"), ("Boston", "MA"), ("Denver", "CO"), ("Portland", "OR"),
    ("Columbus", "OH"), ("Raleigh", "NC"),
)
US_AREA: tuple[str, ...] = ("212", "415", "312", "617", "713", "202", "305", "404", "503", "206")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
# fmt: on
EMAIL_DOMAINS = ("gmail.com", "hotmail.co.uk", "yahoo.com", "outlook.com", "nhs.net", "btinternet.com", "icloud.com")

Part = tuple[str, str | None]  # (text, entity type or None)


class _Rng(Protocol):
    def random(self) -> float: ...
    def choice(self, seq: Sequence[Any]) -> Any: ...
    def randint(self, a: int, b: int) -> int: ...


def _ascii(name: str) -> str:
    """Fold a name to what people type in an email address."""
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    return re.sub(r"[^a-z]", "", name.translate(table).lower())


# ---- generators: each returns a list of parts ------------------------------------------------
def _first(rng: _Rng) -> str:
    return rng.choice(FIRST_NAMES)


def _last(rng: _Rng) -> str:
    return rng.choice(SURNAMES)


def _person(rng: _Rng) -> list[Part]:
    r = rng.randint(0, 21)
    f, s = _first(rng), _last(rng)
    forms: list[list[Part]] = [
        [(rng.choice(["Dr ", "Dr. ", "Doctor "]), None), (s, "PERSON")],
        [("Mr ", None), (f"{f} {s}", "PERSON")],
        [(rng.choice(["Mrs ", "Ms ", "Miss ", "Prof "]), None), (s, "PERSON")],
        [(rng.choice(["Nurse ", "Sister ", "Matron "]), None), (rng.choice([f, s]), "PERSON")],
        [("dr ", None), (s.lower(), "PERSON")],
        [(rng.choice(["my husband ", "my wife ", "my son ", "my daughter ", "my partner "]), None), (f, "PERSON")],
        [(rng.choice(["my mum, ", "my dad, ", "my grandson, "]), None), (f, "PERSON"), (",", None)],
        [(rng.choice(["my husband ", "my mum ", "my son "]), None), (f.lower(), "PERSON")],
        [(rng.choice(["a nurse called ", "a lovely lady called ", "a porter named "]), None), (f, "PERSON")],
        [
            (rng.choice(["the receptionist ", "the midwife ", "physio ", "HCA ", "the consultant "]), None),
            (f, "PERSON"),
        ],
        [("I want to thank ", None), (f"{f} {s}", "PERSON")],
        [("thanks to ", None), (f, "PERSON"), (" and ", None), (_first(rng), "PERSON")],
        [(f, "PERSON"), (" on reception", None)],
        [("special mention to ", None), (f"{f} {s}", "PERSON")],
        [(rng.choice(["my daughter ", "Nurse ", "a nurse called "]), None), (rng.choice(AMBIGUOUS_FIRST), "PERSON")],
        [("Dr ", None), (f"{f[0]}. {s}", "PERSON")],
        [("the surgeon, Mr ", None), (s, "PERSON"), (",", None)],
        [("my son ", None), (f"{f} {s}", "PERSON")],
        [("staff nurse ", None), (f, "PERSON")],
        [(f"{f} {s}", "PERSON"), (" (the ward manager)", None)],
        [("ask for ", None), (f, "PERSON"), (" on the ward", None)],
        [("DR ", None), (s.upper(), "PERSON")],
    ]
    return forms[r]


def _nhs_digits(rng: _Rng) -> str:
    while True:
        d = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(x * w for x, w in zip(d, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, d)) + str(check)


def _nhs(rng: _Rng) -> list[Part]:
    n = _nhs_digits(rng)
    fmt = rng.randint(0, 2)
    num = n if fmt == 0 else f"{n[:3]} {n[3:6]} {n[6:]}" if fmt == 1 else f"{n[:3]}-{n[3:6]}-{n[6:]}"
    cue = rng.choice(["NHS number ", "NHS no: ", "nhs number is ", "my number is ", "ref ", ""])
    return [(cue, None), (num, "NHS_NUMBER")]


def _mrn(rng: _Rng) -> list[Part]:
    r = rng.randint(0, 4)
    digits = "".join(str(rng.randint(0, 9)) for _ in range(7))
    if r == 0:
        return [("hospital number ", None), (f"{rng.choice('KHMJ')}{digits}", "MRN")]
    if r == 1:
        return [("MRN: ", None), (f"0{digits}", "MRN")]
    if r == 2:
        return [("my patient number is ", None), (digits, "MRN")]
    if r == 3:
        return [("hospital no. ", None), (f"RX{rng.choice('HKN')}{digits[:6]}", "MRN")]
    return [("", None), (f"RX{digits}", "MRN")]


def _phone(rng: _Rng) -> list[Part]:
    d = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    area = rng.choice(US_AREA)
    exch = f"{rng.randint(2, 9)}{d(2)}"
    forms = [
        f"07{d(3)} {d(6)}",
        f"07{d(9)}",
        f"+44 7{d(3)} {d(6)}",
        f"(0161) 496 {d(4)}",
        f"0161 496 {d(4)}",
        f"020 7946 {d(4)}",
        f"+44 20 7946 {d(4)}",
        f"01632 {d(6)}",
        f"({area}) {exch}-{d(4)}",
        f"{area}-{exch}-{d(4)}",
        f"+1 {area} {exch} {d(4)}",
        f"+1-{area}-{exch}-{d(4)}",
        f"555-123-{d(4)}",
    ]
    cue = rng.choice(["call me on ", "my mobile is ", "ring ", "phone: ", "my number is ", "text "])
    return [(cue, None), (rng.choice(forms), "PHONE")]


def _email(rng: _Rng) -> list[Part]:
    f, s = _ascii(_first(rng)), _ascii(_last(rng))
    user = rng.choice([f"{f}.{s}", f"{f}{rng.randint(1, 99)}", f"{f[0]}{s}", f"{f}_{s}", f"{s}.{f}{rng.randint(1, 9)}"])
    addr = f"{user}@{rng.choice(EMAIL_DOMAINS)}"
    if rng.random() < 0.15:
        addr = addr.upper() if rng.random() < 0.3 else addr.capitalize()
    cue = rng.choice(["email me at ", "my email is ", "contact ", "", "reply to "])
    return [(cue, None), (addr, "EMAIL")]


def _uk_postcode(rng: _Rng) -> str:
    pc = f"{rng.choice(OUTWARD)}{rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    out, inw = pc[:-3], pc[-3:]
    form = rng.randint(0, 3)
    pc = f"{out} {inw}" if form in (0, 2) else f"{out}{inw}"
    return pc.lower() if form >= 2 else pc


def _postcode(rng: _Rng) -> list[Part]:
    r = rng.randint(0, 5)
    if r == 5:
        city, state = rng.choice(US_CITIES)
        z = f"{rng.randint(10000, 99999)}" + (f"-{rng.randint(1000, 9999)}" if rng.random() < 0.4 else "")
        return [(f"we were visiting from {city}, {state} ", None), (z, "POSTCODE")]
    cue = rng.choice(["I live in ", "postcode ", "my postcode is ", "we live near ", f"{rng.choice(TOWNS)}, "])
    return [(cue, None), (_uk_postcode(rng), "POSTCODE")]


def _date(rng: _Rng) -> tuple[int, int, int]:
    return rng.randint(1, 28), rng.randint(1, 12), rng.randint(1925, 2010)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _dob(rng: _Rng) -> list[Part]:
    dd, mm, yy = _date(rng)
    mon = MONTHS[mm - 1]
    forms: list[tuple[str, str]] = [
        ("DOB ", f"{dd:02d}/{mm:02d}/{yy}"),
        ("D.O.B. ", f"{dd}/{mm}/{str(yy)[2:]}"),
        ("born on ", f"{dd} {mon} {yy}"),
        ("born ", f"{_ordinal(dd)} {mon} {yy}"),
        ("date of birth: ", f"{yy}-{mm:02d}-{dd:02d}"),
        ("date of birth is ", f"{dd:02d}.{mm:02d}.{yy}"),
        ("dob ", f"{dd:02d}-{mm:02d}-{str(yy)[2:]}"),
        ("born on ", f"{mon} {dd}, {yy}"),
        ("my mum (born ", f"{dd} {mon[:3]} {yy}"),
        ("her birthday is the ", f"{_ordinal(dd)} of {mon} {yy}"),
        ("I was admitted on ", f"{dd}/{mm}/{rng.randint(2019, 2024)}"),
        ("seen in clinic on ", f"{dd} {mon} {rng.randint(2019, 2024)}"),
    ]
    cue, date = rng.choice(forms)
    parts: list[Part] = [(cue, None), (date, "DATE_OF_BIRTH")]
    if cue.endswith("(born "):
        parts.append((")", None))
    return parts


def _address(rng: _Rng) -> list[Part]:
    num = rng.randint(1, 220)
    street = f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    r = rng.randint(0, 5)
    if r == 0:
        addr = f"Flat {rng.randint(1, 12)}, {num} {street}"
    elif r == 1:
        addr = f"{num}{rng.choice('abc')} {street}"
    elif r == 2:
        addr = f"{num} {street}".lower()
    elif r == 3:
        addr = f"{num} {rng.choice(['Main', 'Elm', 'Maple', 'Oak'])} {rng.choice(['St', 'Ave', 'Street'])}"
    else:
        addr = f"{num} {street}"
    cue = rng.choice(["I live at ", "my address is ", "letters go to ", "sent to ", "we moved to "])
    tail = rng.choice(["", f", {rng.choice(TOWNS)}", ""])
    return [(cue, None), (addr, "STREET_ADDRESS"), (tail, None)]


def _url(rng: _Rng) -> list[Part]:
    forms = [
        "https://www.northgate-trust.nhs.uk/feedback",
        f"http://patientstories.org/story/{rng.randint(100, 9999)}",
        "www.careopinion.org.uk",
        f"facebook.com/groups/ward{rng.randint(1, 40)}parents",
        f"bit.ly/{''.join(rng.choice('abcdefXYZ0123') for _ in range(7))}",
        f"https://example.com/page?id={rng.randint(1, 500)}",
        "www.mygofundme.com/help-for-mum",
    ]
    cue = rng.choice(["see ", "I posted it on ", "details at ", "link: "])
    return [(cue, None), (rng.choice(forms), "URL")]


GENERATORS: dict[str, Callable[[_Rng], list[Part]]] = {
    "PERSON": _person,
    "NHS_NUMBER": _nhs,
    "MRN": _mrn,
    "PHONE": _phone,
    "EMAIL": _email,
    "POSTCODE": _postcode,
    "DATE_OF_BIRTH": _dob,
    "STREET_ADDRESS": _address,
    "URL": _url,
}
# PERSON is what patients write most; weight it accordingly.
# fmt: off
ENTITY_WEIGHTS: dict[str, int] = {
    "PERSON": 5, "NHS_NUMBER": 2, "MRN": 1, "PHONE": 2, "EMAIL": 2, "POSTCODE": 2,
    "DATE_OF_BIRTH": 2, "STREET_ADDRESS": 1, "URL": 1,
}
# fmt: on

# Sentence frames around an identifier: {X} is replaced by the identifier parts.
PERSON_FRAMES: tuple[str, ...] = (
    "{X} was brilliant with us.",
    "Please pass on my thanks to {X}.",
    "Nobody listened until {X} got involved.",
    "honestly {X} made the whole stay bearable",
    "I complained to {X} but nothing changed.",
    "{X}.",
)
OTHER_FRAMES: tuple[str, ...] = (
    "{X}.",
    "For reference, {X}.",
    "I wrote it all down ({X}) and still had to repeat myself.",
    "Please get back to me - {X}",
    "{X} if anyone wants to follow this up.",
    "the letter said {X} but it was wrong",
)

# Hard negatives: no identifier in any of these.
NEGATIVES: tuple[str, ...] = (
    "The nurse was kind.",
    "Nurse was lovely and explained everything.",
    "the doctors were rushed off their feet",
    "Staff were great.",
    "Parking was awful and cost £4.50 an hour.",
    "Bill was confusing and nobody could explain the charges.",
    "Will the doctor call me back?",
    "May I say how grateful we are.",
    "In March I waited 3 hours in A&E.",
    "On Tuesday the ward was short staffed.",
    "We were moved to Ward 7 at 10:30pm.",
    "ward 12 was noisy all night",
    "I was given Paracetamol and Oramorph for the pain.",
    "They switched me from Co-codamol to Ramipril 5mg by mistake.",
    "Hope you can improve the food.",
    "I have faith in the NHS.",
    "It was a joy to see my dad smile again.",
    "The Emergency Department was packed.",
    "The Ward Manager sorted it out.",
    "The Nurse Practitioner was excellent.",
    "Matron came round twice a day.",
    "Doctor was very thorough.",
    "Sister on the night shift ran a tight ship.",
    "Dr's were great but the HCA team were overstretched.",
    "Bed 14 in bay 4 had a broken call bell.",
    "Room 101 was freezing.",
    "I waited 45 minutes for the Physio team.",
    "last week my appointment was cancelled for the 3rd time",
    "The 4 hour target means nothing.",
    "Grace period for parking is only 10 minutes.",
    "The MRI scan took 2 days to book.",
    "The GP referral took 12 weeks.",
    "Over Christmas the Maternity Unit was brilliant.",
    "Outpatients ran 90 minutes late.",
    "the consultant was dismissive",
    "The Healthcare Assistant brought tea at 7am.",
    "Radiology lost my scan.",
    "The receptionist was rude.",
    "Thank you to everyone on the Cardiac Day Unit.",
    "Phlebotomy queue was out the door by 8.",
    "I was sent to the Discharge Lounge and forgotten.",
    "Visiting hours 2pm to 8pm are too short.",
    "The Urgent Treatment Centre saw me within an hour.",
    "We paid £25 for a week of parking.",
    "The porter was friendly.",
    "NHS 111 told us to come in.",
    "Fracture Clinic appointment on Monday at 9.15.",
    "Blood pressure was 140/90 and nobody said anything.",
    "They gave me 2 x 500mg tablets every 4 hours.",
    "The midwife was amazing.",
)
SITE_SENTENCES: tuple[str, ...] = (
    "Everyone at {S} was kind.",
    "I was transferred from {S} late at night.",
    "{S} needs more staff.",
    "Food on {S} was cold.",
)


def _negative(rng: _Rng) -> str:
    if rng.random() < 0.3:
        site = rng.choice(SITE_NAMES + UNLISTED_SITES)
        return rng.choice(SITE_SENTENCES).replace("{S}", site)
    return rng.choice(NEGATIVES)


def _weighted_entity(rng: _Rng) -> str:
    pool = [e for e, w in ENTITY_WEIGHTS.items() for _ in range(w)]
    return rng.choice(pool)


def _identifier_sentence(rng: _Rng, entity: str) -> list[Part]:
    frame = rng.choice(PERSON_FRAMES if entity == "PERSON" else OTHER_FRAMES)
    before, after = frame.split("{X}")
    parts = GENERATORS[entity](rng)
    if not before and parts and parts[0][0]:
        # Sentence-initial: capitalise the first character of the cue (never of a span that must stay lower).
        text, ent = parts[0]
        if ent is None:
            parts[0] = (text[:1].upper() + text[1:], ent)
    return [(before, None), *parts, (after, None)]


def _assemble(sentences: list[list[Part]], lower: bool) -> dict[str, Any]:
    text = ""
    spans: list[dict[str, Any]] = []
    for i, parts in enumerate(sentences):
        if i:
            text += " "
        for chunk, ent in parts:
            if lower:
                chunk = chunk.lower()
            if ent is not None:
                spans.append({"entity_type": ent, "start": len(text), "end": len(text) + len(chunk), "text": chunk})
            text += chunk
    return {"text": text, "spans": spans}


def make_planted_set(n: int = 600, seed: int = 7) -> list[dict]:
    """Build ``n`` synthetic comments with planted identifiers at known character spans.

    Args:
        n: Number of comments.
        seed: Random seed (the set is deterministic for a given ``n`` and ``seed``).

    Returns:
        A list of ``{"id", "text", "spans": [{"entity_type", "start", "end", "text"}]}``.
        About 30% of comments have no span (hard negatives only).
    """
    rng = random.Random(seed)
    items: list[dict] = []
    for i in range(n):
        sentences: list[list[Part]] = []
        if i % 10 < 3:  # ~30% identifier-free
            sentences = [[(_negative(rng), None)] for _ in range(rng.randint(1, 3))]
        else:
            # make sure every entity type appears regularly, then add random extras
            first = ENTITY_TYPES[i % len(ENTITY_TYPES)] if i % 3 == 0 else _weighted_entity(rng)
            sentences.append(_identifier_sentence(rng, first))
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                sentences.append(_identifier_sentence(rng, _weighted_entity(rng)))
            for _ in range(rng.randint(0, 2)):
                sentences.append([(_negative(rng), None)])
            rng_order = list(range(len(sentences)))
            # shuffle deterministically
            for j in range(len(rng_order) - 1, 0, -1):
                k = rng.randint(0, j)
                rng_order[j], rng_order[k] = rng_order[k], rng_order[j]
            sentences = [sentences[j] for j in rng_order]
        lower = rng.random() < 0.05
        item = _assemble(sentences, lower)
        item["id"] = i
        items.append(item)
    return items


class _RedactorLike(Protocol):
    def redact_many(self, texts: Sequence[str], progress: bool = False) -> list[Any]: ...


def _covered(span: tuple[int, int], predicted: list[tuple[int, int]]) -> float:
    start, end = span
    covered = set()
    for ps, pe in predicted:
        covered.update(range(max(start, ps), min(end, pe)))
    return len(covered) / max(1, end - start)


_MISS = "-"  # label of "not found" (recall) / "no planted span there" (precision)


@dataclass
class _Labels:
    """Per-span labels for sklearn: one row per planted span (recall), one per predicted span (precision)."""

    gold: list[str] = field(default_factory=list)  # planted type
    found_any: list[str] = field(default_factory=list)  # planted type if >= 80% redacted by any type
    found_typed: list[str] = field(default_factory=list)  # planted type if >= 80% redacted by its own type
    predicted: list[str] = field(default_factory=list)  # predicted type
    hit_any: list[str] = field(default_factory=list)  # predicted type if it overlaps any planted span
    hit_typed: list[str] = field(default_factory=list)  # predicted type if it overlaps a planted span of that type


def _label_spans(items: Sequence[dict], results: Sequence[Any]) -> _Labels:
    labels = _Labels()
    for item, res in zip(items, results, strict=True):
        pred = [(s.start, s.end, s.entity_type) for s in res.spans]
        for gold in item["spans"]:
            et, span = gold["entity_type"], (gold["start"], gold["end"])
            labels.gold.append(et)
            labels.found_any.append(et if _covered(span, [(a, b) for a, b, _ in pred]) >= 0.8 else _MISS)
            labels.found_typed.append(et if _covered(span, [(a, b) for a, b, t in pred if t == et]) >= 0.8 else _MISS)
        for ps, pe, pt in pred:
            overlapping = {g["entity_type"] for g in item["spans"] if ps < g["end"] and g["start"] < pe}
            labels.predicted.append(pt)
            labels.hit_any.append(pt if overlapping else _MISS)
            labels.hit_typed.append(pt if pt in overlapping else _MISS)
    return labels


def _scores(metric: Callable[..., Any], y_true: list[str], y_pred: list[str], types: list[str]) -> list[float | None]:
    """Per-type scores then the micro average over ``types``; None where a type has no support."""
    import numpy as np

    if not y_true:
        return [None] * (len(types) + 1)
    per_type = metric(y_true, y_pred, labels=types, average=None, zero_division=np.nan)
    micro = metric(y_true, y_pred, labels=types, average="micro", zero_division=np.nan)
    return [None if np.isnan(v) else round(float(v), 4) for v in [*per_type, micro]]


def evaluate(redactor: _RedactorLike, items: Sequence[dict]) -> list[dict]:
    """Score a redactor on planted items.

    Recall: a planted span is found if >= 80% of its characters are covered by redacted spans
    of any type (``recall``) or of its own type (``type_recall``). Precision: a predicted span
    is a true positive if it overlaps any planted span (``precision``) or a planted span of its
    own type (``type_precision``); false positives are counted under the predicted type.
    Recall and precision are sklearn's, over one label per span.

    Args:
        redactor: Anything with ``redact_many(texts)`` returning objects with ``.spans``.
        items: Output of :func:`make_planted_set`.

    Returns:
        One row per entity type plus a final ``"ALL"`` row with micro totals and ``comments_per_s``.
    """
    from sklearn.metrics import precision_score, recall_score

    texts = [it["text"] for it in items]
    t0 = time.perf_counter()
    results = redactor.redact_many(texts)
    elapsed = time.perf_counter() - t0

    lab = _label_spans(items, results)
    types = list(ENTITY_TYPES) + sorted(set(lab.predicted) - set(ENTITY_TYPES))
    recall = _scores(recall_score, lab.gold, lab.found_any, types)
    type_recall = _scores(recall_score, lab.gold, lab.found_typed, types)
    precision = _scores(precision_score, lab.hit_any, lab.predicted, types)
    type_precision = _scores(precision_score, lab.hit_typed, lab.predicted, types)
    planted, found = Counter(lab.gold), Counter(t for t in lab.found_any if t != _MISS)
    predicted, tp = Counter(lab.predicted), Counter(t for t in lab.hit_any if t != _MISS)

    for counts in (planted, found, predicted, tp):
        counts["ALL"] = sum(counts.values())
    rows: list[dict] = []
    for k, et in enumerate([*types, "ALL"]):
        rows.append(
            {
                "entity_type": et,
                "planted": planted[et],
                "found": found[et],
                "recall": recall[k],
                "type_recall": type_recall[k],
                "predicted": predicted[et],
                "false_positives": predicted[et] - tp[et],
                "precision": precision[k],
                "type_precision": type_precision[k],
            }
        )
    rows[-1]["comments"] = len(items)
    rows[-1]["comments_per_s"] = round(len(items) / elapsed, 1) if elapsed > 0 else None
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """Render evaluation rows as a fixed-width text table."""
    cols = ("entity_type", "planted", "found", "recall", "type_recall", "predicted", "false_positives", "precision")
    head = (
        f"{'entity':<15}{'planted':>8}{'found':>7}{'recall':>8}{'typed':>7}{'pred':>6}{'FP':>5}{'prec':>7}{'typed':>7}"
    )
    lines = [head, "-" * len(head)]
    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    for r in rows:
        v = [r[c] for c in cols]
        lines.append(
            f"{v[0]:<15}{v[1]:>8}{v[2]:>7}{fmt(v[3]):>8}{fmt(v[4]):>7}{v[5]:>6}{v[6]:>5}{fmt(v[7]):>7}"
            f"{fmt(r['type_precision']):>7}"
        )
    last = rows[-1]
    lines.append(f"{last.get('comments')} comments, {last.get('comments_per_s')} comments/s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON); ``names ...`` runs the names benchmark."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["names"]:
        from benchmarks.privacy_names import main as names_main

        return names_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="number of planted comments")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--config", type=Path, default=None, help="recognizer YAML (default: the packaged one)")
    parser.add_argument("--person", choices=("union", "rules", "model"), default="union", help="PERSON finder")
    parser.add_argument("--names-model", type=Path, default=None, help="names model folder (default: the build)")
    args = parser.parse_args(argv)

    from pipelines.privacy.redactor import Redactor

    redactor = Redactor(
        config_path=args.config, allow_list=SITE_NAMES, person=args.person, names_model=args.names_model
    )
    rows = evaluate(redactor, make_planted_set(args.n, args.seed))
    if args.json:
        print(json.dumps({"redactor": redactor.version, "rows": rows}, indent=2))
    else:
        print(f"redactor {redactor.version}")
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
