"""The demo data's ``manifest.json``: every planted pattern with its parameters and observed rates.

The key order of every mapping is part of the written bytes (``json.dumps`` keeps it), so the
builders below list keys in the order the manifest has always had.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.demo.identifiers import PHI_TYPES
from pipelines.demo.params import (
    BILLING_CATEGORY,
    BILLING_KEYWORDS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CATEGORY_WEIGHTS,
    ED_SERVICE,
    ED_WAIT_KEYWORDS,
    ED_WEEKDAY_WAIT_SHARE,
    ED_WEEKEND_WAIT_SHARE,
    EMPTY,
    FFT_RATINGS,
    FILES,
    FOOD_KEYWORDS,
    FOOD_SHARE,
    GENERATOR_VERSION,
    HOSTILE_PAYLOADS,
    NONINF,
    NONINF_GOOD_SHARE,
    NONINF_GOOD_VALUES,
    NONINF_IMPROVE_SHARE,
    NONINF_IMPROVE_VALUES,
    PARKING_BASELINE,
    PARKING_KEYWORDS,
    PARKING_SITE,
    PARKING_SURGE,
    PHI_SHARE,
    SERVICES,
    SITES,
    WEIGHTS_FFT_ED,
    WEIGHTS_FFT_WAIT,
    WEIGHTS_NPS_WAIT,
)
from pipelines.demo.plan import Plan
from pipelines.demo.timeline import HILLCREST_ALLOWED, month_label

Rows = list[dict[str, str]]


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _observed_parking(plan: Plan) -> dict[str, Any]:
    texts = plan.texts
    after = texts.month >= plan.frame.surge_idx
    park: dict[str, Any] = {}
    for s, name in enumerate(SITES):
        site = texts.site == s
        park[name] = {
            "before": _share(int((texts.parking & site & ~after).sum()), int((site & ~after).sum())),
            "after": _share(int((texts.parking & site & after).sum()), int((site & after).sum())),
        }
    return {"unit": "informative free-text answer", "share_by_site": park}


def _observed_food(plan: Plan) -> dict[str, Any]:
    texts = plan.texts
    food_shares = []
    for key in np.unique(texts.site * 1000 + texts.month).tolist():
        grp = (texts.site * 1000 + texts.month) == key
        if key // 1000 < 3 and grp.sum() >= 50:
            food_shares.append(int((texts.food & grp).sum()) / int(grp.sum()))
    return {
        "share_overall": _share(int(texts.food.sum()), len(texts.food)),
        "min_site_month_share": round(min(food_shares), 4) if food_shares else None,
        "max_site_month_share": round(max(food_shares), 4) if food_shares else None,
    }


def _observed_ed_waits(plan: Plan) -> dict[str, Any]:
    cal, fft, nps, r = plan.frame.cal, plan.frame.fft, plan.frame.nps, plan.resp
    f_we, n_we = cal.dow[fft.day] >= 5, cal.dow[nps.day] >= 5
    f_ed, n_ed = fft.service == 0, nps.service == 0
    low = np.isin(r.rating, (3, 4))

    def ed_stats(we: bool) -> dict[str, Any]:
        fm, nm = f_ed & (f_we == we), n_ed & (n_we == we)
        return {
            "wait_share_of_responses_with_text": _share(
                int((r.f_wait & fm).sum() + (r.n_wait & nm).sum()), int((r.f_text & fm).sum() + (r.n_text & nm).sum())
            ),
            "fft_poor_or_very_poor_share": _share(int((low & fm).sum()), int(fm.sum())),
            "nps_detractor_share": _share(int(((r.score <= 6) & nm).sum()), int(nm.sum())),
        }

    return {
        "weekend": ed_stats(True),
        "weekday": ed_stats(False),
        "fft_poor_share_with_wait": _share(int((low & r.f_wait).sum()), int(r.f_wait.sum())),
        "fft_poor_share_ed_without_wait": _share(int((low & f_ed & ~r.f_wait).sum()), int((f_ed & ~r.f_wait).sum())),
    }


def _observed_noninf(plan: Plan) -> dict[str, Any]:
    good, imp = plan.states.good, plan.states.imp
    return {
        "what_could_improve_share": _share(int((imp == NONINF).sum()), int((imp != EMPTY).sum())),
        "what_was_good_share": _share(int((good == NONINF).sum()), int((good != EMPTY).sum())),
    }


def _parking_pattern(plan: Plan) -> dict[str, Any]:
    surge_month = month_label(plan.frame.cal.start, plan.frame.surge_idx)
    return {
        "id": "parking_surge",
        "kind": "emerging",
        "description": (
            f"At {PARKING_SITE}, from {surge_month} onwards, the share of informative survey and suggestion "
            f"answers about car parking rises from {PARKING_BASELINE:.0%} to {PARKING_SURGE:.0%}; every other "
            "site (and suggestions with no site) stays at the baseline in every month."
        ),
        "site": PARKING_SITE,
        "start_month": surge_month,
        "start_month_index": plan.frame.surge_idx,
        "baseline_share": PARKING_BASELINE,
        "surge_share": PARKING_SURGE,
        "topic": "car parking",
        "keywords": list(PARKING_KEYWORDS),
        "keyword_regex": r"parking|car park",
        "sources": ["fft.what_was_good", "fft.what_could_improve", "nps.reason", "suggestions.text"],
        "unit": "informative free-text answer (non-empty, not a non-informative or hostile answer)",
        "observed": _observed_parking(plan),
    }


def _ed_waits_pattern(plan: Plan) -> dict[str, Any]:
    return {
        "id": "ed_weekend_waits",
        "kind": "driver",
        "description": (
            f"In the {ED_SERVICE}, on Saturdays and Sundays {ED_WEEKEND_WAIT_SHARE:.0%} of responses with "
            f"comments describe long waits (weekdays {ED_WEEKDAY_WAIT_SHARE:.0%}); those responses rate Poor/Very "
            "poor about 75% of the time (NPS: ~75% detractors), so waiting is the strongest driver of low "
            "FFT ratings in the ED. Waiting is never drawn as a background topic in the ED."
        ),
        "service": ED_SERVICE,
        "days": ["Saturday", "Sunday"],
        "weekend_wait_share": ED_WEEKEND_WAIT_SHARE,
        "weekday_wait_share": ED_WEEKDAY_WAIT_SHARE,
        "driver_topic": "waiting",
        "outcome": "fft_rating in (Poor, Very poor); nps_score <= 6",
        "fft_rating_weights_with_wait": dict(zip(FFT_RATINGS, WEIGHTS_FFT_WAIT, strict=True)),
        "fft_rating_weights_ed_without_wait": dict(zip(FFT_RATINGS, WEIGHTS_FFT_ED, strict=True)),
        "nps_score_weights_with_wait": [w / 100 for w in WEIGHTS_NPS_WAIT],
        "keywords": list(ED_WAIT_KEYWORDS),
        "fields": ["fft.what_could_improve", "nps.reason"],
        "unit": "survey response with at least one comment",
        "observed": _observed_ed_waits(plan),
    }


def _billing_pattern(plan: Plan) -> dict[str, Any]:
    billing = int((plan.category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY)).sum())
    return {
        "id": "billing_confusion",
        "kind": "complaint_theme",
        "description": (
            f"{COMPLAINT_CATEGORY_WEIGHTS[5]}% of complaints are '{BILLING_CATEGORY}' (exact quota), about "
            "confusing invoices, double charging, overseas visitor charges letters and unclear bills; every "
            "such description contains at least one of the keywords."
        ),
        "category": BILLING_CATEGORY,
        "share": COMPLAINT_CATEGORY_WEIGHTS[5] / 100,
        "keywords": list(BILLING_KEYWORDS),
        "category_weights": {c: w / 100 for c, w in zip(COMPLAINT_CATEGORIES, COMPLAINT_CATEGORY_WEIGHTS, strict=True)},
        "observed": {"share": _share(billing, len(plan.category))},
    }


def _noninf_pattern(plan: Plan) -> dict[str, Any]:
    return {
        "id": "non_informative",
        "kind": "no_content",
        "description": (
            f"{NONINF_IMPROVE_SHARE:.0%} of non-empty what_could_improve answers are non-informative "
            f"(under Very good/Good/Don't know ratings) and {NONINF_GOOD_SHARE:.0%} of non-empty what_was_good "
            "answers are 'Nothing'/'N/A' (under Poor/Very poor ratings). Exact quotas."
        ),
        "field": "what_could_improve",
        "share": NONINF_IMPROVE_SHARE,
        "values": list(NONINF_IMPROVE_VALUES),
        "good_field": "what_was_good",
        "good_share": NONINF_GOOD_SHARE,
        "good_values": list(NONINF_GOOD_VALUES),
        "good_ratings": ["Poor", "Very poor"],
        "observed": _observed_noninf(plan),
    }


def _food_pattern(plan: Plan) -> dict[str, Any]:
    return {
        "id": "food_control",
        "kind": "control",
        "description": (
            f"Food is mentioned in exactly {FOOD_SHARE:.0%} of informative survey and suggestion answers in "
            "every site x month (exact quota): no emerging alert should fire for it."
        ),
        "topic": "food",
        "share": FOOD_SHARE,
        "keywords": list(FOOD_KEYWORDS),
        "keyword_regex": r"\b(?:" + "|".join(FOOD_KEYWORDS) + r")\b",
        "by": ["site", "month"],
        "unit": "informative free-text answer (non-empty, not a non-informative or hostile answer)",
        "observed": _observed_food(plan),
    }


def _phi_pattern(phi_rows: Rows) -> dict[str, Any]:
    return {
        "id": "phi",
        "kind": "phi",
        "description": (
            f"{PHI_SHARE:.0%} of the non-empty answers of every free-text field carry one planted fictional "
            "identifier (an address sentence may carry an address and a postcode). Every planted string is "
            "listed in planted_identifiers; planted_identifier_records says where."
        ),
        "share": PHI_SHARE,
        "types": list(PHI_TYPES),
        "nhs_number_formats": ["943 476 5919", "9434765919", "943-476-5919"],
        "phone_ranges": "Ofcom drama numbers: 07700 900xxx, 020 7946 0xxx, 0161/0113/0117 496 0xxx",
        "email_domains": ["example.com", "example.org", "example.net", "mail.example.com"],
        "count": len(phi_rows),
    }


def _hostile_pattern(hostile_rows: Rows) -> dict[str, Any]:
    return {
        "id": "hostile_texts",
        "kind": "hostile",
        "description": (
            "At least 3 answers per file (max(3, records // 2000)) are replaced by a hostile payload "
            "(script/HTML injection, javascript: link, spreadsheet formulas); listed in hostile_texts."
        ),
        "payloads": list(HOSTILE_PAYLOADS),
        "per_file_min": 3,
        "count": len(hostile_rows),
    }


def build_manifest(
    seed: int, rows: int, plan: Plan, phi_rows: Rows, hostile_rows: Rows, written: dict[str, int]
) -> dict[str, Any]:
    """The manifest of one generated data set.

    Args:
        seed: The generator seed.
        rows: The requested number of records.
        plan: The plan the files were rendered from (observed rates are measured on it).
        phi_rows: One ``{"file", "id", "field", "type", "value"}`` per planted identifier.
        hostile_rows: One ``{"file", "id", "field", "text"}`` per hostile payload.
        written: Records written per source.

    Returns:
        The manifest mapping, in the key order it is written in.
    """
    cal = plan.frame.cal
    patterns = [
        _parking_pattern(plan),
        _ed_waits_pattern(plan),
        _billing_pattern(plan),
        _noninf_pattern(plan),
        _food_pattern(plan),
        _phi_pattern(phi_rows),
        _hostile_pattern(hostile_rows),
    ]
    return {
        "generator": "pipelines.demo.generator",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "rows": rows,
        "start": cal.start.isoformat(),
        "end": cal.end.isoformat(),
        "months": [month_label(cal.start, i) for i in range(int(cal.month.max()) + 1)],
        "timezone": "Europe/London",
        "files": dict(FILES),
        "sites": list(SITES),
        "services": list(SERVICES),
        "services_by_site": {
            s: [v for j, v in enumerate(SERVICES) if i != 2 or HILLCREST_ALLOWED[j]] for i, s in enumerate(SITES)
        },
        "counts": written,
        "planted_patterns": patterns,
        "planted_identifiers": sorted({r["value"] for r in phi_rows}),
        "planted_identifier_records": phi_rows,
        "hostile_texts": hostile_rows,
    }
