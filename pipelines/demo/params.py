"""The demo data's fixed vocabulary and planted-pattern parameters.

Sites, services, answer scales and file layouts are the contract the ingest stage reads; the
planted-pattern parameters are documented in ``docs/planted-patterns.md`` and copied into the
manifest, so they stay in code next to each other rather than in the phrase-bank YAML files.
"""

from __future__ import annotations

GENERATOR_VERSION = "1.0"

SITES: tuple[str, ...] = ("Northgate General Hospital", "Riverside Infirmary", "Hillcrest Community Hospital")
SERVICES: tuple[str, ...] = (
    "Emergency Department",
    "Maternity",
    "Outpatients",
    "Inpatient Surgery",
    "Radiology",
    "Pharmacy",
    "Mental Health",
    "Children's Services",
)
FFT_RATINGS: tuple[str, ...] = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")
COMPLAINT_CATEGORIES: tuple[str, ...] = (
    "Clinical treatment",
    "Staff attitude",
    "Communication",
    "Waiting times",
    "Appointments",
    "Billing and charges",
    "Facilities",
    "Discharge",
    "Medication",
    "Car parking",
    "Other",
)
SEVERITIES: tuple[str, ...] = ("low", "moderate", "high", "extreme")
AGE_BANDS: tuple[str, ...] = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
MODES: tuple[str, ...] = ("online", "SMS", "paper", "kiosk")

FILES: dict[str, str] = {
    "fft": "fft_survey.csv",
    "nps": "nps_survey.csv",
    "suggestions": "suggestions.jsonl",
    "complaints": "complaints.csv",
}
FFT_COLUMNS: tuple[str, ...] = (
    "response_id",
    "submitted_at",
    "site",
    "service",
    "fft_rating",
    "what_was_good",
    "what_could_improve",
    "age_band",
    "mode",
)
NPS_COLUMNS: tuple[str, ...] = ("response_id", "submitted_at", "site", "service", "nps_score", "reason")
SUGGESTION_KEYS: tuple[str, ...] = ("entry_id", "submitted_at", "site", "location", "text")
COMPLAINT_COLUMNS: tuple[str, ...] = (
    "complaint_ref",
    "received_date",
    "site",
    "service",
    "category",
    "severity",
    "status",
    "acknowledged_date",
    "closed_date",
    "contact_count",
    "handling_minutes",
    "description",
)

SOURCE_SHARES: dict[str, float] = {"fft": 0.62, "nps": 0.13, "suggestions": 0.10, "complaints": 0.15}

# Planted-pattern parameters (documented in docs/planted-patterns.md; copied into the manifest).
PARKING_SITE = "Northgate General Hospital"
PARKING_BASELINE = 0.02
PARKING_SURGE = 0.15
PARKING_KEYWORDS: tuple[str, ...] = ("parking", "car park")
FOOD_SHARE = 0.04
FOOD_KEYWORDS: tuple[str, ...] = (
    "food",
    "meal",
    "meals",
    "menu",
    "sandwich",
    "sandwiches",
    "breakfast",
    "lunch",
    "dinner",
    "canteen",
    "cafe",
    "tea",
    "toast",
    "snacks",
    "coffee",
)
ED_SERVICE = "Emergency Department"
ED_WEEKEND_WAIT_SHARE = 0.55
ED_WEEKDAY_WAIT_SHARE = 0.10
ED_WAIT_KEYWORDS: tuple[str, ...] = ("wait", "waited", "waiting", "hours", "trolley", "corridor", "updates")
BILLING_CATEGORY = "Billing and charges"
BILLING_KEYWORDS: tuple[str, ...] = ("invoice", "bill", "charged", "charges")
NONINF_IMPROVE_SHARE = 0.10
NONINF_GOOD_SHARE = 0.03
PHI_SHARE = 0.03

NONINF_IMPROVE_VALUES: tuple[str, ...] = (
    "Nothing",
    "nothing",
    "Nothing.",
    "nothing really",
    "Nothing really",
    "N/A",
    "n/a",
    "no",
    "No",
    "-",
    "Nothing to improve",
    "nothing to improve",
    "can't think of anything",
    "Can't think of anything",
    "all good",
    "All good",
)
NONINF_GOOD_VALUES: tuple[str, ...] = ("Nothing", "nothing", "N/A", "n/a", "Nothing at all", "nothing.")
HOSTILE_PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)

# Answer-scale weights: FFT in FFT_RATINGS order, NPS for scores 0..10.
WEIGHTS_FFT_BASE = (0.52, 0.25, 0.07, 0.06, 0.06, 0.04)
WEIGHTS_FFT_HILLCREST = (0.58, 0.24, 0.06, 0.045, 0.04, 0.035)
WEIGHTS_FFT_ED = (0.45, 0.26, 0.08, 0.09, 0.08, 0.04)
WEIGHTS_FFT_WAIT = (0.03, 0.07, 0.12, 0.38, 0.37, 0.03)
WEIGHTS_NPS_BASE = (2, 1, 1, 2, 2, 3, 5, 9, 15, 24, 36)
WEIGHTS_NPS_ED = (3, 2, 2, 3, 3, 4, 6, 10, 15, 22, 30)
WEIGHTS_NPS_WAIT = (10, 8, 10, 12, 12, 12, 11, 8, 7, 5, 5)
COMPLAINT_CATEGORY_WEIGHTS = (16, 12, 13, 10, 9, 18, 5, 5, 5, 4, 3)  # percent, in COMPLAINT_CATEGORIES order

# State of one free-text answer.
EMPTY, TEXT, NONINF, HOSTILE = 0, 1, 2, 3
