"""Synthetic demo data with planted, documented patterns.

``generate`` writes the four demo source files (FFT survey, NPS survey, suggestion box,
complaints) plus ``manifest.json``. The manifest describes every planted pattern with its
exact parameters and the rates actually realised, so the analysis stages can be tested on
whether they recover known signal (see ``docs/planted-patterns.md``).

Everything is derived from one seed through ``numpy.random.default_rng``; the output is
byte-identical for the same arguments. The work is split in steps, one module each:
``plan`` draws every per-record decision, this module renders the text and writes the files,
``manifest`` describes them. Free text is built compositionally (``text``, ``templates``) from
phrase banks kept as YAML data in ``pipelines/demo/data/`` (``phrases``); the planted
identifiers (``identifiers``) are fictional (Ofcom drama phone ranges, ``example.*`` e-mail
domains, NHS numbers in the unissued 9xx range).

Run ``python -m pipelines.demo.generator OUT_DIR --rows 5000`` to write a data set by hand.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.demo.draw import Draw, cumulative
from pipelines.demo.identifiers import with_phi
from pipelines.demo.manifest import build_manifest
from pipelines.demo.params import (
    AGE_BANDS,
    BILLING_CATEGORY,
    COMPLAINT_CATEGORIES,
    COMPLAINT_COLUMNS,
    FFT_COLUMNS,
    FFT_RATINGS,
    FILES,
    GENERATOR_VERSION,
    HOSTILE,
    HOSTILE_PAYLOADS,
    MODES,
    NONINF,
    NONINF_GOOD_VALUES,
    NONINF_IMPROVE_VALUES,
    NPS_COLUMNS,
    SERVICES,
    SEVERITIES,
    SITES,
    SUGGESTION_KEYS,
    TEXT,
)
from pipelines.demo.plan import Plan, make_plan
from pipelines.demo.templates import Ctx, Pools, pools
from pipelines.demo.text import N_TOPICS_CUM, complaint_text, compose, location, nps_reason, pick_topics, stylise
from pipelines.demo.text import suggestion as suggestion_text
from pipelines.demo.timeline import Calendar, Skeleton, choice, ids, stamps

__all__ = [
    "AGE_BANDS",
    "COMPLAINT_CATEGORIES",
    "FFT_RATINGS",
    "FILES",
    "GENERATOR_VERSION",
    "HOSTILE_PAYLOADS",
    "SERVICES",
    "SITES",
    "generate",
    "main",
]

_SEVERITY_W = {
    "Clinical treatment": (0.2, 0.4, 0.28, 0.12),
    "Billing and charges": (0.55, 0.35, 0.09, 0.01),
    "Car parking": (0.8, 0.18, 0.02, 0.0),
    "Other": (0.6, 0.3, 0.08, 0.02),
}
_SEVERITY_BASE = (0.45, 0.35, 0.15, 0.05)
_CLOSE_DAYS = ((3, 30), (10, 45), (20, 80), (40, 140))
_ACK_LAG_CUM = cumulative((0.15, 0.35, 0.25, 0.12, 0.08, 0.05))


def generate(
    out_dir: Path,
    rows: int = 1000,
    seed: int = 42,
    start: date = date(2025, 11, 1),
    months: int = 12,
) -> dict:
    """Write the four demo source files + manifest.json into out_dir; return the manifest dict.

    Args:
        out_dir: Directory to write into (created if missing; existing files are overwritten).
        rows: Approximate total number of source records (62% FFT, 13% NPS, 10% suggestions,
            15% complaints).
        seed: Seed for ``numpy.random.default_rng``; same arguments give byte-identical files.
        start: First day of the window.
        months: Length of the window in months.

    Returns:
        The manifest written to ``out_dir / "manifest.json"``.

    Raises:
        ValueError: if ``rows`` < 20 or ``months`` is not between 1 and 60.
    """
    if rows < 20:
        raise ValueError(f"rows must be at least 20, got {rows}")
    if not 1 <= months <= 60:
        raise ValueError(f"months must be between 1 and 60, got {months}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = make_plan(seed, rows, start, months)
    r = _Renderer(plan, Draw(plan.r_text), pools())
    fft_rows, nps_rows = r.fft(), r.nps()
    sug_rows, cmp_rows = r.suggestions(), r.complaints()
    _write_csv(out_dir / FILES["fft"], FFT_COLUMNS, fft_rows)
    _write_csv(out_dir / FILES["nps"], NPS_COLUMNS, nps_rows)
    _write_jsonl(out_dir / FILES["suggestions"], sug_rows)
    _write_csv(out_dir / FILES["complaints"], COMPLAINT_COLUMNS, cmp_rows)
    written = {"fft": len(fft_rows), "nps": len(nps_rows), "suggestions": len(sug_rows), "complaints": len(cmp_rows)}
    manifest = build_manifest(seed, rows, plan, r.phi_rows, r.hostile_rows, written)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


@dataclass
class _Renderer:
    """Renders the plan's records source by source, in a fixed order (one text stream for all)."""

    plan: Plan
    d: Draw
    p: Pools
    phi_rows: list[dict[str, str]] = field(default_factory=list)
    hostile_rows: list[dict[str, str]] = field(default_factory=list)

    def add_phi(self, text: str, file: str, rid: str, field_: str) -> str:
        """``text`` with a planted identifier sentence; the plant is recorded for the manifest."""
        found: list[tuple[str, str]] = []
        text = with_phi(self.d, text, found)
        for kind, value in found:
            self.phi_rows.append({"file": file, "id": rid, "field": field_, "type": kind, "value": value})
        return text

    def hostile(self, source: str, rid: str, field_: str, j: int) -> str:
        """The ``j``-th hostile payload, recorded for the manifest."""
        text = self.plan.marks.hostile_value(j)
        self.hostile_rows.append({"file": FILES[source], "id": rid, "field": field_, "text": text})
        return text

    def fft(self) -> list[list[str]]:
        """FFT rows: rating, what was good, what could improve (tone follows the rating)."""
        pl, sk = self.plan, self.plan.frame.fft
        n = len(sk.day)
        f_ids, f_stamps = ids("FFT", n), stamps(pl.frame.cal, sk)
        age = _age_bands(pl.r_plan, sk.service)
        mode = _modes(pl.r_plan, age)
        hostile_at = {int(i): j for j, i in enumerate(pl.marks.h_f.tolist())}
        out: list[list[str]] = []
        for i in range(n):
            self.d.memo.clear()  # one relative per response
            svc, site, rt = int(sk.service[i]), int(sk.site[i]), int(pl.resp.rating[i])
            sms = mode[i] == "SMS"
            good = self._fft_good(i, f_ids[i], rt, (svc, site), sms)
            if pl.states.imp[i] == HOSTILE:
                imp = self.hostile("fft", f_ids[i], "what_could_improve", hostile_at[i])
            else:
                imp = self._fft_improve(i, f_ids[i], rt, (svc, site), sms)
            out.append([f_ids[i], f_stamps[i], SITES[site], SERVICES[svc], FFT_RATINGS[rt], good, imp, age[i], mode[i]])
        return out

    def _fft_good(self, i: int, rid: str, rt: int, ctx: Ctx, sms: bool) -> str:
        d, p, pl = self.d, self.p, self.plan
        state = int(pl.states.good[i])
        if state == NONINF:
            return d.pick(NONINF_GOOD_VALUES)
        if state != TEXT:
            return ""
        tone = "weakpos" if rt in (3, 4) else "pos"
        forced = ["food"] if pl.topics.g_food[i] else []
        k = 1 if tone == "weakpos" and not forced else d.weighted(N_TOPICS_CUM) + 1
        topics = pick_topics(d, p, "weak" if tone == "weakpos" else "praise", ctx[0], k, forced)
        text = stylise(d, compose(d, p, topics, "pos", tone, ctx), sms)
        return self.add_phi(text, "fft", rid, "what_was_good") if pl.marks.phi_g[i] else text

    def _fft_improve(self, i: int, rid: str, rt: int, ctx: Ctx, sms: bool) -> str:
        d, p, pl = self.d, self.p, self.plan
        state = int(pl.states.imp[i])
        if state == NONINF:
            return d.pick(NONINF_IMPROVE_VALUES)
        if state != TEXT:
            return ""
        t = pl.topics
        forced = (
            (["ed_wait"] if pl.resp.f_wait[i] else [])
            + (["parking"] if t.i_park[i] else [])
            + (["food"] if t.i_food[i] else [])
        )
        if rt in (0, 1, 5):
            tone, kind = "mild", "mild"
        else:
            tone, kind = ("strong" if rt == 4 and d.chance(0.5) else "neg"), "neg"
        # Draw order matters for the bytes: the topic count first, then the mild "one fewer" chance.
        k = max(1, len(forced), d.weighted(N_TOPICS_CUM) + 1 - (1 if tone == "mild" and d.chance(0.5) else 0))
        topics = pick_topics(d, p, kind, ctx[0], k, forced)
        text = stylise(d, compose(d, p, topics, "neg", tone, ctx), sms)
        return self.add_phi(text, "fft", rid, "what_could_improve") if pl.marks.phi_i[i] else text

    def nps(self) -> list[list[str]]:
        """NPS rows: score and reason (promoters praise, passives mix, detractors complain)."""
        d, pl, sk = self.d, self.plan, self.plan.frame.nps
        n = len(sk.day)
        n_ids, n_stamps = ids("NPS", n), stamps(pl.frame.cal, sk)
        hostile_at = {int(i): j for j, i in enumerate(pl.marks.h_n.tolist())}
        out: list[list[str]] = []
        for i in range(n):
            d.memo.clear()
            svc, site, sc = int(sk.service[i]), int(sk.site[i]), int(pl.resp.score[i])
            state = int(pl.states.nps[i])
            reason = ""
            if state == TEXT:
                t = pl.topics
                forced_neg = (["ed_wait"] if pl.resp.n_wait[i] else []) + (["parking"] if t.r_park[i] else [])
                food_pos = bool(t.r_food[i] and t.food_pos_nps[i])
                if t.r_food[i] and not food_pos:
                    forced_neg.append("food")
                reason = nps_reason(d, self.p, sc, (svc, site), forced_neg, food_pos)
                reason = stylise(d, reason, sms=d.chance(0.3))
                if pl.marks.phi_r[i]:
                    reason = self.add_phi(reason, "nps", n_ids[i], "reason")
            elif state == HOSTILE:
                reason = self.hostile("nps", n_ids[i], "reason", hostile_at[i] + 1)
            out.append([n_ids[i], n_stamps[i], SITES[site], SERVICES[svc], str(sc), reason])
        return out

    def suggestions(self) -> list[dict[str, Any]]:
        """Suggestion-box entries (about a fifth have no site; none has a service)."""
        d, pl = self.d, self.plan
        n = len(pl.frame.sug.day)
        s_ids, s_stamps = ids("SUG", n), stamps(pl.frame.cal, pl.frame.sug)
        hostile_at = {int(i): j for j, i in enumerate(pl.marks.h_s.tolist())}
        t = pl.topics
        out: list[dict[str, Any]] = []
        for i in range(n):
            d.memo.clear()
            site = int(pl.frame.sug_site[i])
            ctx = (-1, site if site < 3 else -1)
            if pl.states.sug[i] == HOSTILE:
                text = self.hostile("suggestions", s_ids[i], "text", hostile_at[i] + 2)
            else:
                text = suggestion_text(d, self.p, ctx, bool(t.s_park[i]), bool(t.s_food[i]), bool(t.food_pos_sug[i]))
                text = stylise(d, text, sms=d.chance(0.2))
                if pl.marks.phi_s[i]:
                    text = self.add_phi(text, "suggestions", s_ids[i], "text")
            values = (s_ids[i], s_stamps[i], SITES[site] if site < 3 else None, location(d, site), text)
            out.append(dict(zip(SUGGESTION_KEYS, values, strict=True)))
        return out

    def complaints(self) -> list[list[str]]:
        """Complaint rows with handling dates, status, severity and description."""
        pl = self.plan
        c_ids = ids("CMP", len(pl.category))
        rows = _complaint_rows(self, pl.frame.cal, pl.frame.cmp, c_ids)
        for j, i in enumerate(pl.marks.h_c.tolist()):
            rows[int(i)][11] = self.hostile("complaints", c_ids[int(i)], "description", j + 3)
        return rows


