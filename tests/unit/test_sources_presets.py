"""Source configs, rating scales, time zones and the canonical mapping (pure functions, no GX)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.sources.base import load_source_configs, name_date, order_files, parse_source_config
from pipelines.sources.mapping import content_ids, local_to_utc, map_rows
from pipelines.sources.scales import SCALES
from pipelines.sources.types import Reject, SourceConfig, SourceError, SourceRows
from tests.conftest import ROOT
from tests.fixtures.ingest.helpers import FIXTURES


def config(**overrides) -> SourceConfig:
    raw = {"name": "src", "stream": "survey", "preset": "fft", "format": "csv", "path": "x.csv", **overrides}
    return parse_source_config(raw)


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
        ({"header_row": 0}, "header_row must be the 1-based line"),
        ({"header_row": "3"}, "header_row must be the 1-based line"),
        ({"format": "jsonl", "header_row": 2}, "header_row is for csv and xlsx"),
        ({"mapping": {"received_at": []}}, "a list of column names"),
        ({"format": "fhir", "mapping": {"received_at": ["a", "b"], "questions": {"q": None}}}, "not a list"),
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
    assert config(header_row=1).config_hash == base.config_hash  # the default: no re-ingest on upgrade
    assert config(header_row=3).config_hash != base.config_hash


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
    raw = pd.Series(
        [
            "Very good",
            "1",
            "Don’t know",
            "6 - Don't know",
            "neither good or poor",
            "VERY POOR.",
            "Extremely likely",
            "Excellent",
            "7",
            pd.NA,
        ],
        dtype="string",
    )
    key, value = SCALES["fft5"].parse(raw)
    assert key.tolist()[:7] == [
        "very good",
        "very good",
        "don't know",
        "don't know",
        "neither good nor poor",
        "very poor",
        "very good",
    ]
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


@pytest.mark.parametrize(
    ("scale", "decimals"),
    [("fft5", ["3.5", "2.1", "1.5", "3. 5", "3,5"]), ("likert5", ["3.5", "4.2"]), ("hcahps4", ["3.5", "1.2"])],
)
def test_decimal_ratings_are_off_the_scale_not_read_as_a_code(scale, decimals):
    # Regression (issue 17): "3.5" was read as the code "3." glued to the label "5" (FFT very
    # poor), "2.1" as very good, Likert "3.5" as strongly agree.
    key, value = SCALES[scale].parse(pd.Series(decimals, dtype="string"))
    assert not key.isin(SCALES[scale].keys).any(), key.tolist()
    assert value.isna().all()


def test_a_code_must_agree_with_its_label():
    key, value = SCALES["fft5"].parse(
        pd.Series(["1 - Very good", "2 - Very good", "2) Good", "4: poor", "7 - Very good"], dtype="string")
    )
    # The code of another answer makes the answer ambiguous; a code the scale does not have is ignored.
    assert key.tolist() == ["very good", "2 - very good", "good", "poor", "very good"]
    assert value.tolist() == [1.0, pd.NA, 0.75, 0.25, 1.0]


# --- time zones --------------------------------------------------------------------------------


def test_local_times_become_utc_across_dst():
    values = pd.Series(
        [
            "2026-01-15 10:00",
            "2026-07-15 10:00",
            "2026-03-29 01:30",
            "2025-10-26 01:30",
            "2026-07-15T10:00:00Z",
            "2026-07-15T10:00:00-05:00",
            "15/07/2026 10:00",
            "2026-07-15",
        ],
        dtype="string",
    )
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
    values = pd.Series(["07/15/2026 10:00", "garbage", "5", "", "31/02/2026", "Tue 3 March 2026 10:00"], dtype="string")
    got = local_to_utc(values, "America/New_York", dayfirst=False)
    assert str(got.iloc[0]) == "2026-07-15 14:00:00+00:00"
    assert got.iloc[1:5].isna().all()  # never a guessed date
    assert str(got.iloc[5]) == "2026-03-03 15:00:00+00:00"


def test_dates_with_zones_the_offset_pattern_misses_never_fail_the_column():
    """Found by the atheris fuzz target: an hour-only ISO offset, or a zone name dateutil reads,
    made the whole column raise (mixed zones; aware cast to naive)."""
    values = pd.Series(
        ["2026-01-01T10+01:00", "2026-01-02T10-05:00", "2026-01-03", "3 March 2026 10:00 EST", "2026 10:00 UTC+3"],
        dtype="string",
    )
    got = local_to_utc(values, "Europe/London")
    assert [str(t) for t in got.iloc[:3]] == [
        "2026-01-01 09:00:00+00:00",  # an hour-only offset is an offset
        "2026-01-02 15:00:00+00:00",
        "2026-01-03 00:00:00+00:00",
    ]
    assert got.iloc[3:].isna().all()  # a zone name is no wall-clock time of the source: quarantined for its date
    alone = local_to_utc(pd.Series(["2026-01-01 10:00 EST", "2026-01-02"], dtype="string"), "Europe/London")
    assert alone.isna().tolist() == [True, False]


def test_excel_serial_dates_only_for_workbooks():
    values = pd.Series(["46178.25"], dtype="string")
    assert str(local_to_utc(values, "UTC", excel_serials=True).iloc[0]) == "2026-06-05 06:00:00+00:00"
    assert local_to_utc(values, "UTC").isna().all()


# --- mapping -----------------------------------------------------------------------------------


def test_fft_row_becomes_one_record_per_free_text_answer():
    mapped = map_rows(
        config(),
        rows(
            [
                {
                    "response_id": "r1",
                    "submitted_at": "2026-03-01 10:00",
                    "site": "A",
                    "fft_rating": "Good",
                    "what_was_good": "Kind",
                    "what_could_improve": "Parking",
                },
                {
                    "response_id": "r2",
                    "submitted_at": "2026-03-01 11:00",
                    "site": "A",
                    "fft_rating": "Poor",
                    "what_was_good": "  ",
                    "what_could_improve": "",
                },
            ]
        ),
    )
    records = mapped.records
    assert records["source_record_id"].tolist() == ["r1#what_could_improve", "r1#what_was_good", "r2#rating"]
    assert records["question"].tolist()[:2] == [
        "Is there anything we could improve?",
        "What was good about your experience?",
    ]
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
    mapped = map_rows(
        cfg,
        rows(
            [
                {
                    "response_id": "h1",
                    "submitted_at": "2026-05-01",
                    "site": "A",
                    "overall_rating": "9",
                    "nurse_courtesy": "Always",
                    "recommend": "Probably yes",
                },
                {
                    "response_id": "h2",
                    "submitted_at": "2026-05-01",
                    "site": "A",
                    "overall_rating": "8",
                    "nurse_courtesy": "Often",
                },
            ]
        ),
    )
    assert mapped.records["rating_scale"].tolist() == ["rating0_10", "rating0_10"]
    assert mapped.records["_items_valid"].tolist() == [True, False]
    items = mapped.items.set_index(["_pos", "item_key"])
    assert items.loc[(0, "recommend"), "value"] == pytest.approx(2 / 3)


def test_suggestions_without_ids_get_stable_content_ids():
    cfg = parse_source_config(
        {"name": "cards", "stream": "suggestion", "preset": "suggestion_box", "format": "csv", "path": "c.csv"}
    )
    card = {"submitted_at": "2026-01-17", "text": "Fix the TV"}
    first = map_rows(cfg, rows([card, card, {**card, "text": "Other"}])).records["response_id"].tolist()
    again = map_rows(cfg, rows([card, card, {**card, "text": "Other"}])).records["response_id"].tolist()
    assert first == again and first[1] == first[0] + "-2" and len(set(first)) == 3
    assert content_ids(pd.DataFrame({"received_at": ["x"], "site": [None], "text": ["t"]})).iat[0].startswith("c")


def test_complaint_statuses_and_severities_are_normalised():
    cfg = parse_source_config(
        {
            "name": "c",
            "stream": "complaint",
            "preset": "complaints",
            "format": "csv",
            "path": "c.csv",
            "options": {"status_map": {"With PALS": "acknowledged"}},
        }
    )
    base = {"complaint_ref": "c", "received_date": "2026-03-01", "site": "A", "description": "d"}
    mapped = map_rows(
        cfg,
        rows(
            [
                {**base, "status": "Re-opened", "severity": "Medium", "contact_count": "2"},
                {**base, "status": "With PALS", "severity": "LOW", "contact_count": "two"},
            ]
        ),
    )
    r = mapped.records
    assert r["complaint_status"].tolist() == ["reopened", "acknowledged"]
    assert r["complaint_severity"].tolist() == ["moderate", "low"]
    assert r["contact_count"].tolist()[0] == 2 and r["_bad_contact_count"].tolist()[1] == "two"


# --- new-user regressions (tests/fixtures/newuser, docs/getting-started.md) ---------------------


def test_date_and_time_in_two_columns_are_combined():
    cfg = config(mapping={"received_at": ["Date Completed", "Time Completed"]})
    mapped = map_rows(
        cfg,
        rows(
            [
                {
                    "response_id": "w1",
                    "Date Completed": "04/09/2026",
                    "Time Completed": "00:59",
                    "site": "A",
                    "fft_rating": "1 - Very good",
                },
                {
                    "response_id": "w2",
                    "Date Completed": "05/09/2026",
                    "Time Completed": "",
                    "site": "A",
                    "fft_rating": "2",
                },
                {"response_id": "w3", "Date Completed": "", "Time Completed": "10:00", "site": "A", "fft_rating": "2"},
            ]
        ),
    )
    got = [None if pd.isna(t) else str(t) for t in mapped.records["received_at"]]
    # BST: 00:59 local on 4 September is 23:59 UTC the day before; no time is local midnight; a time alone is no date
    assert got == ["2026-09-03 23:59:00+00:00", "2026-09-04 23:00:00+00:00", None]


def test_a_typo_in_a_mapped_column_fails_naming_the_closest_header():
    # Before: a mapped question column missing from the file was skipped, and every answer of it
    # was dropped without a trace (the batch still reconciled).
    cfg = config(mapping={"questions": {"Q3 - What could we do better?": None}})
    with pytest.raises(
        SourceError,
        match=r"no column\(s\) \['Q3 - What could we do better\?'\].*Did you mean "
        r"'Q3 - What could we have done better\?'",
    ):
        map_rows(
            cfg,
            rows(
                [
                    {
                        "response_id": "r1",
                        "submitted_at": "2026-03-01",
                        "site": "A",
                        "fft_rating": "1",
                        "Q3 - What could we have done better?": "Parking",
                    }
                ]
            ),
        )


def test_mapped_columns_match_ignoring_case_and_spaces():
    cfg = config(mapping={"site": "Hospital", "service": "Ward / Department", "questions": {"Q2 ?": "Why?"}})
    source = rows(
        [
            {
                "response_id": "r1",
                "submitted_at": "2026-03-01",
                "HOSPITAL": "A",
                "Ward / department": "W7",
                "fft_rating": "1",
                "Q2?": "Kind staff",
            }
        ]
    )
    record = map_rows(cfg, source).records.iloc[0]
    assert (record["site"], record["service"], record["text"], record["question_key"]) == (
        "A",
        "W7",
        "Kind staff",
        "Q2 ?",
    )
    assert "matched ignoring case and spaces" in source.notes[0]


def test_a_file_whose_every_row_is_rejected_and_has_no_id_column_fails():
    # Before: a report title above the column names gave a one-column "header", every real row
    # was rejected as the wrong width, and the file was loaded as a success with 100 % quarantined.
    source = SourceRows(
        pd.DataFrame({"Trust report": pd.Series([], dtype="string"), "_row_number": pd.Series([], dtype="int64")}),
        rejects=[Reject(3, "{}", "parse:field_count", "wrong width")],
        name="x.csv",
    )
    with pytest.raises(SourceError, match="single column.*header_row"):
        map_rows(config(), source)
    empty = SourceRows(pd.DataFrame({"_row_number": pd.Series([], dtype="int64")}), name="empty.csv")
    assert map_rows(config(), empty).records.empty  # an empty file is still just empty


def test_files_are_ingested_in_the_order_of_the_dates_in_their_names():
    # Before: name order, so fft_Dec2026.csv was loaded before fft_Nov2026.csv and the older
    # export overwrote the amendments of the newer one.
    assert name_date("fft_export_Nov2026.csv") == (2026, 11, 0)
    assert name_date("FFT November 2026.xlsx") == (2026, 11, 0)
    assert name_date("westmoor_fft_Sep-Nov_2026.csv") == (2026, 11, 0)
    assert name_date("complaints_2026-03.csv") == (2026, 3, 0)
    assert name_date("returns_20260301.csv") == (2026, 3, 1)
    assert name_date("export_03-11-2026.csv") == (2026, 11, 3)
    assert name_date("export_03-11-2026.csv", dayfirst=False) == (2026, 3, 11)
    assert name_date("fft_nov26.csv") == (2026, 11, 0)
    assert name_date("2027_Jan/ward.csv") == (2027, 1, 0)
    assert name_date("marchwood_summary.csv") is None and name_date("complaints_update.csv") is None
    months = [Path("/x") / f"fft_export_{m}.csv" for m in ("Nov2026", "Dec2026", "Jan2027", "Oct2026")]
    assert [p.stem[-7:] for p in order_files(months)] == ["Oct2026", "Nov2026", "Dec2026", "Jan2027"]
    undated = [Path("/x/complaints_update.csv"), Path("/x/complaints.csv")]
    assert order_files(undated) == sorted(undated)  # no date in a name: name order
    assert order_files([*months, Path("/x/fft_latest.csv")]) == sorted([*months, Path("/x/fft_latest.csv")])
