"""Phrase templates of the demo text: ``{slot}`` filling, service tags, and the compiled pools.

A phrase from the YAML banks is compiled once into a ``Tpl`` (literal parts and slot names, the
services it suits, whether it is harsh); ``Pools`` holds them pre-filtered per service together
with the cumulative topic weights, so drawing a clause costs a few list lookups.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from pipelines.demo import phrases
from pipelines.demo.draw import Draw, cumulative
from pipelines.demo.params import SERVICES, SITES

Ctx = tuple[int, int]  # (service index or -1, site index or -1)
SlotFn = Callable[[Draw, Ctx], str]

_SLOT_RE = re.compile(r"\{(\w+)\}")
_TAG_RE = re.compile(r"^<([a-z,]+)>")

# Service groups a phrase can be restricted to with a "<group,group>" prefix.
SERVICE_GROUPS: dict[str, frozenset[int]] = {
    "ed": frozenset({0}),
    "mat": frozenset({1}),
    "surg": frozenset({3}),
    "child": frozenset({7}),
    "scan": frozenset({2, 4}),
    "rx": frozenset({2, 3, 5}),
    "clinic": frozenset({2, 4, 6, 7}),
    "ward": frozenset({1, 3, 6, 7}),
    "stay": frozenset({0, 1, 3, 6, 7}),
    "appt": frozenset({1, 2, 3, 4, 6, 7}),
}


def _slot_ward(d: Draw, ctx: Ctx) -> str:
    w = phrases.load("slots")
    if ctx[0] == 0:
        return d.pick(w["areas_ed"])
    if ctx[0] in (2, 4, 5):
        return d.pick(w["areas_clinic"]).replace("{n}", str(d.between(1, 12)))
    r = d.u()
    if r < 0.45:
        return f"ward {d.between(1, 32)}"
    if r < 0.6:
        return f"Ward {d.between(1, 40)}"
    if r < 0.85:
        return f"{d.pick(w['ward_names'])} ward"
    return f"the {d.pick(w['ward_names'])} unit"


def _slot_relative(d: Draw, ctx: Ctx) -> str:
    if "relative" not in d.memo:  # one relative per comment
        key = "relatives_child" if ctx[0] == 7 else "relatives_maternity" if ctx[0] == 1 else "relatives"
        d.memo["relative"] = d.pick(phrases.load("slots")[key])
    return d.memo["relative"]


def _slot_amount(d: Draw, ctx: Ctx) -> str:
    pounds = d.between(25, 4800)
    return f"£{pounds}" if d.chance(0.5) else f"£{pounds:,}.{d.below(100):02d}"


def _slot_amount_small(d: Draw, ctx: Ctx) -> str:
    return f"£{d.between(3, 25)}" if d.chance(0.5) else f"£{d.between(2, 19)}.{d.pick(('50', '80', '20', '40'))}"


def _word(key: str) -> SlotFn:
    """A slot filled with one word of the ``slots.yaml`` list ``key``."""
    return lambda d, c: d.pick(phrases.load("slots")[key])


def _per_service(key: str, generic: str) -> SlotFn:
    """A slot filled from the service's list of ``key`` (the ``generic`` list when no service is known)."""

    def fill(d: Draw, c: Ctx) -> str:
        w = phrases.load("slots")
        return d.pick(w[key][SERVICES[c[0]]] if c[0] >= 0 else w[generic])

    return fill


def _site_short(d: Draw, c: Ctx) -> str:
    return d.pick(phrases.load("slots")["site_short"][SITES[c[1]]]) if c[1] >= 0 else "the hospital"


SLOTS: dict[str, SlotFn] = {
    "ward": _slot_ward,
    "relative": _slot_relative,
    "staff": _per_service("staff", "generic_staff"),
    "staff_pl": _per_service("staff_plural", "generic_staff_plural"),
    "svc": _per_service("service_names", "generic_service_names"),
    "site_short": _site_short,
    "when": _word("when"),
    "time_night": _word("time_night"),
    "wait_short": _word("wait_short"),
    "hours": _word("hours"),
    "mins": lambda d, c: str(d.pick((10, 15, 20, 25, 30, 35, 40, 45))),
    "weeks": _word("weeks"),
    "n_times": _word("n_times"),
    "n_days": lambda d, c: str(d.between(2, 5)),
    "n_months": lambda d, c: str(d.between(2, 14)),
    "n_years": lambda d, c: str(d.between(2, 30)),
    "n_miles": lambda d, c: str(d.between(12, 90)),
    "ordinal": _word("ordinals"),
    "amount": _slot_amount,
    "amount_small": _slot_amount_small,
}


