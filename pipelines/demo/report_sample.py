"""A small synthetic warehouse for the report tests, layout previews and report timings.

It fills the raw/enrich/ops tables directly, as if ingest, redaction, sentiment, themes and
insights had run, so the reports can be built and tested without the ML stages. Planted:

* a parking surge at North Hospital in the last month (an emerging alert, momentum);
* "Billing and charges" arriving mostly through complaints (a complaint theme);
* waiting-time mentions at South Hospital falling after an action started (You said, we did)
  and a parking action started ten days before the end ("too early to tell");
* a tiny site, Riverside Clinic, with fewer than k responses a month (suppressed cells);
* PHI in the raw text only (``PLANTED_PHI``), replaced by placeholders in the redacted text;
* a comment carrying ``XSS_PAYLOAD`` (script tag, onerror image, javascript: link, a
  ``</script>`` breakout attempt) that must render as inert text.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from pipelines import schema, warehouse
from pipelines.config import Settings
from pipelines.demo import phrases

PLANTED_PHI = ("Jane Plantedname", "07700 900123", "943 476 5919")
XSS_PAYLOAD = (
    '<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">click me</a> '
    "</script><script>alert(2)</script> parking was impossible, drove round for an hour"
)
SITES = ("North Hospital", "South Hospital", "Central Clinic")
TINY_SITE = "Riverside Clinic"
SERVICES = ("Emergency Department", "Outpatients", "Maternity", "Radiology")
FFT_ANSWERS = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")
FFT_VALUES = (1.0, 0.75, 0.5, 0.25, 0.0, None)

THEMES: dict[str, tuple[str, str, str]] = {
    "T0001": ("Car parking", "parking", "Car parking"),
    "T0002": ("Waiting times", "waiting_times", "Waiting and delays"),
    "T0003": ("Staff attitude", "staff_attitude", "Staff attitude and behaviour"),
    "T0004": ("Communication", "communication", "Communication and information"),
    "T0005": ("Food and drink", "food", "Food and drink"),
    "T0006": ("Cleanliness", "cleanliness", "Cleanliness and environment"),
    "T0007": ("Billing and charges", "costs_charges", "Costs and charges"),
    "T0008": ("Phone lines", "phone_access", "Phone lines and getting through"),
}
SCORES = {"negative": -0.7, "neutral": 0.0, "positive": 0.75}
COMPLAINT_CATEGORIES = ("Billing", "Clinical care", "Communication", "Waiting times", "Staff attitude")
CATEGORY_THEME = {
    "Billing": "T0007",
    "Clinical care": "T0004",
    "Communication": "T0004",
    "Waiting times": "T0002",
    "Staff attitude": "T0003",
}
SAMPLE_RUN = "20261101T020000Z-sample"


def _month_starts(end: date, months: int) -> list[date]:
    out, year, month = [], end.year, end.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


class _Builder:
    """Draws the sample's rows from one generator and collects them per table."""

    def __init__(self, seed: int, end: date, months: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.end = end
        self.months = _month_starts(end, months)
        self.start = self.months[0]
        self.records: list[dict] = []
        self.aspects: list[dict] = []
        self.assignments: list[dict] = []
        self.texts: dict[str, tuple[str, list[float]]] = {}  # feedback_id -> (redacted text, clause scores)
        self.history_extra: list[dict] = []  # closed versions of reopened complaints

    def day(self) -> date:
        span = (self.end - self.start).days + 1
        return self.start + timedelta(days=int(self.rng.integers(0, span)))

    def when(self, day: date) -> datetime:
        return datetime(
            day.year, day.month, day.day, int(self.rng.integers(7, 21)), int(self.rng.integers(0, 60)), tzinfo=UTC
        )

    def site(self) -> str:
        return TINY_SITE if self.rng.random() < 0.012 else str(self.rng.choice(SITES))

    def pick_theme(self, site: str, day: date, channel: str) -> str:
        weights = np.array([1.0, 2.0, 2.0, 1.5, 0.8, 0.8, 0.3, 0.9])
        if channel == "complaint":
            weights[6] = 6.0
        if site == "North Hospital" and day >= date(self.end.year, self.end.month, 1):
            weights[0] = 9.0  # the planted parking surge
        if site == "South Hospital" and day >= date(2026, 5, 1):
            weights[1] = 0.4  # waiting-time action at South Hospital works
        return f"T{int(self.rng.choice(8, p=weights / weights.sum())) + 1:04d}"

    def comment(self, feedback_id: str, tone: str, site: str, day: date, channel: str) -> tuple[str, str, list[float]]:
        """Return (raw text, redacted text, clause scores) and record its aspects/themes."""
        n_clauses = 1 if self.rng.random() < 0.6 else 2
        raw_parts, red_parts, scores = [], [], []
        chosen: set[str] = set()
        for idx in range(n_clauses):
            theme = self.pick_theme(site, day, channel)
            if theme in chosen:
                continue
            chosen.add(theme)
            sentiment = tone if self.rng.random() < 0.8 else str(self.rng.choice(["negative", "neutral", "positive"]))
            options = phrases.load("sample_clauses")[theme][sentiment]
            text = str(options[int(self.rng.integers(0, len(options)))])
            raw, red = text, text
            if idx == 0 and self.rng.random() < 0.05:
                raw = f"{PLANTED_PHI[0]} (tel {PLANTED_PHI[1]}, NHS {PLANTED_PHI[2]}) says {text}"
                red = f"[NAME] (tel [PHONE], NHS [NHS_NUMBER]) says {text}"
            score = float(np.clip(SCORES[sentiment] + self.rng.normal(0, 0.15), -1, 1))
            self.aspects.append(
                {
                    "feedback_id": feedback_id,
                    "clause_idx": idx,
                    "clause_text": red,
                    "label3": sentiment,
                    "score": score,
                    "model_version": "sample-sentiment-1",
                }
            )
            self.assignments.append(
                {
                    "feedback_id": feedback_id,
                    "clause_idx": idx,
                    "theme_id": theme,
                    "probability": 0.9,
                    "method": "bertopic",
                    "theme_run_id": SAMPLE_RUN,
                }
            )
            raw_parts.append(raw)
            red_parts.append(red)
            scores.append(score)
        join = ". " if self.rng.random() < 0.5 else " but "
        raw, red = join.join(raw_parts), join.join(red_parts)
        return raw[:1].upper() + raw[1:], red[:1].upper() + red[1:], scores

    def add(self, **values: object) -> None:
        record = dict.fromkeys(schema.COLUMNS)
        record.update(values)
        record["feedback_id"] = schema.feedback_id(str(record["source"]), str(record["source_record_id"]))
        record["record_hash"] = hashlib.sha1(repr(sorted(values.items(), key=str)).encode()).hexdigest()
        record["batch_id"] = f"batch-{record['source']}"
        record["ingested_at"] = datetime(self.end.year, self.end.month, self.end.day, 23, 0, tzinfo=UTC) + timedelta(
            days=1
        )
        record["source_timezone"] = "Europe/London"
        self.records.append(record)


def _label5(score: float) -> tuple[str, str]:
    if score <= -0.6:
        return "very negative", "negative"
    if score < -0.2:
        return "negative", "negative"
    if score <= 0.2:
        return "neutral", "neutral"
    if score < 0.6:
        return "positive", "positive"
    return "very positive", "positive"


def build_frames(
    n_records: int = 600, seed: int = 7, end: date = date(2026, 10, 31), months: int = 24
) -> dict[str, pd.DataFrame]:
    """Synthetic raw/enrich/ops rows, one frame per table (``sample_<table>``).

    Args:
        n_records: Scale of the sample (42% FFT responses, 20% NPS, 10% suggestions, 13% complaints,
            plus one planted markup suggestion); survey responses with two answers give two rows.
        seed: Seed of the one ``numpy`` generator every row is drawn from, in a fixed order.
        end: Last day of the window (the planted parking surge is in its month).
        months: Length of the window in months.

    Returns:
        ``sample_<table>`` -> rows, for ``sql/queries/demo/sample_load.sql``.
    """
    b = _Builder(seed, end, months)
    # The draw order is part of the output: FFT, NPS, suggestions, complaints, then the markup entry.
    _add_fft(b, int(n_records * 0.42))
    _add_nps(b, int(n_records * 0.2))
    _add_suggestions(b, int(n_records * 0.1))
    _add_complaints(b, int(n_records * 0.13))
    _add_markup_suggestion(b)
    feedback = pd.DataFrame(b.records, columns=list(schema.COLUMNS))
    feedback["file_checksum"] = "sample"
    return {
        "sample_feedback": feedback,
        **_enrich_frames(b, feedback),
        **_insights(b, end),
        **_ops(end),
    }


def _add_text(b: _Builder, fid: str, tone: str, site: str, day: date, channel: str) -> str:
    """Draw a comment for ``fid``, keep its redacted text and scores; return the raw text."""
    raw, red, scores = b.comment(fid, tone, site, day, channel)
    b.texts[fid] = (red, scores)
    return raw


def _add_fft(b: _Builder, n: int) -> None:
    """FFT responses: a rating, and one row per answered question (or one bare row)."""
    end = b.end
    for i in range(n):
        day, site, service = b.day(), b.site(), str(b.rng.choice(SERVICES))
        late_north = site == "North Hospital" and day >= date(end.year, end.month, 1)
        probs = (
            np.array([0.45, 0.33, 0.07, 0.06, 0.05, 0.04])
            if not late_north
            else np.array([0.25, 0.25, 0.1, 0.2, 0.16, 0.04])
        )
        answer = int(b.rng.choice(6, p=probs))
        tone = "positive" if answer <= 1 else "neutral" if answer in (2, 5) else "negative"
        base = {
            "channel": "survey",
            "source": "sample_fft",
            "response_id": f"F{i:05d}",
            "received_at": b.when(day),
            "site": site,
            "service": service,
            "rating_scale": "fft5",
            "rating_raw": FFT_ANSWERS[answer],
            "rating_value": FFT_VALUES[answer],
            "age_band": str(b.rng.choice(["18-34", "35-54", "55-74", "75+"])),
        }
        keys = [k for k, p in (("what_was_good", 0.7), ("what_could_improve", 0.45)) if b.rng.random() < p]
        if not keys:
            b.add(**base, source_record_id=f"F{i:05d}")
        for key in keys:
            sid = f"F{i:05d}#{key}"
            fid = schema.feedback_id("sample_fft", sid)
            answer_tone = tone if key == "what_was_good" or tone == "negative" else "negative"
            raw = _add_text(b, fid, answer_tone, site, day, "survey")
            question = key.replace("_", " ").capitalize() + "?"
            b.add(**base, source_record_id=sid, question_key=key, question=question, text=raw)


def _add_nps(b: _Builder, n: int) -> None:
    """NPS responses: a score and its reason."""
    for i in range(n):
        day, site, service = b.day(), b.site(), str(b.rng.choice(SERVICES))
        score = int(b.rng.choice(11, p=np.array([1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 12]) / 52))
        tone = "positive" if score >= 9 else "neutral" if score >= 7 else "negative"
        sid = f"N{i:05d}#reason"
        raw = _add_text(b, schema.feedback_id("sample_nps", sid), tone, site, day, "survey")
        b.add(
            channel="survey",
            source="sample_nps",
            source_record_id=sid,
            response_id=f"N{i:05d}",
            received_at=b.when(day),
            site=site,
            service=service,
            question_key="reason",
            question="Why did you give this score?",
            text=raw,
            rating_scale="nps11",
            rating_raw=str(score),
            rating_value=score / 10,
            nps=score,
        )


def _add_suggestions(b: _Builder, n: int) -> None:
    """Suggestion-box entries of any tone."""
    for i in range(n):
        day, site = b.day(), b.site()
        sid = f"S{i:05d}"
        tone = str(b.rng.choice(["negative", "neutral", "positive"]))
        raw = _add_text(b, schema.feedback_id("sample_suggestions", sid), tone, site, day, "suggestion")
        b.add(
            channel="suggestion",
            source="sample_suggestions",
            source_record_id=sid,
            response_id=sid,
            received_at=b.when(day),
            site=site,
            service=str(b.rng.choice(SERVICES)),
            text=raw,
        )


def _add_complaints(b: _Builder, n: int) -> None:
    """Complaints (Billing mostly themed as billing); reopened ones also get a closed history row."""
    for i in range(n):
        day, site = b.day(), b.site()
        category = str(b.rng.choice(COMPLAINT_CATEGORIES, p=[0.35, 0.2, 0.15, 0.15, 0.15]))
        sid = f"C{i:05d}"
        fid = schema.feedback_id("sample_complaints", sid)
        raw, red, scores = b.comment(fid, "negative", site, day, "complaint")
        b.aspects[-1]["label3"] = "negative"
        b.assignments[-1]["theme_id"] = (
            CATEGORY_THEME[category] if b.rng.random() < 0.7 else b.assignments[-1]["theme_id"]
        )
        b.texts[fid] = (red, scores)
        opened = b.when(day)
        ack = opened + timedelta(
            days=int(b.rng.choice([0, 1, 2, 3, 4, 6, 8], p=[0.2, 0.3, 0.2, 0.12, 0.08, 0.06, 0.04]))
        )
        closed = opened + timedelta(days=int(b.rng.integers(4, 70)))
        status = "closed" if closed.date() <= b.end else "acknowledged"
        if status == "closed" and b.rng.random() < 0.06:
            status = "reopened"
        b.add(
            channel="complaint",
            source="sample_complaints",
            source_record_id=sid,
            response_id=sid,
            received_at=opened,
            site=site,
            service=str(b.rng.choice(SERVICES)),
            text=raw,
            complaint_category=category,
            complaint_severity=str(b.rng.choice(["low", "moderate", "high"])),
            complaint_status=status,
            opened_at=opened,
            acknowledged_at=ack if ack.date() <= b.end else None,
            closed_at=closed if status == "closed" else None,
            contact_count=int(b.rng.choice([1, 1, 1, 2, 3, 4])),
            handling_minutes=int(b.rng.integers(20, 300)),
        )
        if status == "reopened":
            b.history_extra.append(
                {**b.records[-1], "complaint_status": "closed", "closed_at": closed, "valid_from": closed}
            )


def _add_markup_suggestion(b: _Builder) -> None:
    """The inert-text check: a suggestion carrying markup, in the last month, very negative."""
    end = b.end
    xss_day = date(end.year, end.month, min(end.day, 15))
    fid = schema.feedback_id("sample_suggestions", "S-XSS")
    b.aspects.append(
        {
            "feedback_id": fid,
            "clause_idx": 0,
            "clause_text": XSS_PAYLOAD,
            "label3": "negative",
            "score": -0.9,
            "model_version": "sample-sentiment-1",
        }
    )
    b.assignments.append(
        {
            "feedback_id": fid,
            "clause_idx": 0,
            "theme_id": "T0001",
            "probability": 0.95,
            "method": "bertopic",
            "theme_run_id": SAMPLE_RUN,
        }
    )
    b.texts[fid] = (XSS_PAYLOAD, [-0.9])
    b.add(
        channel="suggestion",
        source="sample_suggestions",
        source_record_id="S-XSS",
        response_id="S-XSS",
        received_at=b.when(xss_day),
        site="Central Clinic",
        service="Outpatients",
        text=XSS_PAYLOAD,
    )


def _enrich_frames(b: _Builder, feedback: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """History, redactions, sentiment, aspects, themes and assignments for the sample's records."""
    history = pd.concat(
        [
            feedback.assign(valid_from=feedback["ingested_at"]),
            pd.DataFrame(b.history_extra, columns=[*schema.COLUMNS, "valid_from"]),
        ],
        ignore_index=True,
    )
    text_rows = feedback[feedback["text"].notna()]
    now = datetime(b.end.year, b.end.month, b.end.day, tzinfo=UTC) + timedelta(days=1)
    redactions = pd.DataFrame(
        {
            "feedback_id": text_rows["feedback_id"],
            "record_hash": text_rows["record_hash"],
            "text_redacted": [b.texts[f][0] for f in text_rows["feedback_id"]],
            "entity_counts": "{}",
            "redactor_version": "sample-redactor-1",
            "redacted_at": now,
        }
    )
    assignments = pd.DataFrame(b.assignments)
    return {
        "sample_history": history,
        "sample_redactions": redactions,
        "sample_sentiment": _sentiment(b, text_rows, now),
        "sample_aspects": pd.DataFrame(b.aspects),
        "sample_themes": _themes(assignments),
        "sample_assignments": assignments,
    }


def _sentiment(b: _Builder, text_rows: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Comment-level sentiment: the mean of the clause scores, mixed when clauses disagree in sign."""
    means = [float(np.mean(b.texts[f][1])) for f in text_rows["feedback_id"]]
    labels = [_label5(m) for m in means]
    return pd.DataFrame(
        {
            "feedback_id": text_rows["feedback_id"],
            "record_hash": text_rows["record_hash"],
            "is_informative": True,
            "label5": [lab[0] for lab in labels],
            "label3": [lab[1] for lab in labels],
            "score": means,
            "confidence": 0.9,
            "is_mixed": [
                len(b.texts[f][1]) > 1 and max(b.texts[f][1]) > 0 > min(b.texts[f][1]) for f in text_rows["feedback_id"]
            ],
            "model_version": "sample-sentiment-1",
            "scored_at": now,
        }
    )


def _themes(assignments: pd.DataFrame) -> pd.DataFrame:
    """The eight sample themes, sized by their assignments."""
    sizes = assignments["theme_id"].value_counts()
    clauses = phrases.load("sample_clauses")
    return pd.DataFrame(
        [
            {
                "theme_id": tid,
                "label": label,
                "category_id": cat_id,
                "category_name": cat_name,
                "keywords": json.dumps(label.lower().split()),
                "quotes": json.dumps(list(clauses[tid]["negative"][:2])),
                "centroid": None,
                "first_seen_run": SAMPLE_RUN,
                "last_seen_run": SAMPLE_RUN,
                "status": "active",
                "size": int(sizes.get(tid, 0)),
            }
            for tid, (label, cat_id, cat_name) in THEMES.items()
        ]
    )


def _insights(b: _Builder, end: date) -> dict[str, pd.DataFrame]:
    """One insights run over the sample: emerging alerts, key drivers and segment lift, fixed rows."""
    period = date(end.year, end.month, 1)
    finished = datetime(end.year, end.month, end.day, 3, 0, tzinfo=UTC) + timedelta(days=1)
    return {
        "sample_insight_runs": _insight_runs(b.start, period, finished),
        "sample_theme_alerts": _theme_alerts(period),
        "sample_key_drivers": _key_drivers(),
        "sample_segment_lift": _segment_lift(),
    }


def _insight_runs(data_from: date, period: date, finished: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": SAMPLE_RUN,
                "started_at": finished - timedelta(minutes=2),
                "finished_at": finished,
                "params_hash": "sample",
                "params": "{}",
                "data_from": data_from,
                "data_to": period,
                "emerging_tests": 96,
                "alerts": 2,
                "driver_scopes": 1,
                "drivers": 7,
                "lift_tests": 40,
                "lift_significant": 3,
            }
        ]
    )


def _theme_alerts(period: date) -> pd.DataFrame:
    """The planted parking alert at North Hospital and a small-numbers alert at the tiny site."""
    return pd.DataFrame(
        [
            {
                "run_id": SAMPLE_RUN,
                "theme_id": "T0001",
                "segment_type": "site",
                "segment_value": "North Hospital",
                "period": period,
                "count": 24,
                "total": 77,
                "share": 0.31,
                "baseline_share": 0.09,
                "p_value": 0.00004,
                "q_value": 0.0006,
                "lift": 3.4,
                "family_size": 96,
                "quotes": json.dumps(["could not find a parking space anywhere", XSS_PAYLOAD]),
                "method": "sample",
            },
            {
                "run_id": SAMPLE_RUN,
                "theme_id": "T0008",
                "segment_type": "site",
                "segment_value": TINY_SITE,
                "period": period,
                "count": 2,
                "total": 4,
                "share": 0.5,
                "baseline_share": 0.1,
                "p_value": 0.04,
                "q_value": 0.2,
                "lift": 5.0,
                "family_size": 96,
                "quotes": json.dumps(["nobody ever answers the phone"]),
                "method": "sample",
            },
        ]
    )


def _key_drivers() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": SAMPLE_RUN,
                "outcome": "fft_poor",
                "scope_type": "all",
                "scope": "All",
                "rank": rank,
                "theme_id": tid,
                "importance": imp,
                "coef": coef,
                "ci_low": coef - 0.2,
                "ci_high": coef + 0.2,
                "prevalence": prev,
                "n": n,
                "performance": perf,
            }
            for rank, (tid, imp, coef, prev, n, perf) in enumerate(
                (
                    ("T0002", 0.34, 0.9, 0.22, 180, 0.38),
                    ("T0004", 0.15, 0.4, 0.16, 120, 0.55),
                    ("T0001", 0.12, 0.5, 0.12, 90, 0.30),
                    ("T0008", 0.05, 0.3, 0.06, 3, 0.2),
                    ("T0005", 0.04, 0.1, 0.08, 60, 0.62),
                    ("T0006", 0.03, 0.05, 0.07, 50, 0.70),
                    ("T0003", 0.02, -0.8, 0.25, 200, 0.81),
                ),
                start=1,
            )
        ]
    )


def _segment_lift() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run_id": SAMPLE_RUN,
                "theme_id": tid,
                "segment_type": st,
                "segment_value": sv,
                "n": n,
                "total": total,
                "share_in_segment": a,
                "share_elsewhere": e,
                "lift": a / e,
                "p_value": p,
                "q_value": q,
                "is_significant": q <= 0.05,
                "mention": "negative",
            }
            for tid, st, sv, n, total, a, e, p, q in (
                ("T0001", "site", "North Hospital", 60, 250, 0.24, 0.08, 0.0001, 0.001),
                ("T0002", "service", "Emergency Department", 80, 242, 0.33, 0.18, 0.002, 0.01),
                ("T0005", "service", "Maternity", 25, 178, 0.14, 0.07, 0.03, 0.09),
                ("T0008", "site", TINY_SITE, 3, 5, 0.6, 0.06, 0.02, 0.08),
            )
        ]
    )


def _ops(end: date) -> dict[str, pd.DataFrame]:
    """Stage runs, ingest batches, quarantined rows and recorded actions of the sample's one run."""
    t0 = datetime(end.year, end.month, end.day, 2, 0, tzinfo=UTC) + timedelta(days=1)
    return {
        "sample_stage_runs": _stage_runs(t0),
        "sample_batches": _batches(t0),
        "sample_quarantine": _quarantine(t0),
        "sample_actions": _actions(end, t0),
    }


def _stage_runs(t0: datetime) -> pd.DataFrame:
    versions = {"pipelines": "0.1.0", "git_sha": "sample", "duckdb": duckdb.__version__}
    return pd.DataFrame(
        [
            {
                "run_id": SAMPLE_RUN,
                "stage": stage,
                "started_at": t0 + timedelta(minutes=i),
                "finished_at": t0 + timedelta(minutes=i, seconds=40),
                "status": "success",
                "rows_in": rows,
                "rows_out": rows,
                "seed": 42,
                "data_from": t0 - timedelta(days=730),
                "data_to": t0,
                "versions": json.dumps({**versions, **extra}),
                "message": "{}",
            }
            for i, (stage, rows, extra) in enumerate(
                (
                    ("ingest", 620, {}),
                    (
                        "enrich",
                        520,
                        {"redactor_version": "sample-redactor-1", "sentiment_model_version": "sample-sentiment-1"},
                    ),
                    ("themes", 520, {"theme_model_version": "sample-themes-1"}),
                )
            )
        ]
    )


def _batches(t0: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "batch_id": f"batch-{src}",
                "source": src,
                "stream": stream,
                "location": f"demo/{src}.csv",
                "file_checksum": "sample",
                "started_at": t0,
                "finished_at": t0 + timedelta(seconds=5),
                "status": "success",
                "rows_read": 100 + q,
                "rows_loaded": 100,
                "rows_inserted": 100,
                "rows_updated": 0,
                "rows_quarantined": q,
                "rows_duplicate": 0,
                "rows_skipped": 0,
                "watermark": None,
                "gx_success": q == 0,
                "message": "",
            }
            for src, stream, q in (
                ("sample_fft", "survey", 2),
                ("sample_nps", "survey", 0),
                ("sample_suggestions", "suggestion", 0),
                ("sample_complaints", "complaint", 1),
            )
        ]
    )


def _quarantine(t0: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "batch_id": "batch-sample_fft",
                "source": "sample_fft",
                "row_number": 17,
                "source_record_id": "F-bad1",
                "raw_row": "{}",
                "failed_check": "expect_column_values_to_be_in_set",
                "reason": "fft_rating 'Excellent' is not an FFT answer",
                "quarantined_at": t0,
            },
            {
                "batch_id": "batch-sample_fft",
                "source": "sample_fft",
                "row_number": 40,
                "source_record_id": "F-bad2",
                "raw_row": "{}",
                "failed_check": "expect_column_values_to_not_be_null",
                "reason": "submitted_at missing or not a date",
                "quarantined_at": t0,
            },
            {
                "batch_id": "batch-sample_complaints",
                "source": "sample_complaints",
                "row_number": 9,
                "source_record_id": "C-bad",
                "raw_row": "{}",
                "failed_check": "parse",
                "reason": "row has 14 fields, header has 12",
                "quarantined_at": t0,
            },
        ]
    )


