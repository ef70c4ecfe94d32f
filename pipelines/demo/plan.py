"""The demo data's plan: every per-record decision that is drawn before any text is written.

``make_plan`` draws, in a fixed order from streams spawned off one seed, the record skeletons,
ratings, which answers are filled in, and the planted patterns (ED weekend waits, parking surge,
food control, non-informative answers, complaint categories, PHI and hostile texts). The text
rendering in ``pipelines.demo.generator`` then only reads the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from pipelines.demo.params import (
    BILLING_CATEGORY,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CATEGORY_WEIGHTS,
    ED_WEEKDAY_WAIT_SHARE,
    ED_WEEKEND_WAIT_SHARE,
    EMPTY,
    FOOD_SHARE,
    HOSTILE,
    HOSTILE_PAYLOADS,
    NONINF,
    NONINF_GOOD_SHARE,
    NONINF_IMPROVE_SHARE,
    PARKING_BASELINE,
    PARKING_SURGE,
    PHI_SHARE,
    SERVICES,
    SITES,
    SOURCE_SHARES,
    TEXT,
    WEIGHTS_FFT_BASE,
    WEIGHTS_FFT_ED,
    WEIGHTS_FFT_HILLCREST,
    WEIGHTS_FFT_WAIT,
    WEIGHTS_NPS_BASE,
    WEIGHTS_NPS_ED,
    WEIGHTS_NPS_WAIT,
)
from pipelines.demo.templates import SERVICE_GROUPS
from pipelines.demo.timeline import (
    HILLCREST_ALLOWED,
    SERVICE_W_COMPLAINT,
    Calendar,
    Skeleton,
    build_calendar,
    choice,
    group_quota,
    quota,
    skeleton,
)

_CATEGORY_SERVICES: dict[str, frozenset[int]] = {
    "Appointments": SERVICE_GROUPS["appt"],
    "Discharge": SERVICE_GROUPS["stay"],
}


@dataclass(frozen=True)
class Frame:
    """The window, the record counts and the record skeletons of each source."""

    cal: Calendar
    surge_idx: int
    counts: dict[str, int]
    fft: Skeleton
    nps: Skeleton
    sug: Skeleton
    cmp: Skeleton
    sug_site: np.ndarray  # 0..2, 3 = posted with no site


@dataclass(frozen=True)
class Responses:
    """Survey responses: which have a comment, which describe ED waits, and their ratings."""

    f_text: np.ndarray
    n_text: np.ndarray
    f_wait: np.ndarray
    n_wait: np.ndarray
    rating: np.ndarray  # FFT_RATINGS index
    score: np.ndarray  # NPS 0..10


@dataclass(frozen=True)
class States:
    """Per answer: EMPTY, TEXT, NONINF or HOSTILE (hostile is set by ``_plan_hostile``)."""

    good: np.ndarray
    imp: np.ndarray
    nps: np.ndarray
    sug: np.ndarray
    cmp: np.ndarray


@dataclass(frozen=True)
class Texts:
    """All informative survey/suggestion answers, one row each (the unit ingestion melts to)."""

    source: np.ndarray  # 0 fft good, 1 fft improve, 2 nps reason, 3 suggestion
    record: np.ndarray
    site: np.ndarray  # 0..2, 3 = no site
    month: np.ndarray
    neg_ok: np.ndarray
    parking: np.ndarray  # planted parking mention
    food: np.ndarray  # planted food mention


@dataclass(frozen=True)
class Topics:
    """Planted food and parking mentions per source answer, and the tone of NPS/suggestion food."""

    g_food: np.ndarray
    i_food: np.ndarray
    i_park: np.ndarray
    r_food: np.ndarray
    r_park: np.ndarray
    s_food: np.ndarray
    s_park: np.ndarray
    food_pos_nps: np.ndarray
    food_pos_sug: np.ndarray


@dataclass(frozen=True)
class Marks:
    """Answers carrying a planted identifier (flags) and hostile payloads (record indices)."""

    phi_g: np.ndarray
    phi_i: np.ndarray
    phi_r: np.ndarray
    phi_s: np.ndarray
    phi_c: np.ndarray
    h_f: np.ndarray
    h_n: np.ndarray
    h_s: np.ndarray
    h_c: np.ndarray
    payload_offset: int

    def hostile_value(self, j: int) -> str:
        """The ``j``-th hostile payload (payloads rotate from a random offset)."""
        return HOSTILE_PAYLOADS[(self.payload_offset + j) % len(HOSTILE_PAYLOADS)]


@dataclass(frozen=True)
class Plan:
    """Every decision drawn before text rendering, plus the generators rendering continues with."""

    frame: Frame
    resp: Responses
    states: States
    texts: Texts
    topics: Topics
    category: np.ndarray  # COMPLAINT_CATEGORIES index
    marks: Marks
    r_plan: np.random.Generator  # continues into age bands, modes and complaint handling
    r_text: np.random.Generator  # all free text


def make_plan(seed: int, rows: int, start: date, months: int) -> Plan:
    """Draw the whole plan for ``rows`` records from ``seed`` (the stream order is part of the output)."""
    r_time, r_plan, r_text, r_misc = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    frame = _frame(r_time, rows, start, months)
    resp = _responses(r_plan, frame)
    states = _answer_states(r_plan, frame, resp)
    texts = _texts(r_plan, frame, states)
    topics = _topics(r_plan, frame, resp, texts)
    category = _categories(r_plan, frame.cmp)
    marks = _marks(r_misc, resp, states, topics, category)
    return Plan(frame, resp, states, texts, topics, category, marks, r_plan, r_text)


def _frame(rng: np.random.Generator, rows: int, start: date, months: int) -> Frame:
    cal = build_calendar(start, months)
    surge_idx = 8 if months >= 10 else max(1, (2 * months) // 3)
    counts = {k: round(v * rows) for k, v in SOURCE_SHARES.items()}
    counts["complaints"] = rows - counts["fft"] - counts["nps"] - counts["suggestions"]
    fft = skeleton(rng, cal, counts["fft"], "survey")
    nps = skeleton(rng, cal, counts["nps"], "survey")
    sug = skeleton(rng, cal, counts["suggestions"], "suggestion")
    cmp_ = skeleton(rng, cal, counts["complaints"], "complaint")
    sug_site = np.where(rng.random(counts["suggestions"]) < 0.20, 3, sug.site)
    return Frame(cal, surge_idx, counts, fft, nps, sug, cmp_, sug_site)


def _pick_rating(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    return choice(rng, n, np.asarray(weights, dtype=float))


def _responses(rng: np.random.Generator, frame: Frame) -> Responses:
    """Pattern 2 (ED weekend waits) at response level, then the ratings that follow from it."""
    fft, nps, cal = frame.fft, frame.nps, frame.cal
    n_f, n_n = len(fft.day), len(nps.day)
    f_text = rng.random(n_f) < 0.90
    n_text = rng.random(n_n) < 0.75
    ed_keys = np.concatenate([cal.dow[fft.day] >= 5, cal.dow[nps.day] >= 5]).astype(np.int64)
    ed_pop = np.concatenate([(fft.service == 0) & f_text, (nps.service == 0) & n_text])
    wait = group_quota(
        rng, ed_keys, ed_pop, ed_pop, lambda k: ED_WEEKEND_WAIT_SHARE if k == 1 else ED_WEEKDAY_WAIT_SHARE
    )
    f_wait, n_wait = wait[:n_f], wait[n_f:]
    rating = _pick_rating(rng, n_f, WEIGHTS_FFT_BASE)
    for mask, w in (
        (fft.site == 2, WEIGHTS_FFT_HILLCREST),
        (fft.service == 0, WEIGHTS_FFT_ED),
        (f_wait, WEIGHTS_FFT_WAIT),
    ):
        rating[mask] = _pick_rating(rng, int(mask.sum()), w)
    score = _pick_rating(rng, n_n, WEIGHTS_NPS_BASE)
    for mask, w in ((nps.service == 0, WEIGHTS_NPS_ED), (n_wait, WEIGHTS_NPS_WAIT)):
        score[mask] = _pick_rating(rng, int(mask.sum()), w)
    return Responses(f_text, n_text, f_wait, n_wait, rating, score)


def _answer_states(rng: np.random.Generator, frame: Frame, resp: Responses) -> States:
    """Which FFT answers are filled in, then pattern 4 (non-informative answers, exact quotas)."""
    n_f = len(resp.rating)
    positive = np.isin(resp.rating, (0, 1, 5))
    negative = np.isin(resp.rating, (3, 4))
    p_good = np.where(positive, 0.90, np.where(negative, 0.5, 0.6))
    p_imp = np.where(positive, 0.62, np.where(negative, 0.97, 0.85))
    good = resp.f_text & (rng.random(n_f) < p_good)
    imp = (resp.f_text & (rng.random(n_f) < p_imp)) | resp.f_wait
    both_empty = resp.f_text & ~good & ~imp
    good |= both_empty & positive
    imp |= both_empty & ~positive
    good_state = np.where(good, TEXT, EMPTY)
    imp_state = np.where(imp, TEXT, EMPTY)
    k_imp = round(NONINF_IMPROVE_SHARE * int(imp.sum()))
    imp_state[quota(rng, np.flatnonzero(imp & positive & ~resp.f_wait), k_imp)] = NONINF
    k_good = round(NONINF_GOOD_SHARE * int(good.sum()))
    good_state[quota(rng, np.flatnonzero(good & negative), k_good)] = NONINF
    n_s, n_c = frame.counts["suggestions"], frame.counts["complaints"]
    nps_state = np.where(resp.n_text, TEXT, EMPTY)
    return States(good_state, imp_state, nps_state, np.full(n_s, TEXT), np.full(n_c, TEXT))


def _texts(rng: np.random.Generator, frame: Frame, states: States) -> Texts:
    """The informative answers, with patterns 1 and 5 (parking surge, food control) as quotas per site x month."""
    cal, fft, nps, sug = frame.cal, frame.fft, frame.nps, frame.sug
    f_month, n_month, s_month = cal.month[fft.day], cal.month[nps.day], cal.month[sug.day]
    g_idx = np.flatnonzero(states.good == TEXT)
    i_idx = np.flatnonzero(states.imp == TEXT)
    r_idx = np.flatnonzero(states.nps == TEXT)  # before hostile texts are placed: every NPS comment
    n_s = len(sug.day)
    s_idx = np.arange(n_s)
    sizes = (len(g_idx), len(i_idx), len(r_idx), len(s_idx))
    source = np.concatenate([np.full(n, src) for src, n in enumerate(sizes)])
    site = np.concatenate([fft.site[g_idx], fft.site[i_idx], nps.site[r_idx], frame.sug_site])
    month = np.concatenate([f_month[g_idx], f_month[i_idx], n_month[r_idx], s_month])
    neg_ok = np.concatenate([np.zeros(len(g_idx), bool), np.ones(len(i_idx) + len(r_idx) + n_s, bool)])
    keys = site * 1000 + month
    everyone = np.ones(len(keys), dtype=bool)

    def parking_share(key: int) -> float:
        return PARKING_SURGE if (key // 1000 == 0 and key % 1000 >= frame.surge_idx) else PARKING_BASELINE

    parking = group_quota(rng, keys, everyone, neg_ok, parking_share)
    food = group_quota(rng, keys, everyone, everyone, lambda k: FOOD_SHARE)
    record = np.concatenate([g_idx, i_idx, r_idx, s_idx])
    return Texts(source, record, site, month, neg_ok, parking, food)


def _topics(rng: np.random.Generator, frame: Frame, resp: Responses, texts: Texts) -> Topics:
    """The planted parking/food mentions back on their source answers."""
    n_f, n_n, n_s = (frame.counts[k] for k in ("fft", "nps", "suggestions"))

    def per_source(flags: np.ndarray, src: int, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        out[texts.record[(texts.source == src) & flags]] = True
        return out

    return Topics(
        g_food=per_source(texts.food, 0, n_f),
        i_food=per_source(texts.food, 1, n_f),
        i_park=per_source(texts.parking, 1, n_f),
        r_food=per_source(texts.food, 2, n_n),
        r_park=per_source(texts.parking, 2, n_n),
        s_food=per_source(texts.food, 3, n_s),
        s_park=per_source(texts.parking, 3, n_s),
        food_pos_nps=rng.random(n_n) < np.where(resp.score >= 7, 0.7, 0.15),
        food_pos_sug=rng.random(n_s) < 0.4,
    )


def _categories(rng: np.random.Generator, sk: Skeleton) -> np.ndarray:
    """Pattern 3: complaint categories as an exact quota (largest remainders), in random order."""
    n_c = len(sk.day)
    cw = np.asarray(COMPLAINT_CATEGORY_WEIGHTS, dtype=float)
    exact = cw / cw.sum() * n_c
    base = np.floor(exact).astype(np.int64)
    rest = n_c - int(base.sum())
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    category = np.empty(n_c, dtype=np.int64)
    category[:] = rng.permutation(np.repeat(np.arange(len(cw)), base))
    _fit_services(rng, category, sk)
    return category


def _fit_services(rng: np.random.Generator, category: np.ndarray, sk: Skeleton) -> None:
    """Re-draw the service of complaints whose category cannot happen there (no ED appointments)."""
    for cat, allowed in _CATEGORY_SERVICES.items():
        ok = np.array([i in allowed for i in range(len(SERVICES))])
        for site in range(len(SITES)):
            bad = (category == COMPLAINT_CATEGORIES.index(cat)) & (sk.site == site) & ~ok[sk.service]
            w = np.where(ok & (HILLCREST_ALLOWED if site == 2 else True), SERVICE_W_COMPLAINT, 0.0)
            sk.service[bad] = choice(rng, int(bad.sum()), w)


def _marks(rng: np.random.Generator, resp: Responses, states: States, topics: Topics, category: np.ndarray) -> Marks:
    """Patterns 6 and 7: PHI and hostile texts, exact quotas per field; hostile states are set here."""

    def phi_pick(field: np.ndarray) -> np.ndarray:
        nonempty = int((field != EMPTY).sum())
        out = np.zeros(len(field), dtype=bool)
        out[quota(rng, np.flatnonzero(field == TEXT), round(PHI_SHARE * nonempty))] = True
        return out

    phi_g, phi_i = phi_pick(states.good), phi_pick(states.imp)
    phi_r, phi_s, phi_c = phi_pick(states.nps), phi_pick(states.sug), phi_pick(states.cmp)

    def hostile_pick(field: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        picked = quota(rng, np.flatnonzero((field == TEXT) & ~blocked), max(3, len(field) // 2000))
        field[picked] = HOSTILE
        return picked

    t = topics
    h_f = hostile_pick(states.imp, phi_i | resp.f_wait | t.i_food | t.i_park)
    h_n = hostile_pick(states.nps, phi_r | resp.n_wait | t.r_food | t.r_park)
    h_s = hostile_pick(states.sug, phi_s | t.s_food | t.s_park)
    h_c = hostile_pick(states.cmp, phi_c | (category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY)))
    offset = int(rng.integers(0, len(HOSTILE_PAYLOADS)))
    return Marks(phi_g, phi_i, phi_r, phi_s, phi_c, h_f, h_n, h_s, h_c, offset)
