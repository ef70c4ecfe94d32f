"""Guess what each column of an export holds, from its header and the shape of its values.

:func:`profile` summarises one column (how full, how varied, how long, how many values parse as
dates or sit on a rating scale, which date order the values prove); :func:`assign_roles` turns the
profiles into a mapping: id, date, site, service, age band, the headline rating and its scale,
other rated items, and the free-text questions. Every choice carries a one-line reason, written as
a comment into the source YAML by :mod:`pipelines.sources.sniff_yaml`. Dates and ratings are
tested with the loader's own parsers (:func:`~pipelines.sources.mapping.local_to_utc`,
:class:`~pipelines.sources.scales.Scale`), so a column judged a date is one the loader reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines.sources.mapping import local_to_utc
from pipelines.sources.presets import PRESETS
from pipelines.sources.scales import SCALES


@dataclass(frozen=True)
class Guess:
    """A value written to the source YAML and why it was chosen (the line's comment)."""

    value: Any
    why: str


# Answers survey platforms write for a question left blank; the loader keeps them as text.
PLACEHOLDERS = frozenset(
    {
        "did not answer",
        "not answered",
        "no answer",
        "no response",
        "n/a",
        "na",
        "n.a.",
        "not applicable",
        "-",
        "--",
        "blank",
        "(blank)",
        "[no response]",
        "null",
    }
)
_LABEL_SCALES = ("fft5", "hcahps4", "recommend4", "likert5")
_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_TIME = re.compile(r"^\s*\d{1,2}:\d\d(?::\d\d)?\s*$")
_NUMBER = re.compile(r"^\s*-?\d+(?:\.0+)?\s*$")
_CODE = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d+[a-z]?\s*[-:.)]\s*", re.IGNORECASE)

_HEADER = {
    "response_id": r"\b(id|ref|reference|respondent|record|uid|serial)\b|response ?(id|no|number|ref)|\bno\.?$",
    "received_at": r"date|time|submitted|completed|received|created|timestamp|authored",
    "site": r"\b(site|hospital|location|trust|organisation|organization|premises|facility|campus|provider)\b",
    "service": r"\b(ward|service|department|dept|specialty|speciality|unit|clinic|team|directorate|area)\b",
    "age_band": r"\bage\b|age ?(group|band|range)",
    "rating": r"overall|rating|rate|score|fft|friends and family|experience|recommend|likely|\bnps\b|stars?|satisf",
    "question": r"\?|^q\d|\b(what|why|how|please|comment|comments|tell us|anything|improve|better|suggest|"
    r"feedback|reason|good|free ?text|verbatim)\b",
}
_PRAISE = re.compile(r"\b(excellent|great|brilliant|amazing|lovely|kind|caring|thank|thanks|fantastic|helpful)\b", re.I)
_CRITICISM = re.compile(r"\b(rude|wait|waited|waiting|poor|terrible|awful|dirty|ignored|never|late|cold|lost)\b", re.I)


def _matches(role: str, header: str) -> bool:
    return re.search(_HEADER[role], header.strip().lower()) is not None


@dataclass
class Profile:
    """What one column's values look like (counted over non-empty, stripped values)."""

    name: str  # the column (FHIR: the linkId)
    rows: int
    filled: int
    distinct: int
    mean_len: float
    mean_words: float
    no_spaces: float  # share of values without a space (ids)
    date_share: float
    time_share: float
    numbers: list[int] = field(default_factory=list)  # distinct integer values when all are integers
    number_share: float = 0.0
    scale_fit: dict[str, float] = field(default_factory=dict)  # label scale -> share of values on it
    placeholders: dict[str, int] = field(default_factory=dict)
    off_scale: dict[str, int] = field(default_factory=dict)  # best label scale's values that are not on it
    day_only: list[str] = field(default_factory=list)  # dd/mm dates that cannot be mm/dd (day > 12)
    month_only: list[str] = field(default_factory=list)  # mm/dd dates that cannot be dd/mm
    both: int = 0  # dates that read both ways (both parts <= 12, and different)
    label: str = ""  # what headers are matched on: the column name (FHIR: linkId and item text)

    @property
    def fill(self) -> float:
        """Share of rows with a value."""
        return self.filled / self.rows if self.rows else 0.0

    @property
    def unique(self) -> float:
        """Distinct values per filled value."""
        return self.distinct / self.filled if self.filled else 0.0


