"""The demo data generator: formats, determinism and every planted pattern at its stated rate."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import time
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from pipelines.demo import generator as demo_data
from pipelines.demo import params, phrases, report_sample, templates
from pipelines.demo.generator import generate

ROWS = 20_000
LOW = ("Poor", "Very poor")
PARKING_RX = r"parking|car park"
WAIT_RX = r"\bwait|waited|waiting|hours|trolley|corridor|updates"
FILES = ("fft_survey.csv", "nps_survey.csv", "suggestions.jsonl", "complaints.csv", "manifest.json")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    started = time.perf_counter()
    manifest = generate(out, rows=ROWS, seed=7)
    elapsed = time.perf_counter() - started
    return {
        "dir": out,
        "elapsed": elapsed,
        "manifest": manifest,
        "fft": pd.read_csv(out / "fft_survey.csv", dtype=str, keep_default_na=False),
        "nps": pd.read_csv(out / "nps_survey.csv", dtype=str, keep_default_na=False),
        "sug": [json.loads(line) for line in (out / "suggestions.jsonl").read_text(encoding="utf-8").splitlines()],
        "cmp": pd.read_csv(out / "complaints.csv", dtype=str, keep_default_na=False),
    }


def _pattern(manifest: dict, pid: str) -> dict:
    return next(p for p in manifest["planted_patterns"] if p["id"] == pid)


def _informative_texts(demo: dict) -> pd.DataFrame:
    """Every informative survey/suggestion answer (the unit ingestion melts surveys to)."""
    m = demo["manifest"]
    noninf = {v.lower() for p in ("values", "good_values") for v in _pattern(m, "non_informative")[p]}
    hostile = {h["text"] for h in m["hostile_texts"]}
    parts = []
    for frame, cols in ((demo["fft"], ("what_was_good", "what_could_improve")), (demo["nps"], ("reason",))):
        for col in cols:
            parts.append(pd.DataFrame({"site": frame.site, "month": frame.submitted_at.str[:7], "text": frame[col]}))
    sug = pd.DataFrame(demo["sug"])
    parts.append(pd.DataFrame({"site": sug.site.fillna(""), "month": sug.submitted_at.str[:7], "text": sug.text}))
    texts = pd.concat(parts, ignore_index=True)
    keep = (texts.text.str.strip() != "") & ~texts.text.str.lower().isin(noninf) & ~texts.text.isin(hostile)
    return texts[keep]


def _digest(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


# --- determinism and formats ---------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    generate(tmp_path / "a", rows=600, seed=3)
    generate(tmp_path / "b", rows=600, seed=3)
    generate(tmp_path / "c", rows=600, seed=4)
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert a == b
    for name in FILES:
        assert a[name] != c[name], name


# sha256 of every file for generate(rows=1000, seed=42) as written by generator version 1.0. A change
# here means the data changed: bump GENERATOR_VERSION and say why, never just re-pin.
PINNED_SEED_42 = {
    "complaints.csv": "80418877a68c228a0b48a5e71de8eb6addd37e60564cdaec843afaa722cf0ee3",
    "fft_survey.csv": "417791871f4e27d408d79ed532b754f0941181d3981430efefe6a29b3bfe6cc5",
    "manifest.json": "fcff3640d8c561fb2d053cdf756f373ae08c27a0f88696073f7b64058e2006aa",
    "nps_survey.csv": "051b45bee8b4fd571fd318665f8fb14d4d5ef7d68c3aa1767c91963d30578ea9",
    "suggestions.jsonl": "a6049a7b70b68ccb5a644e54531ba7fefea0ac470eeae31ca671d16d6b52ac21",
}


def test_fixed_seed_gives_the_pinned_bytes(tmp_path: Path) -> None:
    generate(tmp_path, rows=1000, seed=42)
    digests = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in FILES}
    assert digests == PINNED_SEED_42
    assert demo_data.GENERATOR_VERSION == "1.0"


def test_report_sample_frames_are_pinned() -> None:
    # The report tests' warehouse: same rows for the same seed (the duckdb version column aside).
    frames = report_sample.build_frames(n_records=500)
    digest = hashlib.sha256()
    for name, frame in frames.items():
        digest.update(name.encode())
        digest.update(frame.drop(columns=["versions"], errors="ignore").to_csv().encode())
    assert digest.hexdigest() == "e840a2160c24068daf72a7632bd82d591d7f13849baf5c3074c5379a7a0fe0eb"


def test_phrase_banks_load_compile_and_cover_every_service_and_site() -> None:
    for name in phrases.BANKS:
        assert phrases.load(name) is phrases.load(name)  # read once, cached
    slots = phrases.load("slots")
    for key in ("service_names", "staff", "staff_plural"):
        assert list(slots[key]) == list(demo_data.SERVICES), key
    assert list(slots["site_short"]) == list(demo_data.SITES)
    assert list(phrases.load("topic_weights")["service_multipliers"]) == list(demo_data.SERVICES)
    assert set(phrases.load("complaints")["bodies"]) == set(demo_data.COMPLAINT_CATEGORIES)
    pools = templates.pools()  # compiles every phrase: an unknown {slot} or <group> raises
    weights = phrases.load("topic_weights")
    for kind in ("praise", "weak", "mild", "neg", "sug"):
        names, cum = pools.cum[(kind, -1)]
        assert names and len(names) == len(cum), kind
        assert set(weights[kind]) <= set(phrases.load("topics")), kind
    with pytest.raises(KeyError, match="unknown slot"):
        templates.compile_phrase("a {nonexistent} slot")
    with pytest.raises(KeyError, match="unknown phrase bank"):
        phrases.load("nope")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [s for v in value for s in _strings(v)] if isinstance(value, tuple) else []


def test_planted_words_stay_in_their_topics() -> None:
    # The planted shares are measured with keyword regexes: no background phrase may match them.
    food = re.compile(r"\b(?:" + "|".join(params.FOOD_KEYWORDS) + r")\b", re.IGNORECASE)
    topics = phrases.load("topics")
    background = [t for name, pools in topics.items() if name not in ("parking", "food") for t in _strings(pools)]
    background += _strings(phrases.load("comments")) + _strings(phrases.load("slots"))
    assert len(background) > 500  # the flattening found the phrases
    assert not [t for t in background if "park" in t.lower() or food.search(t)]
    assert all(re.search(PARKING_RX, t, re.IGNORECASE) for t in _strings(topics["parking"]))
    assert all(food.search(t) for t in _strings(topics["food"]))


def test_returned_manifest_is_the_written_one(demo: dict) -> None:
    written = json.loads((demo["dir"] / "manifest.json").read_text(encoding="utf-8"))
    assert written == demo["manifest"]
    for key in (
        "seed",
        "rows",
        "start",
        "end",
        "sites",
        "services",
        "counts",
        "planted_patterns",
        "planted_identifiers",
        "hostile_texts",
    ):
        assert key in written
    assert written["seed"] == 7 and written["rows"] == ROWS
    assert (written["start"], written["end"]) == ("2025-11-01", "2026-10-31")


def test_counts_follow_the_split(demo: dict) -> None:
    counts = demo["manifest"]["counts"]
    assert sum(counts.values()) == ROWS
    expected = {"fft": 0.62, "nps": 0.13, "suggestions": 0.10, "complaints": 0.15}
    for key, share in expected.items():
        assert abs(counts[key] / ROWS - share) < 0.01, key
    assert (len(demo["fft"]), len(demo["nps"]), len(demo["sug"]), len(demo["cmp"])) == (
        counts["fft"],
        counts["nps"],
        counts["suggestions"],
        counts["complaints"],
    )


def test_exact_columns(demo: dict) -> None:
    def header(name: str) -> list[str]:
        with (demo["dir"] / name).open(encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh))

    assert header("fft_survey.csv") == [
        "response_id",
        "submitted_at",
        "site",
        "service",
        "fft_rating",
        "what_was_good",
        "what_could_improve",
        "age_band",
        "mode",
    ]
    assert header("nps_survey.csv") == ["response_id", "submitted_at", "site", "service", "nps_score", "reason"]
    assert header("complaints.csv") == [
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
    ]
    assert {tuple(r) for r in demo["sug"]} == {("entry_id", "submitted_at", "site", "location", "text")}


def test_value_domains(demo: dict) -> None:
    fft, nps, cmp_, sug = demo["fft"], demo["nps"], demo["cmp"], demo["sug"]
    sites = set(demo_data.SITES)
    assert set(fft.fft_rating) == set(demo_data.FFT_RATINGS)
    assert set(fft.age_band) <= set(demo_data.AGE_BANDS) | {""}
    assert set(fft["mode"]) == {"online", "SMS", "paper", "kiosk"}
    assert set(nps.nps_score.astype(int)) == set(range(11))
    assert set(cmp_.category) == set(demo_data.COMPLAINT_CATEGORIES)
    assert set(cmp_.severity) == {"low", "moderate", "high", "extreme"}
    assert set(cmp_.status) == {"open", "acknowledged", "closed", "reopened"}
    assert cmp_.contact_count.astype(int).between(1, 6).all()
    assert (cmp_.handling_minutes.astype(int) > 0).all()
    for frame in (fft, nps, cmp_):
        assert set(frame.site) == sites
        assert set(frame.service) <= set(demo_data.SERVICES)
        hill = frame[frame.site == "Hillcrest Community Hospital"]
        assert not hill.service.isin(["Emergency Department", "Maternity"]).any()
    assert {s["site"] for s in sug} == sites | {None}
    assert 0.15 < sum(s["site"] is None for s in sug) / len(sug) < 0.25
    for prefix, ids in (
        ("FFT", fft.response_id),
        ("NPS", nps.response_id),
        ("CMP", cmp_.complaint_ref),
        ("SUG", pd.Series([s["entry_id"] for s in sug])),
    ):
        assert ids.str.fullmatch(prefix + r"-\d{6}").all() and ids.is_unique


def test_timestamps_are_local_and_realistic(demo: dict) -> None:
    stamps = pd.concat([demo["fft"].submitted_at, demo["nps"].submitted_at])
    assert stamps.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    when = pd.to_datetime(stamps, format="%Y-%m-%d %H:%M")
    assert when.min() >= pd.Timestamp("2025-11-01") and when.max() < pd.Timestamp("2026-11-01")
    assert demo["fft"].submitted_at.is_monotonic_increasing and demo["nps"].submitted_at.is_monotonic_increasing
    night = when.dt.hour.isin([1, 2, 3, 4]).mean()
    day = when.dt.hour.isin([10, 11, 12, 13]).mean()
    assert night * 4 < day
    weekend = when.dt.day_of_week >= 5
    assert weekend.mean() < 2 / 7  # fewer responses per weekend day than per weekday
    # No wall time that does not exist / is ambiguous around the clock changes.
    for switch in ("2026-03-29", "2025-10-26", "2026-10-25"):
        assert not stamps.str.startswith(f"{switch} 01:").any()
    assert when.dt.month.nunique() == 12


def test_complaint_dates_are_consistent(demo: dict) -> None:
    cmp_ = demo["cmp"]
    end = date(2026, 10, 31)
    for row in cmp_.itertuples():
        received = date.fromisoformat(row.received_date)
        assert received <= end
        if row.status == "open":
            assert row.acknowledged_date == "" and row.closed_date == ""
            continue
        ack = date.fromisoformat(row.acknowledged_date)
        assert received <= ack <= end
        if row.status == "closed":
            assert ack <= date.fromisoformat(row.closed_date) <= end
        else:
            assert row.closed_date == ""
    assert (cmp_.status == "closed").mean() > 0.6


def test_rows_must_be_sane(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, rows=5)


# --- planted patterns ------------------------------------------------------------------------


def test_parking_surge_at_northgate_only(demo: dict) -> None:
    pat = _pattern(demo["manifest"], "parking_surge")
    assert (pat["kind"], pat["site"], pat["start_month"]) == ("emerging", "Northgate General Hospital", "2026-07")
    assert (pat["baseline_share"], pat["surge_share"]) == (0.02, 0.15)
    texts = _informative_texts(demo)
    texts = texts.assign(park=texts.text.str.contains(PARKING_RX, case=False), after=texts.month >= "2026-07")
    share = texts[texts.site != ""].groupby(["site", "after"]).park.mean()
    north_after = share[("Northgate General Hospital", True)]
    north_before = share[("Northgate General Hospital", False)]
    assert 0.11 < north_after < 0.19
    assert 0.01 < north_before < 0.035
    assert north_after >= 3 * north_before
    for site in ("Riverside Infirmary", "Hillcrest Community Hospital"):
        assert north_after >= 3 * share[(site, True)]
        assert 0.01 < share[(site, True)] < 0.035 and 0.01 < share[(site, False)] < 0.035


def test_food_control_is_flat(demo: dict) -> None:
    pat = _pattern(demo["manifest"], "food_control")
    texts = _informative_texts(demo)
    texts = texts[texts.site != ""].assign(food=lambda t: t.text.str.contains(pat["keyword_regex"], case=False))
    by_group = texts.groupby(["site", "month"]).food.agg(["mean", "size"])
    assert (by_group["size"] > 150).all()
    assert by_group["mean"].between(0.025, 0.06).all(), by_group
    assert abs(texts.food.mean() - 0.04) < 0.005


def test_ed_weekend_waits_drive_low_ratings(demo: dict) -> None:
    fft = demo["fft"]
    ed = fft[fft.service == "Emergency Department"]
    weekend = pd.to_datetime(ed.submitted_at).dt.day_of_week >= 5
    low = ed.fft_rating.isin(LOW)
    assert low[weekend].mean() >= 0.35
    assert low[weekend].mean() >= 1.6 * low[~weekend].mean()
    # Comments describing waits carry the low ratings.
    commented = ed[ed.what_could_improve.str.strip() != ""]
    waits = commented.what_could_improve.str.contains(WAIT_RX, case=False)
    wait_low = commented[waits].fft_rating.isin(LOW).mean()
    assert wait_low > 2 * commented[~waits].fft_rating.isin(LOW).mean()
    we = pd.to_datetime(commented.submitted_at).dt.day_of_week >= 5
    assert waits[we].mean() > 2 * waits[~we].mean()
    # NPS: weekend ED detractors well above weekday.
    nps = demo["nps"]
    ned = nps[nps.service == "Emergency Department"]
    nwe = pd.to_datetime(ned.submitted_at).dt.day_of_week >= 5
    detractor = ned.nps_score.astype(int) <= 6
    assert detractor[nwe].mean() > 1.3 * detractor[~nwe].mean()


def test_billing_confusion_share_and_keywords(demo: dict) -> None:
    cmp_ = demo["cmp"]
    billing = cmp_[cmp_.category == "Billing and charges"]
    assert 0.12 <= len(billing) / len(cmp_) <= 0.24
    assert billing.description.str.contains(r"invoice|bill|charged|charges", case=False).mean() >= 0.9
    others = cmp_[cmp_.category != "Billing and charges"]
    assert others.description.str.contains(r"invoice|\bbill\b", case=False).mean() < 0.05


def test_non_informative_answers(demo: dict) -> None:
    pat = _pattern(demo["manifest"], "non_informative")
    fft = demo["fft"]
    improve = fft.what_could_improve[fft.what_could_improve.str.strip() != ""]
    share = improve.str.lower().isin({v.lower() for v in pat["values"]}).mean()
    assert 0.07 <= share <= 0.13
    good = fft[fft.what_was_good.str.strip() != ""]
    nothing = good.what_was_good.str.lower().isin({v.lower() for v in pat["good_values"]})
    assert 0.02 <= nothing.mean() <= 0.04
    assert good[nothing].fft_rating.isin(LOW).all()


def _nhs_ok(number: str) -> bool:
    digits = re.sub(r"[\s-]", "", number)
    if not re.fullmatch(r"\d{10}", digits):
        return False
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def test_planted_identifiers(demo: dict) -> None:
    m = demo["manifest"]
    records = m["planted_identifier_records"]
    assert m["planted_identifiers"] == sorted({r["value"] for r in records})
    frames = {
        "fft": demo["fft"].set_index("response_id"),
        "nps": demo["nps"].set_index("response_id"),
        "complaints": demo["cmp"].set_index("complaint_ref"),
        "suggestions": pd.DataFrame(demo["sug"]).set_index("entry_id"),
    }
    for r in records:
        assert r["value"] in frames[r["file"]].loc[r["id"], r["field"]], r
    types = {r["type"] for r in records}
    assert types == {"name", "nhs_number", "phone", "email", "postcode", "date_of_birth", "hospital_number", "address"}
    nhs = [r["value"] for r in records if r["type"] == "nhs_number"]
    assert nhs and all(_nhs_ok(v) for v in nhs)
    assert {len(re.sub(r"\d", "9", v)) for v in nhs} >= {10, 12}  # bare and spaced/hyphenated formats
    n_texts = sum(
        int((frame[col].str.strip() != "").sum())
        for frame, col in (
            (demo["fft"], "what_was_good"),
            (demo["fft"], "what_could_improve"),
            (demo["nps"], "reason"),
            (demo["cmp"], "description"),
        )
    ) + len(demo["sug"])
    share = len({(r["file"], r["id"], r["field"]) for r in records}) / n_texts
    assert 0.02 <= share <= 0.04


def test_nhs_check_rejects_a_bad_number() -> None:
    assert _nhs_ok("943 476 5919")
    assert not _nhs_ok("943 476 5918")


def test_hostile_texts(demo: dict) -> None:
    hostile = demo["manifest"]["hostile_texts"]
    per_file = pd.Series([h["file"] for h in hostile]).value_counts()
    for name in ("fft_survey.csv", "nps_survey.csv", "suggestions.jsonl", "complaints.csv"):
        assert per_file.get(name, 0) >= 3
    assert {h["text"] for h in hostile} == set(demo_data.HOSTILE_PAYLOADS)
    fft = demo["fft"].set_index("response_id")
    for h in hostile:
        if h["file"] == "fft_survey.csv":
            assert fft.loc[h["id"], h["field"]] == h["text"]
    # CSV injection payloads survive the round trip verbatim at the start of the cell.
    assert demo["cmp"].description.str.startswith(("=", "+", "@", "<", "[")).sum() >= 3


def test_hostile_texts_present_for_small_data(tmp_path: Path) -> None:
    manifest = generate(tmp_path, rows=500, seed=1)
    per_file = pd.Series([h["file"] for h in manifest["hostile_texts"]]).value_counts()
    assert len(per_file) == 4 and (per_file >= 3).all()


def test_text_is_varied(demo: dict) -> None:
    texts = pd.concat(
        [
            demo["fft"].what_was_good,
            demo["fft"].what_could_improve,
            demo["nps"].reason,
            pd.Series([s["text"] for s in demo["sug"]]),
            demo["cmp"].description,
        ]
    )
    texts = texts[texts.str.strip() != ""].sample(5000, random_state=0)
    assert texts.nunique() / len(texts) >= 0.80
    # The answers follow the rating: Very poor responses say what went wrong, Very good ones what went well.
    fft = demo["fft"]
    answered = fft[(fft.what_was_good != "") | (fft.what_could_improve != "")]
    assert (answered[answered.fft_rating == "Very poor"].what_could_improve != "").mean() > 0.9
    assert (answered[answered.fft_rating == "Very good"].what_was_good != "").mean() > 0.8


def test_hundred_thousand_rows_budget(demo: dict) -> None:
    # 20k rows in the fixture; generation is linear, so 100k stays well under 20 s.
    assert demo["elapsed"] * 5 < 20, demo["elapsed"]


def test_start_and_months_move_the_window(tmp_path: Path) -> None:
    m = generate(tmp_path, rows=300, seed=2, start=date(2024, 4, 1), months=6)
    assert (m["start"], m["end"]) == ("2024-04-01", "2024-09-30")
    fft = pd.read_csv(tmp_path / "fft_survey.csv", dtype=str)
    first = datetime.strptime(fft.submitted_at.min(), "%Y-%m-%d %H:%M")
    assert first.date() >= date(2024, 4, 1)
    assert _pattern(m, "parking_surge")["start_month"] == "2024-08"