@dataclass(frozen=True)
class Tpl:
    """A compiled phrase: (is_slot, text) parts, harsh flag, services it suits (None: all)."""

    parts: tuple[tuple[bool, str], ...]
    harsh: bool
    services: frozenset[int] | None


def compile_phrase(text: str) -> Tpl:
    """Compile one phrase (``!`` harsh marker, ``<group>`` service tag, ``{slot}`` markers).

    Raises:
        KeyError: if the phrase names an unknown slot or service group.
    """
    harsh = text.startswith("!")
    text = text[1:] if harsh else text
    services: frozenset[int] | None = None
    tag = _TAG_RE.match(text)
    if tag:
        services = frozenset().union(*(SERVICE_GROUPS[g] for g in tag.group(1).split(",")))
        text = text[tag.end() :]
    parts: list[tuple[bool, str]] = []
    for i, piece in enumerate(_SLOT_RE.split(text)):
        if i % 2:
            if piece not in SLOTS:
                raise KeyError(f"unknown slot {{{piece}}} in phrase {text!r}")
            parts.append((True, piece))
        elif piece:
            parts.append((False, piece))
    return Tpl(tuple(parts), harsh, services)


def render(d: Draw, tpl: Tpl, ctx: Ctx) -> str:
    """The template with every slot filled for context ``ctx``."""
    return "".join(SLOTS[v](d, ctx) if is_slot else v for is_slot, v in tpl.parts)


_Key = tuple[str, str, int]  # (pool name, polarity or "", service index or -1)


@dataclass(frozen=True)
class Pools:
    """Compiled phrases, pre-filtered per service (-1 = no service known: every phrase)."""

    by_key: dict[_Key, tuple[Tpl, ...]]
    cum: dict[tuple[str, int], tuple[list[str], list[float]]]

    def get(self, name: str, pol: str, service: int) -> tuple[Tpl, ...]:
        """The phrases of pool ``name``/``pol`` usable for ``service`` (all of them if none fits)."""
        return self.by_key.get((name, pol, service)) or self.by_key[(name, pol, -1)]

    def has(self, name: str, pol: str, service: int) -> bool:
        """Whether pool ``name``/``pol`` has phrases for ``service``."""
        return bool(self.by_key.get((name, pol, service)))


_POOL_POL = {"praise": "pos", "weak": "pos", "mild": "mild", "neg": "neg", "sug": "sug"}


def _compiled_banks() -> dict[tuple[str, str], tuple[Tpl, ...]]:
    """Every templated pool of the YAML banks, compiled, keyed by (pool name, polarity or "")."""

    def comp(phrases_: tuple[str, ...]) -> tuple[Tpl, ...]:
        return tuple(compile_phrase(x) for x in phrases_)

    comments, complaints = phrases.load("comments"), phrases.load("complaints")
    raw: dict[tuple[str, str], tuple[Tpl, ...]] = {}
    for topic, pools in phrases.load("topics").items():
        for pol, texts in pools.items():
            raw[(topic, pol)] = comp(texts)
        raw[(topic, "mild")] = tuple(t for t in raw.get((topic, "neg"), ()) if not t.harsh)
    raw[("tails", "pos")] = comp(comments["tails"]["pos"])
    raw[("tails", "neg")] = comp(comments["tails"]["neg"])
    raw[("thanks", "")] = comp(comments["thanks_openers"])
    raw[("c_open", "")] = comp(complaints["openers"])
    raw[("c_close", "")] = comp(complaints["closers"])
    raw[("c_bill_close", "")] = comp(complaints["billing_closers"])
    for cat, bodies in complaints["bodies"].items():
        raw[(cat, "")] = comp(bodies)
    return raw


@lru_cache(maxsize=1)
def pools() -> Pools:
    """Compile every phrase pool once (pure; cached on first use, not at import)."""
    by_key: dict[_Key, tuple[Tpl, ...]] = {}
    for (name, pol), tpls in _compiled_banks().items():
        by_key[(name, pol, -1)] = tpls
        for service in range(len(SERVICES)):
            by_key[(name, pol, service)] = tuple(t for t in tpls if t.services is None or service in t.services)
    weights = phrases.load("topic_weights")
    mults = {SERVICES.index(name): m for name, m in weights["service_multipliers"].items()}
    cum: dict[tuple[str, int], tuple[list[str], list[float]]] = {}
    for kind, pol in _POOL_POL.items():
        base = weights[kind]
        for service in range(-1, len(SERVICES)):
            mult = mults.get(service, {})
            names = [t for t in base if base[t] * mult.get(t, 1.0) > 0 and by_key.get((t, pol, service))]
            cum[(kind, service)] = (names, cumulative([base[t] * mult.get(t, 1.0) for t in names]))
    return Pools(by_key, cum)