def _actions(end: date, t0: datetime) -> pd.DataFrame:
    """A working action (South Hospital waits, from May 2026) and one started ten days before the end."""
    return pd.DataFrame(
        [
            {
                "action_id": "A-sample-1",
                "theme_id": "T0002",
                "site": "South Hospital",
                "service": None,
                "start_date": date(2026, 5, 1),
                "end_date": None,
                "description": "Extra triage nurse at South Hospital <b>weekday</b> evenings",
                "owner": "ED matron",
                "status": "in progress",
                "recorded_by": "sample",
                "recorded_at": t0,
            },
            {
                "action_id": "A-sample-2",
                "theme_id": "T0001",
                "site": "North Hospital",
                "service": None,
                "start_date": end - timedelta(days=9),
                "end_date": None,
                "description": "Overflow car park opened",
                "owner": "Estates",
                "status": "in progress",
                "recorded_by": "sample",
                "recorded_at": t0,
            },
        ]
    )


def load_sample(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    n_records: int = 600,
    seed: int = 7,
    end: date = date(2026, 10, 31),
    insights: bool = True,
    actions: bool = True,
) -> dict[str, int]:
    """Fill an (empty) warehouse with synthetic rows and build every model; returns row counts."""
    warehouse.apply_schema(con, settings)
    frames = build_frames(n_records=n_records, seed=seed, end=end)
    if not insights:
        for name in ("sample_insight_runs", "sample_theme_alerts", "sample_key_drivers", "sample_segment_lift"):
            frames[name] = frames[name].iloc[0:0]
    if not actions:
        frames["sample_actions"] = frames["sample_actions"].iloc[0:0]
    # One transaction: a failed load leaves no half-filled tables behind.
    with warehouse.transaction(con), warehouse.registered(con, **frames):
        warehouse.run_script(con, settings, "queries/demo/sample_load")
    warehouse.build_models(con, settings)
    return {name.removeprefix("sample_"): len(frame) for name, frame in frames.items()}
