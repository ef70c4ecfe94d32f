"""Free text of the demo data: comments composed from topic phrases, with real-world noise.

The phrases come from the YAML banks (``pipelines.demo.phrases``); this module decides how many
topics a comment has, in which tone, how clauses are joined and framed, and the noise (typos,
lower case, text-speak) put on top.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pipelines.demo import phrases
from pipelines.demo.draw import Draw, cumulative
from pipelines.demo.params import BILLING_CATEGORY
from pipelines.demo.templates import Ctx, Pools, Tpl, render

N_TOPICS_CUM = cumulative((0.45, 0.38, 0.17))


def cap(s: str) -> str:
    """``s`` with its first character upper-cased."""
    return s[:1].upper() + s[1:] if s else s


def pick_topics(d: Draw, p: Pools, kind: str, service: int, k: int, forced: Sequence[str] = ()) -> list[str]:
    """Up to ``k`` distinct topics of kind ``kind`` for ``service``, the ``forced`` (planted) ones included."""
    names, cum = p.cum[(kind, service)]
    chosen = list(forced)
    tries = 0
    while len(chosen) < k and tries < 12:
        t = names[d.weighted(cum)]
        if t not in chosen:
            chosen.append(t)
        tries += 1
    if forced and len(chosen) > 1 and d.chance(0.4):
        # Planted topics are not always mentioned first.
        i = d.below(len(chosen))
        chosen[0], chosen[i] = chosen[i], chosen[0]
    return chosen


def _clause(d: Draw, p: Pools, topic: str, pol: str, ctx: Ctx, mild: bool = False) -> str:
    svc = ctx[0]
    use = "mild" if (mild and pol == "neg" and p.has(topic, "mild", -1)) else pol
    text = render(d, d.pick(p.get(topic, use, svc)), ctx)
    if d.chance(0.3):
        text += render(d, d.pick(p.get("tails", pol, svc)), ctx)
    return text


def _finish(d: Draw, text: str, pos: bool) -> str:
    if text and text[-1] not in ".!?":
        text += "!" if (pos and d.chance(0.15)) else "."
    return text


def _join(d: Draw, clauses: Sequence[str], connectors: Sequence[str]) -> str:
    # The first clause keeps its own case: the caller capitalises it or puts an opener first.
    out = clauses[0]
    for c in clauses[1:]:
        conn = d.pick(connectors)
        out += conn + (cap(c) if conn.endswith((". ", "! ", "... ", "? ")) else c)
    return out


def compose(d: Draw, p: Pools, topics: Sequence[str], pol: str, tone: str, ctx: Ctx) -> str:
    """One comment about ``topics`` in polarity ``pol`` and ``tone`` (pos/weakpos/mild/neg/strong)."""
    mild = tone == "mild"
    clauses = [_clause(d, p, t, pol, ctx, mild) for t in topics]
    frame = phrases.load("comments")
    body = _join(d, clauses, frame["connectors"]["pos" if pol == "pos" else "neg"])
    body = _with_opener(d, body, tone, 0.6 if tone == "strong" else 0.3)
    body = _finish(d, body, pol == "pos")
    if d.chance(0.55 if tone == "strong" else 0.28):
        body += " " + d.pick(frame["closers"][tone])
    return body


def _with_opener(d: Draw, body: str, tone: str, p_open: float) -> str:
    if not d.chance(p_open):
        return cap(body)
    opener = d.pick(phrases.load("comments")["openers"][tone])
    return opener + (cap(body) if opener.endswith((". ", ": ", "- ", "... ")) else body)


def _contrast(d: Draw, first: str, second: str) -> str:
    return _finish(d, first.rstrip(".!") + d.pick(phrases.load("comments")["contrast"]) + second, False)


_PROTECTED = re.compile(
    r"park|food|meal|menu|wait|hour|trolley|corridor|invoice|bill|charg|nothing|tea|breakfast|lunch|dinner|"
    r"sandwich|canteen|cafe|toast|coffee|snack|update",
    re.IGNORECASE,
)
_SPEAK = (
    (re.compile(r"\byou\b"), "u"),
    (re.compile(r"\byour\b"), "ur"),
    (re.compile(r"\bplease\b"), "pls"),
    (re.compile(r"\bthanks\b", re.IGNORECASE), "thx"),
    (re.compile(r"\bbecause\b"), "cos"),
    (re.compile(r"\band\b"), "&"),
    (re.compile(r"\bgreat\b"), "gr8"),
    (re.compile(r"\bpeople\b"), "ppl"),
    (re.compile(r"\bto be honest\b", re.IGNORECASE), "tbh"),
)
_WORD_RE = re.compile(r"[A-Za-z]{5,}")


def _typo(d: Draw, text: str) -> str:
    words = [m for m in _WORD_RE.finditer(text) if not _PROTECTED.search(m.group())]
    if not words:
        return text
    m = d.pick(words)
    w = m.group()
    i = d.between(1, len(w) - 2)
    kind = d.below(3)
    if kind == 0:
        w2 = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == 1:
        w2 = w[:i] + w[i + 1 :]
    else:
        w2 = w[:i] + w[i] + w[i:]
    return text[: m.start()] + w2 + text[m.end() :]


def stylise(d: Draw, text: str, sms: bool = False, formal: bool = False) -> str:
    """Occasional real-world noise: lower case, text-speak, typos, missing full stop."""
    if formal:
        return _typo(d, text) if d.chance(0.03) else text
    if d.chance(0.08):
        text = _typo(d, text)
        if d.chance(0.3):
            text = _typo(d, text)
    if d.chance(0.15 if sms else 0.04):
        for rx, rep in _SPEAK:
            if d.chance(0.5):
                text = rx.sub(rep, text)
    if d.chance(0.2 if sms else 0.08):
        text = text.lower()
    if d.chance(0.12) and text.endswith("."):
        text = text[:-1]
    return text


def nps_reason(d: Draw, p: Pools, score: int, ctx: Ctx, forced_neg: list[str], food_pos: bool) -> str:
    """An NPS reason whose tone follows the score (promoter, passive, detractor); planted topics forced."""
    svc = ctx[0]
    pos_forced = ["food"] if food_pos else []
    if score >= 9:
        shape = "pos+mild" if (forced_neg or d.chance(0.2)) else "pos"
    elif score >= 7:
        r = d.u()
        shape = "pos+neg" if r < 0.5 else ("mild" if r < 0.8 else "pos")
        if shape == "pos" and forced_neg:
            shape = "pos+neg"
        if shape == "mild" and pos_forced:
            shape = "pos+neg"
    else:
        r = d.u()
        shape = "weak+neg" if (r < 0.1 or pos_forced) else ("strong" if r < 0.3 else "neg")
    if shape == "pos":
        topics = pick_topics(d, p, "praise", svc, d.weighted(N_TOPICS_CUM) + 1, pos_forced)
        return compose(d, p, topics, "pos", "pos", ctx)
    if shape in ("mild", "neg", "strong"):
        kind = "mild" if shape == "mild" else "neg"
        topics = pick_topics(d, p, kind, svc, max(len(forced_neg), d.weighted(N_TOPICS_CUM) + 1), forced_neg)
        return compose(d, p, topics, "neg", shape, ctx)
    first_kind, first_tone = ("weak", "weakpos") if shape == "weak+neg" else ("praise", "pos")
    pos_topics = pick_topics(d, p, first_kind, svc, 1, pos_forced)
    neg_kind = "mild" if shape == "pos+mild" else "neg"
    neg_topics = pick_topics(d, p, neg_kind, svc, max(1, len(forced_neg)), forced_neg)
    connectors = phrases.load("comments")["connectors"]
    first = _join(d, [_clause(d, p, t, "pos", ctx) for t in pos_topics], connectors["pos"])
    first = _with_opener(d, first, first_tone, 0.2)
    second = _join(d, [_clause(d, p, t, "neg", ctx, neg_kind == "mild") for t in neg_topics], connectors["neg"])
    return _contrast(d, first, second)


def suggestion(d: Draw, p: Pools, ctx: Ctx, parking: bool, food: bool, food_pos: bool) -> str:
    """A suggestion-box entry: mostly suggestions, some complaints and thanks; planted topics forced."""
    food_pos = food_pos and not parking  # one text, one tone: with parking, food is a complaint too
    forced = (["parking"] if parking else []) + (["food"] if food and not food_pos else [])
    r = d.u()
    if food and food_pos:
        kind = "thanks"
    elif forced:
        kind = "suggest" if r < 0.75 else "complain"
    else:
        kind = "suggest" if r < 0.6 else ("complain" if r < 0.75 else "thanks")
    if kind == "thanks":
        topics = pick_topics(d, p, "praise", -1, d.weighted(N_TOPICS_CUM) + 1, ["food"] if food else [])
        opener = render(d, d.pick(p.get("thanks", "", -1)), ctx)
        return opener + compose(d, p, topics, "pos", "pos", ctx)
    if kind == "complain":
        topics = pick_topics(d, p, "neg", -1, max(len(forced), d.weighted(N_TOPICS_CUM) + 1), forced)
        return compose(d, p, topics, "neg", "neg", ctx)
    topics = pick_topics(d, p, "sug", -1, max(len(forced), 1 if d.chance(0.7) else 2), forced)
    return " ".join(_suggest_topic(d, p, t, ctx) for t in topics)


def _suggest_topic(d: Draw, p: Pools, topic: str, ctx: Ctx) -> str:
    """A framed suggestion about ``topic``, often after the complaint that prompts it."""
    comments = phrases.load("comments")
    sug_pool = p.by_key.get((topic, "sug", -1))
    if sug_pool and d.chance(0.55):
        s = render(d, d.pick(sug_pool), ctx)
        frame = d.pick(comments["suggestion_frames"])
        return frame.replace("{s}", s).replace("{S}", cap(s))
    complaint = _finish(d, cap(_clause(d, p, topic, "neg", ctx)), False)
    if sug_pool:
        s = render(d, d.pick(sug_pool), ctx)
        return complaint + " " + d.pick(comments["suggestion_frames"]).replace("{s}", s).replace("{S}", cap(s))
    return complaint + " " + d.pick(comments["suggestion_fallbacks"])


def location(d: Draw, site: int) -> str:
    """Where a suggestion was posted (site 3: no site, so an online channel)."""
    names, cum = _locations("no_site" if site == 3 else "site")
    if site == 3:
        return names[d.weighted(cum)]
    while True:
        loc = names[d.weighted(cum)]
        if site == 2 and loc in ("A&E waiting room box", "maternity unit card"):  # Hillcrest has neither
            continue
        return loc.replace("{n}", str(d.between(1, 32)))


@lru_cache(maxsize=2)
def _locations(key: str) -> tuple[tuple[str, ...], list[float]]:
    weights = phrases.load("comments")["suggestion_locations"][key]
    return tuple(weights), cumulative(weights.values())


_SENT_CUM = cumulative((0.08, 0.17, 0.27, 0.24, 0.15, 0.09))


def complaint_text(d: Draw, p: Pools, cat: str, ctx: Ctx) -> str:
    """A complaint description of 1-6 sentences in category ``cat`` (opener, body sentences, closer)."""
    n = d.weighted(_SENT_CUM) + 1
    svc = ctx[0]
    bodies = p.get(cat, "", svc)
    chosen: list[Tpl] = []
    for _ in range(max(1, n - 2 if n >= 3 else 1)):
        for _try in range(6):
            tpl = d.pick(bodies)
            if tpl not in chosen:
                chosen.append(tpl)
                break
    if n >= 4 and cat not in (BILLING_CATEGORY, "Communication") and d.chance(0.2):
        chosen[-1] = d.pick(p.get("Communication", "", svc))
    sentences = [render(d, t, ctx) for t in chosen]
    closers = p.get("c_bill_close" if (cat == BILLING_CATEGORY and d.chance(0.6)) else "c_close", "", svc)
    openers = p.get("c_open", "", svc)
    if n == 2:
        if d.chance(0.6):
            sentences.insert(0, render(d, d.pick(openers), ctx))
        else:
            sentences.append(render(d, d.pick(closers), ctx))
    elif n >= 3:
        sentences.insert(0, render(d, d.pick(openers), ctx))
        sentences.append(render(d, d.pick(closers), ctx))
    return stylise(d, " ".join(cap(s) for s in sentences), formal=True)