def profile(name: str, values: pd.Series, timezone: str = "Europe/London", label: str | None = None) -> Profile:
    """Summarise one column for :func:`assign_roles` (``label``: what its header says, default ``name``)."""
    text = values.astype("string").str.strip()
    text = text[text.notna() & text.ne("")]
    counts = text.value_counts()
    uniques = pd.Series(counts.index, dtype="string")
    weights = counts.to_numpy()
    filled = int(weights.sum())

    def share(mask: pd.Series) -> float:
        return float(weights[mask.to_numpy()].sum()) / filled if filled else 0.0

    lowered = uniques.str.lower()
    placeholder = lowered.isin(PLACEHOLDERS)
    placeholders = {str(v): int(n) for v, n, p in zip(uniques, weights, placeholder, strict=True) if p}
    parsed = local_to_utc(uniques, timezone, dayfirst=True)
    out = Profile(
        name=name,
        rows=len(values),
        filled=filled,
        distinct=len(uniques),
        mean_len=float((uniques.str.len() * weights).sum() / filled) if filled else 0.0,
        mean_words=float((uniques.str.split().str.len() * weights).sum() / filled) if filled else 0.0,
        no_spaces=share(~uniques.str.contains(" ", regex=False)),
        date_share=share(parsed.notna() & ~uniques.str.fullmatch(r"\d{1,4}(?:\.\d+)?")),
        time_share=share(uniques.str.match(_TIME)),
        placeholders=placeholders,
        label=label or name,
    )
    _numbers(out, uniques, weights, placeholder)
    _scales(out, uniques, weights, placeholder)
    _date_order(out, uniques, weights)
    return out


def _numbers(out: Profile, uniques: pd.Series, weights: Any, placeholder: pd.Series) -> None:
    numeric = uniques.str.match(_NUMBER) & ~placeholder
    rest = int(weights[(~placeholder).to_numpy()].sum())
    out.number_share = float(weights[numeric.to_numpy()].sum()) / rest if rest else 0.0
    if numeric.any():
        out.numbers = sorted({int(float(v)) for v in uniques[numeric]})


def _scales(out: Profile, uniques: pd.Series, weights: Any, placeholder: pd.Series) -> None:
    """Share of (non-placeholder, non-numeric) values on each label scale; the best scale's misfits."""
    labels = ~uniques.str.match(_NUMBER) & ~placeholder
    total = int(weights[labels.to_numpy()].sum())
    if not total:
        return
    best, best_fit = None, 0.0
    for name in _LABEL_SCALES:
        key, _ = SCALES[name].parse(uniques[labels])
        on = key.isin(SCALES[name].keys).to_numpy()
        fit = float(weights[labels.to_numpy()][on].sum()) / total
        out.scale_fit[name] = fit
        if fit > best_fit:
            best, best_fit = name, fit
            misfit = uniques[labels][~on]
            out.off_scale = {str(v): int(w) for v, w in zip(misfit, weights[labels.to_numpy()][~on], strict=True)}
    if best is None:
        out.off_scale = {}


def _date_order(out: Profile, uniques: pd.Series, weights: Any) -> None:
    """Count dates that prove day-first, prove month-first, or read both ways."""
    for value, n in zip(uniques, weights, strict=True):
        m = _DMY.match(str(value))
        if not m:
            continue
        a, b = int(m[1]), int(m[2])
        if a > 12 >= b >= 1:
            out.day_only.extend([str(value)] * int(n))
        elif b > 12 >= a >= 1:
            out.month_only.extend([str(value)] * int(n))
        elif a != b and a <= 12 and b <= 12:
            out.both += int(n)