def _age_bands(rng: np.random.Generator, service: np.ndarray) -> list[str]:
    base = np.array([8, 13, 15, 17, 18, 16, 13], dtype=float)
    by_service = {
        1: np.array([18, 42, 30, 6, 2, 1, 1.0]),
        7: np.array([6, 30, 38, 17, 5, 2, 2.0]),
        6: np.array([20, 24, 20, 16, 11, 6, 3.0]),
    }
    idx = choice(rng, len(service), base)
    for s, w in by_service.items():
        mask = service == s
        idx[mask] = choice(rng, int(mask.sum()), w)
    blank = rng.random(len(service)) < 0.10
    return ["" if b else AGE_BANDS[i] for i, b in zip(idx.tolist(), blank.tolist(), strict=True)]


def _modes(rng: np.random.Generator, ages: list[str]) -> list[str]:
    older = np.array([a in ("65-74", "75+") for a in ages], dtype=bool)
    idx = choice(rng, len(ages), (0.33, 0.42, 0.15, 0.10))
    idx[older] = choice(rng, int(older.sum()), (0.18, 0.37, 0.35, 0.10))
    return [MODES[i] for i in idx.tolist()]


def _add_working_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _handling(rng: np.random.Generator, category: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per complaint: severity, contacts, handling minutes, reopened flag, stuck-open flag."""
    n = len(category)
    severity = np.zeros(n, dtype=np.int64)
    for ci, cat in enumerate(COMPLAINT_CATEGORIES):
        mask = category == ci
        severity[mask] = choice(rng, int(mask.sum()), _SEVERITY_W.get(cat, _SEVERITY_BASE))
    billing = category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY)
    lam = np.array([0.5, 1.0, 1.8, 2.5])[severity] + np.where(billing, 0.8, 0.0)
    contacts = np.clip(1 + rng.poisson(lam), 1, 6)
    minutes = (15 + 25 * contacts + np.array([0, 30, 90, 200])[severity] + rng.gamma(2.0, 15.0, n)).astype(np.int64)
    reopen = rng.random(n) < 0.06
    stuck_open = rng.random(n) < 0.03
    return severity, contacts, minutes, reopen, stuck_open


def _status(cal: Calendar, ack: date, closed: date, reopen: bool, stuck: bool) -> tuple[str, str, str]:
    """(status, acknowledged date, closed date) as written: dates only where the status has them."""
    if ack > cal.end or stuck:
        return "open", "", ""
    if closed > cal.end:
        return "acknowledged", ack.isoformat(), ""
    if reopen:
        return "reopened", ack.isoformat(), ""
    return "closed", ack.isoformat(), closed.isoformat()


def _complaint_rows(r: _Renderer, cal: Calendar, sk: Skeleton, c_ids: list[str]) -> list[list[str]]:
    """Complaint rows in COMPLAINT_COLUMNS order (description empty where a hostile payload goes)."""
    d, pl = r.d, r.plan
    severity, contacts, minutes, reopen, stuck_open = _handling(pl.r_plan, pl.category)
    out: list[list[str]] = []
    for i in range(len(c_ids)):
        d.memo.clear()
        received = cal.days[int(sk.day[i])]
        sev = int(severity[i])
        ack = _add_working_days(received, d.weighted(_ACK_LAG_CUM))
        lo, hi = _CLOSE_DAYS[sev]
        closed = max(ack, received + timedelta(days=d.between(lo, hi)))
        status, ack_s, closed_s = _status(cal, ack, closed, bool(reopen[i]), bool(stuck_open[i]))
        cat = COMPLAINT_CATEGORIES[int(pl.category[i])]
        ctx = (int(sk.service[i]), int(sk.site[i]))
        text = ""
        if pl.states.cmp[i] == TEXT:
            text = complaint_text(d, r.p, cat, ctx)
            if pl.marks.phi_c[i]:
                text = r.add_phi(text, "complaints", c_ids[i], "description")
        out.append(
            [
                c_ids[i],
                received.isoformat(),
                SITES[ctx[1]],
                SERVICES[ctx[0]],
                cat,
                SEVERITIES[sev],
                status,
                ack_s,
                closed_s,
                str(int(contacts[i])),
                str(int(minutes[i])),
                text,
            ]
        )
    return out


def _write_csv(path: Path, header: Sequence[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m pipelines.demo.generator OUT_DIR [--rows N] [--seed S]``."""
    parser = argparse.ArgumentParser(description="Write the demo feedback data set.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 11, 1))
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)
    manifest = generate(args.out_dir, rows=args.rows, seed=args.seed, start=args.start, months=args.months)
    print(json.dumps(manifest["counts"]))


if __name__ == "__main__":
    main()
