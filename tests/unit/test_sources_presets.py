"""Source configs, rating scales, time zones and the canonical mapping (pure functions, no GX)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.sources.base import SourceConfig, SourceError, SourceRows, load_source_configs
from pipelines.sources.presets import SCALES, content_ids, local_to_utc, map_rows
from tests.conftest import ROOT
from tests.fixtures.ingest.helpers import FIXTURES


def config(**overrides) -> SourceConfig:
    raw = {"name": "src", "stream": "survey", "preset": "fft", "format": "csv", "path": "x.csv", **overrides}
    return SourceConfig.from_dict(raw)


def rows(records: list[dict]) -> SourceRows:
    frame = pd.DataFrame(records, dtype="string")
    frame["_row_number"] = range(2, len(frame) + 2)
    return SourceRows(frame)


# --- configs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "blue"}, "unknown keys"),
        ({"stream": "tweets"}, "stream must be one of"),
        ({"format": "pdf"}, "format must be one of"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"country": "England"}, "ISO 3166"),
        ({"preset": "nope"}, "unknown preset"),
        ({"stream": "complaint"}, "is for the survey stream"),
        ({"mapping": {"ratting": "x"}}, "unknown mapping key"),
        ({"mapping": {"rating_scale": "stars"}}, "unknown rating_scale"),
        ({"mapping": {"items": {"q1": "stars"}}}, "needs a scale"),
        ({"format": "fhir"}, "needs mapping.questions"),
        ({"format": "sql", "path": ""}, "needs 'url_env'"),
        ({"format": "sql", "url_env": "X", "path": ""}, "exactly one of 'query'"),
        ({"path": ""}, "needs 'path'"),
        ({"defaults": {"rating": "5"}}, "defaults may set site and service"),
        ({"quarantine_max": 3}, "between 0 and 1"),
        ({"preset": "questionnaire", "mapping": {"rating": "score"}}, "no mapping.rating_scale"),
    ],
)
def test_bad_configs_are_rejected_with_the_reason(overrides, message):
    with pytest.raises(SourceError, match=message):
        config(**overrides)


def test_config_hash_tracks_mapping_not_bookkeeping():
    base = config()
    assert config(country="GB-SCT").config_hash == base.config_hash  # calendar only: no re-ingest
    assert config(timezone="UTC").config_hash != base.config_hash
    assert config(mapping={"site": "Hospital"}).config_hash != base.config_hash
    assert config(country="us-ca").country == "US-CA"


def test_demo_and_example_configs_load():
    demo = load_source_configs(ROOT / "config" / "sources")
    assert {c.name for c in demo} >= {"demo_fft", "demo_nps", "demo_suggestion_box", "demo_complaints"}
    examples = load_source_configs(ROOT / "config" / "sources" / "examples")
    assert {c.format for c in examples} == {"csv", "xlsx", "jsonl", "fhir", "sql"}
    for folder in ("sources", "bad_sources"):
        assert load_source_configs(FIXTURES / folder)


def test_duplicate_source_names_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("name: same\nstream: survey\npreset: fft\nformat: csv\npath: a.csv\n")
    (tmp_path / "b.yaml").write_text("name: same\nstream: survey\npreset: fft\nformat: csv\npath: b.csv\n")
    with pytest.raises(SourceError, match="unique"):
        load_source_configs(tmp_path)


# --- scales ------------------------------------------------------------------------------------


def test_fft_accepts_labels_codes_and_variants():
    raw = pd.Series(["Very good", "1", "Don’t know", "6 - Don't know", "neither good or poor", "VERY POOR.",
                     "Extremely likely", "Excellent", "7", pd.NA], dtype="string")
    key, value = SCALES["fft5"].parse(raw)
    assert key.tolist()[:7] == ["very good", "very good", "don't know", "don't know", "neither good nor poor",
                                "very poor", "very good"]
    assert value.tolist()[:7] == [1.0, 1.0, pd.NA, pd.NA, 0.5, 0.0, 1.0]
    assert not key.iloc[7:9].isin(SCALES["fft5"].keys).any()  # kept raw: the suite quarantines them
    assert pd.isna(key.iloc[9])


@pytest.mark.parametrize("scale", ["nps11", "rating0_10"])
def test_zero_to_ten_scales(scale):
    key, value = SCALES[scale].parse(pd.Series(["0", "10", "9.0", "7.5", "11", "-1", "ten"], dtype="string"))
    assert key.tolist()[:3] == ["0", "10", "9"]
    assert value.tolist()[:3] == [0.0, 1.0, 0.9]
    assert not key.iloc[3:].isin(SCALES[scale].keys).any()


def test_hcahps_and_recommend_scales():
    key, value = SCALES["hcahps4"].parse(pd.Series(["Always", "usually", "2", "Often"], dtype="string"))
    assert key.tolist()[:3] == ["always", "usually", "sometimes"]
    assert value.iloc[0] == 1.0 and value.iloc[1] == pytest.approx(2 / 3)
    key, _ = SCALES["recommend4"].parse(pd.Series(["Definitely yes", "1"], dtype="string"))
    assert key.tolist() == ["definitely yes", "definitely no"]


# --- time zones --------------------------------------------------------------------------------


def test_local_times_become_utc_across_dst():
    values = pd.Series(["2026-01-15 10:00", "2026-07-15 10:00", "2026-03-29 01:30", "2025-10-26 01:30",
                        "2026-07-15T10:00:00Z", "2026-07-15T10:00:00-05:00", "15/07/2026 10:00", "2026-07-15"],
                       dtype="string")
    got = [str(t) for t in local_to_utc(values, "Europe/London")]
    assert got == [
        "2026-01-15 10:00:00+00:00",  # GMT
        "2026-07-15 09:00:00+00:00",  # BST
        "2026-03-29 01:00:00+00:00",  # in the spring gap: shifted forward to 02:00 BST
        "2025-10-26 01:30:00+00:00",  # in the autumn fold: read as GMT (standard time)
        "2026-07-15 10:00:00+00:00",  # explicit offsets win over the source zone
        "2026-07-15 15:00:00+00:00",
        "2026-07-15 09:00:00+00:00",  # day-first
        "2026-07-14 23:00:00+00:00",  # a date is local midnight
    ]


def test_month_first_sources_and_garbage():
    values = pd.Series(["07/15/2026 10:00", "garbage", "5", "", "31/02/2026", "Tue 3 March 2026 10:00"],
                       dtype="string")
    got = local_to_utc(values, "America/New_York", dayfirst=False)
    assert str(got.iloc[0]) == "2026-07-15 14:00:00+00:00"
    assert got.iloc[1:5].isna().all()  # never a guessed date
    assert str(got.iloc[5]) == "2026-03-03 15:00:00+00:00"


def test_excel_serial_dates_only_for_workbooks():
    values = pd.Series(["46178.25"], dtype="string")
    assert str(local_to_utc(values, "UTC", excel_serials=True).iloc[0]) == "2026-06-05 06:00:00+00:00"
    assert local_to_utc(values, "UTC").isna().all()


# --- mapping -----------------------------------------------------------------------------------


def test_fft_row_becomes_one_record_per_free_text_answer():
    mapped = map_rows(config(), rows([
        {"response_id": "r1", "submitted_at": "2026-03-01 10:00", "site": "A", "fft_rating": "Good",
         "what_was_good": "Kind", "what_could_improve": "Parking"},
        {"response_id": "r2", "submitted_at": "2026-03-01 11:00", "site": "A", "fft_rating": "Poor",
         "what_was_good": "  ", "what_could_improve": ""},
    ]))
    records = mapped.records
    assert records["source_record_id"].tolist() == ["r1#what_could_improve", "r1#what_was_good", "r2#rating"]
    assert records["question"].tolist()[:2] == ["Is there anything we could improve?",
                                                 "What was good about your experience?"]
    assert records["rating_value"].tolist() == [0.75, 0.75, 0.25]
    assert records["_pos"].tolist() == [0, 0, 1]


def test_mapping_overrides_questions_and_defaults():
    cfg = config(mapping={"received_at": "When", "questions": {"Q1": "Tell us more"}}, defaults={"site": "Main"})
    mapped = map_rows(cfg, rows([{"response_id": "r1", "When": "2026-03-01", "fft_rating": "1", "Q1": "Fine"}]))
    record = mapped.records.iloc[0]
    assert (record["question"], record["text"], record["site"]) == ("Tell us more", "Fine", "Main")


def test_missing_required_column_is_a_clear_error():
    with pytest.raises(SourceError, match=r"no column\(s\) \['submitted_at'\]"):
        map_rows(config(), rows([{"response_id": "r1", "fft_rating": "Good"}]))


def test_hcahps_items_are_parsed_and_flagged():
    cfg = config(preset="hcahps")
    mapped = map_rows(cfg, rows([
        {"response_id": "h1", "submitted_at": "2026-05-01", "site": "A", "overall_rating": "9",
         "nurse_courtesy": "Always", "recommend": "Probably yes"},
        {"response_id": "h2", "submitted_at": "2026-05-01", "site": "A", "overall_rating": "8",
         "nurse_courtesy": "Often"},
    ]))
    assert mapped.records["rating_scale"].tolist() == ["rating0_10", "rating0_10"]
    assert mapped.records["_items_valid"].tolist() == [True, False]
    items = mapped.items.set_index(["_pos", "item_key"])
    assert items.loc[(0, "recommend"), "value"] == pytest.approx(2 / 3)


def test_suggestions_without_ids_get_stable_content_ids():
    cfg = SourceConfig.from_dict({"name": "cards", "stream": "suggestion", "preset": "suggestion_box",
                                  "format": "csv", "path": "c.csv"})
    card = {"submitted_at": "2026-01-17", "text": "Fix the TV"}
    first = map_rows(cfg, rows([card, card, {**card, "text": "Other"}])).records["response_id"].tolist()
    again = map_rows(cfg, rows([card, card, {**card, "text": "Other"}])).records["response_id"].tolist()
    assert first == again and first[1] == first[0] + "-2" and len(set(first)) == 3
    assert content_ids(pd.DataFrame({"received_at": ["x"], "site": [None], "text": ["t"]})).iat[0].startswith("c")


def test_complaint_statuses_and_severities_are_normalised():
    cfg = SourceConfig.from_dict({"name": "c", "stream": "complaint", "preset": "complaints", "format": "csv",
                                  "path": "c.csv", "options": {"status_map": {"With PALS": "acknowledged"}}})
    base = {"complaint_ref": "c", "received_date": "2026-03-01", "site": "A", "description": "d"}
    mapped = map_rows(cfg, rows([
        {**base, "status": "Re-opened", "severity": "Medium", "contact_count": "2"},
        {**base, "status": "With PALS", "severity": "LOW", "contact_count": "two"},
    ]))
    r = mapped.records
    assert r["complaint_status"].tolist() == ["reopened", "acknowledged"]
    assert r["complaint_severity"].tolist() == ["moderate", "low"]
    assert r["contact_count"].tolist()[0] == 2 and r["_bad_contact_count"].tolist()[1] == "two"