@dataclass
class Roles:
    """A tabular export's mapping, each part with its reason."""

    fields: dict[str, Guess] = field(default_factory=dict)  # canonical field -> column (or [date, time])
    questions: dict[str, Guess] = field(default_factory=dict)  # column -> question text (None: the header)
    items: dict[str, Guess] = field(default_factory=dict)  # column -> {question, scale}
    preset: Guess = Guess("questionnaire", "")
    rating_scale: Guess | None = None
    dayfirst: Guess | None = None
    defaults: dict[str, Guess] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # as written in the export, once each


def _is_text(p: Profile) -> bool:
    """Free text: long or wordy answers that differ between respondents."""
    answers = p.filled - sum(p.placeholders.values())
    varied = p.distinct > 30 or p.unique >= 0.3
    return answers > 0 and varied and (p.mean_words >= 3 or p.mean_len >= 15) and p.date_share < 0.5


def _is_category(p: Profile) -> bool:
    """A short label repeated across rows (a site, a ward, an age band)."""
    return p.filled > 0 and p.mean_words <= 6 and p.distinct <= max(60, p.filled // 10) and p.date_share < 0.5


def _label_scale(p: Profile) -> str | None:
    """The label scale (FFT words, Never..Always, ...) nearly all non-numeric values are on."""
    if not p.scale_fit or p.number_share > 0.5:
        return None
    name = max(p.scale_fit, key=lambda s: p.scale_fit[s])
    return name if p.scale_fit[name] >= 0.8 else None


def assign_roles(profiles: list[Profile], frame: pd.DataFrame, fhir: bool = False, title: str | None = None) -> Roles:
    """Map columns to canonical fields, rating, items and questions; every choice with its reason.

    Args:
        profiles: one per column, in the export's column order.
        frame: the rows (to weigh FFT codes against the free text beside them).
        fhir: the columns are FHIR linkIds (id and date are the resource's own).
        title: a report title found above the header (a site name when no column has one).
    """
    roles = Roles()
    taken: set[str] = set()
    if not fhir:
        _date(roles, profiles, taken)
    _rating(roles, profiles, frame, taken)
    _items(roles, profiles, taken)
    if not fhir:
        _response_id(roles, profiles, taken)
    for role in ("age_band", "site", "service"):
        _category(roles, role, profiles, taken, named_only=True)
    _questions(roles, profiles, taken, fhir)
    for role in ("site", "service"):
        if role not in roles.fields:
            _category(roles, role, profiles, taken, named_only=False)
    if "site" not in roles.fields:
        site = _site_default(title)
        roles.defaults["site"] = Guess(site, "no site column found: every response gets this site (change it)")
    roles.ignored = [p.name for p in profiles if p.name not in taken]
    _preset(roles)
    return roles


def _date(roles: Roles, profiles: list[Profile], taken: set[str]) -> None:
    dates = [p for p in profiles if p.date_share >= 0.8 and p.fill >= 0.5]
    if not dates:
        roles.warnings.append("no column of dates found: a survey needs the date of each response")
        return
    best = max(dates, key=lambda p: (_matches("received_at", p.label), p.fill, -p.distinct))
    roles.fields["received_at"] = Guess(best.name, f"{best.date_share:.0%} of its values are dates")
    taken.add(best.name)
    index = profiles.index(best)
    beside = [profiles[i] for i in (index + 1, index - 1) if 0 <= i < len(profiles)]
    time = next((p for p in beside if p.time_share >= 0.8 and p.name not in taken), None)
    if time is not None and best.time_share == 0 and not re.search(r"\d:\d\d", _sample_dates(best)):
        roles.fields["received_at"] = Guess(
            [best.name, time.name], f"the date, and the time of day in the next column ({time.time_share:.0%})"
        )
        taken.add(time.name)
    roles.dayfirst = _dayfirst(best, roles.warnings)


def _sample_dates(p: Profile) -> str:
    return " ".join(p.day_only[:3] + p.month_only[:3])


def _dayfirst(p: Profile, warnings: list[str]) -> Guess:
    """Day-first unless the values prove month-first; mixed and ambiguous dates are flagged."""
    day, month, both = len(p.day_only), len(p.month_only), p.both
    if not day and not month:
        why = "no date proves an order (ISO dates, or every day <= 12): dd/mm is assumed"
        if both:
            why = f"{both} dates read both ways and none proves the order: dd/mm is assumed; check"
            warnings.append(f"dates: {both} dates such as 03/04 read both ways and nothing proves the order")
        return Guess(True, why)
    dayfirst = day >= month
    major, minor = (day, month) if dayfirst else (month, day)
    why = f"{major} dates are only valid {'dd/mm' if dayfirst else 'mm/dd'} (e.g. {(p.day_only or p.month_only)[0]})"
    if minor:
        example = (p.month_only if dayfirst else p.day_only)[0]
        why += f"; {minor} only {'mm/dd' if dayfirst else 'dd/mm'} (e.g. {example}), which the loader reads that way"
        warnings.append(
            f"dates: mixed order: {major} dates are {'dd/mm' if dayfirst else 'mm/dd'}, {minor} are "
            f"{'mm/dd' if dayfirst else 'dd/mm'} (e.g. {example}; read correctly); {both} dates read both ways "
            f"and are taken as {'dd/mm' if dayfirst else 'mm/dd'}: if the {minor} came from one system, "
            "check its rows"
        )
    elif both:
        why += f"; {both} more read both ways and are taken the same way"
    return Guess(dayfirst, why)


def _numeric_scale(p: Profile, frame: pd.DataFrame) -> tuple[str, str] | None:
    """The scale of an integer rating column, with the reason; None when it is not a rating."""
    if p.number_share < 0.9 or not p.numbers or len(p.numbers) < 2:
        return None
    lo, hi = p.numbers[0], p.numbers[-1]
    header = p.label.lower()
    if lo >= 0 and hi <= 10 and (lo == 0 or hi >= 7):
        if re.search(r"recommend|likely|nps|promot", header):
            return "nps11", f"whole numbers {lo}..{hi} under a 'recommend' question: NPS 0-10"
        return "rating0_10", f"whole numbers {lo}..{hi}: a 0-10 rating (10 = best)"
    if lo < 1 or hi > 6:
        return None
    if hi == 6 or re.search(r"fft|friends|family", header):
        return "fft5", f"codes {lo}..{hi} under an FFT question: 1 = Very good .. 5 = Very poor, 6 = Don't know"
    if re.search(r"stars?\b", header):
        return "likert5", f"{lo}..{hi} stars: read on the 1-5 codes of likert5 (1 = worst 0.0 .. 5 = best 1.0)"
    return _codes_by_text(p, frame, lo, hi)


def _codes_by_text(p: Profile, frame: pd.DataFrame, lo: int, hi: int) -> tuple[str, str]:
    """1..5 codes point opposite ways (FFT: 1 = best; stars: 1 = worst): ask the free text beside them."""
    codes = pd.to_numeric(frame[p.name], errors="coerce")
    text = frame.drop(columns=[p.name]).astype("string").fillna("").agg(" ".join, axis=1)
    praise = text.str.count(_PRAISE) - text.str.count(_CRITICISM)
    low, high = praise[codes.eq(lo)].mean(), praise[codes.eq(hi)].mean()
    if pd.notna(low) and pd.notna(high) and low > high:
        return "fft5", (
            f"codes {lo}..{hi}: comments beside {lo}s praise more than beside {hi}s, so {lo} is best: "
            "FFT codes (1 = Very good); CHECK"
        )
    return "likert5", (
        f"codes {lo}..{hi}: comments beside {hi}s praise more than beside {lo}s, so {hi} is best: "
        "a 1-5 rating read on the likert5 codes (1 = 0.0 .. 5 = 1.0); CHECK"
    )


def _rating(roles: Roles, profiles: list[Profile], frame: pd.DataFrame, taken: set[str]) -> None:
    found: list[tuple[int, Profile, str, str]] = []
    for p in profiles:
        if p.fill < 0.3:
            continue
        label = _label_scale(p)
        if label:
            rank = 2 if label == "fft5" else 1
            found.append((rank + _matches("rating", p.label), p, label, _label_why(p, label)))
            continue
        numeric = _numeric_scale(p, frame)
        if numeric and _matches("rating", p.label):
            found.append((2, p, *numeric))
    if not found:
        return
    # Never..Always and Definitely no..yes answers are survey items, never the headline rating.
    headline = [f for f in found if f[2] not in ("hcahps4", "recommend4")]
    if not headline:
        return
    _, best, scale, why = max(headline, key=lambda f: f[0])
    roles.fields["rating"] = Guess(best.name, why)
    roles.rating_scale = Guess(scale, SCALES[scale].description)
    taken.add(best.name)
    _off_scale(roles, best)


def _label_why(p: Profile, scale: str) -> str:
    names = {"fft5": "FFT answers (Very good .. Very poor, Don't know)", "hcahps4": "Never .. Always"}
    names |= {"recommend4": "Definitely no .. Definitely yes", "likert5": "Strongly disagree .. Strongly agree"}
    return f"{p.scale_fit[scale]:.0%} of its answers are {names[scale]}"


def _off_scale(roles: Roles, p: Profile) -> None:
    _add_placeholders(roles, p)
    if p.placeholders:
        shown = ", ".join(f"{v!r} x{n}" for v, n in p.placeholders.items())
        roles.warnings.append(f"rating: placeholders {shown} in {p.name!r} (see options.placeholders)")
    bad = dict(p.off_scale)
    if bad:
        shown = ", ".join(f"{v!r} x{n}" for v, n in sorted(bad.items(), key=lambda kv: -kv[1])[:5])
        roles.warnings.append(
            f"rating: {sum(bad.values())} answers of {p.name!r} are not on the scale ({shown}): "
            "those rows are quarantined ('rating not on its scale')"
        )


def _items(roles: Roles, profiles: list[Profile], taken: set[str]) -> None:
    for p in profiles:
        if p.name in taken or p.fill < 0.05:
            continue
        scale = _label_scale(p)
        if scale is None:
            continue
        question = _question_text(p.name)
        roles.items[p.name] = Guess(
            {"question": question or p.name, "scale": scale},
            f"{p.scale_fit[scale]:.0%} of its answers are on {scale}: a rated item (raw.survey_items)",
        )
        taken.add(p.name)


def _response_id(roles: Roles, profiles: list[Profile], taken: set[str]) -> None:
    candidates = [p for p in profiles if p.name not in taken and p.fill >= 0.9 and p.unique >= 0.95]
    candidates = [p for p in candidates if p.no_spaces >= 0.9 and p.mean_len <= 40]
    if not candidates:
        roles.warnings.append("no column of unique ids found: a survey needs one id per response")
        return
    best = max(candidates, key=lambda p: (_matches("response_id", p.label), p.unique, -profiles.index(p)))
    why = f"{best.unique:.1%} of its values are distinct"
    if best.fill < 1:
        why += f"; {best.rows - best.filled} empty (quarantined: missing record id)"
    roles.fields["response_id"] = Guess(best.name, why)
    taken.add(best.name)


def _questions(roles: Roles, profiles: list[Profile], taken: set[str], fhir: bool) -> None:
    for p in profiles:
        if p.name in taken:
            continue
        header_says = _matches("question", p.label) and (not _is_category(p) or "?" in p.name or p.mean_words >= 2)
        if not (_is_text(p) or (header_says and p.filled)):
            continue
        question = None if fhir else _question_text(p.name)
        why = f"free text ({p.filled - sum(p.placeholders.values())} answers, {p.mean_words:.0f} words on average)"
        if question is None:
            why += "; the item's text is the question" if fhir else "; the header is the question"
        if p.placeholders:
            shown = ", ".join(f"{v!r} x{n}" for v, n in sorted(p.placeholders.items(), key=lambda kv: -kv[1]))
            why += f"; placeholders {shown}"
            roles.warnings.append(f"question {p.name!r}: placeholder answers {shown} (see options.placeholders)")
            _add_placeholders(roles, p)
        roles.questions[p.name] = Guess(question, why)
        taken.add(p.name)


def _add_placeholders(roles: Roles, p: Profile) -> None:
    seen = {v.casefold() for v in roles.placeholders}
    for value in sorted(p.placeholders, key=lambda v: -p.placeholders[v]):
        if value.casefold() not in seen:
            roles.placeholders.append(value)
            seen.add(value.casefold())


def _question_text(header: str) -> str | None:
    """The question a column answers: the header without its number ("Q2 - Why?" -> "Why?"); None: as is."""
    known = {k: v for preset in PRESETS.values() for k, v in preset.questions.items()}
    if header in known:
        return known[header]
    stripped = _CODE.sub("", header).strip()
    if stripped and stripped != header.strip():
        return stripped
    if "_" in header and " " not in header:
        return header.replace("_", " ").strip().capitalize()
    return None


def _category(roles: Roles, role: str, profiles: list[Profile], taken: set[str], named_only: bool) -> None:
    free = [p for p in profiles if p.name not in taken and _is_category(p) and p.fill >= 0.5]
    named = [p for p in free if _matches(role, p.label)]
    if role == "age_band":
        named = [p for p in named if p.distinct <= 20]
    if named:
        best = max(named, key=lambda p: p.fill)
        why = f"the header, and {best.distinct} distinct values"
    elif not named_only and role in ("site", "service") and free:
        # No header says so: the coarser unnamed category is the site, the finer the service.
        unnamed = sorted(free, key=lambda p: (p.distinct, profiles.index(p)))
        unnamed = [p for p in unnamed if not _matches("age_band", p.label) and p.distinct >= 2]
        if not unnamed:
            return
        best = unnamed[0]
        why = f"by its values only ({best.distinct} distinct short labels): CHECK"
    else:
        return
    if best.fill < 1 and role == "site":
        why += f"; {best.rows - best.filled} rows empty (quarantined: missing site)"
    roles.fields[role] = Guess(best.name, why)
    taken.add(best.name)


def _site_default(title: str | None) -> str:
    if title:
        return re.split(r"\s+[-:|]\s+", title.strip())[0][:80]
    return "Unknown site"


def _preset(roles: Roles) -> None:
    """The preset: fft, nps or hcahps when the rating says so, else questionnaire with the rating's scale."""
    scale = roles.rating_scale.value if roles.rating_scale else None
    hcahps_items = [c for c, g in roles.items.items() if g.value["scale"] in ("hcahps4", "recommend4")]
    if scale == "rating0_10" and len(hcahps_items) >= 3:
        roles.preset = Guess("hcahps", f"a 0-10 overall rating and {len(hcahps_items)} HCAHPS items: HCAHPS")
    elif scale == "fft5":
        roles.preset = Guess("fft", "the rating is the Friends and Family Test question")
    elif scale == "nps11":
        roles.preset = Guess("nps", "the rating is a 0-10 likelihood to recommend")
    else:
        roles.preset = Guess("questionnaire", "a survey without an FFT or NPS rating: the scale is set below")
