"""Great Expectations suites on fixtures: clean exports pass, each check catches its own fault."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest import quality
from pipelines.sources.base import load_source_config
from pipelines.sources.readers import read_source_file
from tests.conftest import ROOT
from tests.fixtures.ingest.helpers import FIXTURES, shared_gx_dir

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def mapped(source: str) -> pd.DataFrame:
    config = load_source_config(FIXTURES / "sources" / f"{source}.yaml")
    path = next(iter(sorted((FIXTURES / "presets").glob(Path(config.path).name))))
    return read_source_file(config, path).mapped.records


@pytest.mark.parametrize(
    ("source", "stream"),
    [
        ("fft_csv", "survey"),
        ("fft_xlsx", "survey"),
        ("nps_csv", "survey"),
        ("hcahps_csv", "survey"),
        ("fhir_bundle", "survey"),
        ("fhir_nps", "survey"),
        ("suggestions_jsonl", "suggestion"),
        ("suggestion_cards_csv", "suggestion"),
        ("complaints_csv", "complaint"),
    ],
)
def test_clean_preset_fixtures_pass_their_suite(source, stream):
    outcome = quality.validate(mapped(source), stream, shared_gx_dir(), now=NOW)
    assert outcome.failures == {} and outcome.success


def _faults(base: pd.DataFrame, faults: dict[str, dict]) -> pd.DataFrame:
    """One row per fault: the clean base row with the fault's columns changed."""
    rows = []
    for i, (_, change) in enumerate(faults.items()):
        row = base.iloc[[0]].copy()
        for column, value in change.items():
            row[column] = value
        row["response_id"] = row["response_id"] if "response_id" in change else f"id-{i}"
        row["_pos"] = i
        rows.append(row)
    frame = pd.concat(rows, ignore_index=True)
    for column in ("received_at", "opened_at", "acknowledged_at", "closed_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _check(outcome: quality.Outcome, index: int) -> set[str]:
    return {name for name, _ in outcome.failures.get(index, [])}


def test_survey_suite_catches_each_fault():
    base = mapped("nps_csv").iloc[[0]]
    faults = {
        "clean": {},
        "expect_column_values_to_not_be_null(response_id)": {"response_id": pd.NA},
        "expect_column_values_to_not_be_null(received_at)": {"received_at": pd.NaT},
        "expect_column_values_to_be_between(_age_days)[future]": {"received_at": pd.Timestamp("2027-01-01", tz="UTC")},
        "expect_column_values_to_be_between(_age_days)[too_old]": {"received_at": pd.Timestamp("1990-01-01", tz="UTC")},
        "expect_column_value_lengths_to_be_between(text)": {"text": "x" * (quality.MAX_TEXT_CHARS + 1)},
        "expect_column_values_to_not_be_null(site)": {"site": pd.NA},
        "expect_column_values_to_be_in_set(_scale_answer)": {"_rating_key": "11"},
        "expect_column_values_to_be_in_set(rating_scale)": {"rating_scale": "stars"},
        "expect_column_values_to_be_between(rating_value)": {"rating_value": 1.5},
        "expect_column_values_to_be_between(nps)": {"nps": 12},
        "expect_column_values_to_be_in_set(_items_valid)": {"_items_valid": False},
        "expect_column_values_to_be_in_set(_has_content)": {"_has_content": False},
    }
    frame = _faults(base, faults)
    outcome = quality.validate(frame, "survey", shared_gx_dir(), now=NOW)
    for index, expected in enumerate(faults):
        got = _check(outcome, index)
        if expected == "clean":
            assert got == set()
        else:
            assert expected in got, (expected, got)


def test_survey_scales_allow_exactly_their_answers():
    answers = set(quality.scale_answers())
    assert {
        "fft5:very good",
        "fft5:don't know",
        "nps11:0",
        "nps11:10",
        "hcahps4:always",
        "recommend4:definitely yes",
    } <= answers
    assert "nps11:11" not in answers and "fft5:excellent" not in answers


def test_uniqueness_is_per_source_row_and_keeps_the_first():
    records = mapped("fft_csv")  # FFT-0002 has two answers: one row, two records, one id
    dup = records[records["response_id"] == "FFT-0005"].assign(_pos=99, text="a different answer")
    frame = pd.concat([records, dup], ignore_index=True)
    outcome = quality.validate(frame, "survey", shared_gx_dir(), now=NOW)
    failed = {frame.at[i, "_pos"] for i in outcome.failures}
    assert failed == {99}


def test_complaint_suite_catches_each_fault():
    base = mapped("complaints_csv").iloc[[0]]
    faults = {
        "clean": {},
        "expect_column_values_to_not_be_null(text)": {"text": pd.NA},
        "expect_column_values_to_be_in_set(complaint_status)": {"complaint_status": "lost"},
        "expect_column_values_to_be_in_set(complaint_severity)": {"complaint_severity": "urgent"},
        "expect_column_values_to_be_null(_bad_closed_at)": {"_bad_closed_at": "soon"},
        "expect_column_values_to_be_between(contact_count)": {"contact_count": -1},
        "expect_column_pair_values_a_to_be_greater_than_b(closed_at,opened_at)": {
            "closed_at": pd.Timestamp("2026-01-01", tz="UTC")
        },
        "expect_column_pair_values_a_to_be_greater_than_b(acknowledged_at,opened_at)": {
            "acknowledged_at": pd.Timestamp("2026-01-01", tz="UTC")
        },
    }
    frame = _faults(base, faults)
    outcome = quality.validate(frame, "complaint", shared_gx_dir(), now=NOW)
    for index, expected in enumerate(faults):
        got = _check(outcome, index)
        if expected == "clean":
            assert got == set()
        else:
            assert expected in got, (expected, got)


def test_suggestion_suite_requires_text_but_not_site():
    base = mapped("suggestions_jsonl")
    frame = base.assign(text=[pd.NA, "ok", "ok"], site=pd.NA)
    outcome = quality.validate(frame, "suggestion", shared_gx_dir(), now=NOW)
    assert set(outcome.failures) == {0}


def test_validation_results_never_hold_patient_text():
    secret = "PATIENT-SECRET-TEXT " * 1100  # too long: fails the length check
    frame = mapped("suggestions_jsonl").assign(text=[secret, "ok", "ok"])
    outcome = quality.validate(frame, "suggestion", shared_gx_dir(), now=NOW)
    assert outcome.failures
    stored = sorted(
        (shared_gx_dir() / "gx" / "uncommitted" / "validations").rglob("*.json"), key=lambda p: p.stat().st_mtime
    )[-1]
    assert "PATIENT-SECRET-TEXT" not in stored.read_text()


def test_data_docs_are_built_and_located():
    quality.validate(mapped("fft_csv"), "survey", shared_gx_dir(), now=NOW)
    url = quality.build_data_docs(shared_gx_dir())
    index = shared_gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert url == index.as_uri() and index.is_file()
    assert "feedback_survey" in index.read_text()


def test_committed_suites_match_the_code():
    """great_expectations/gx holds the suites as defined in pipelines/ingest/quality.py (run sync_suites)."""
    for stream in quality.STREAMS:
        path = ROOT / "great_expectations" / "gx" / "expectations" / f"feedback_{stream}.json"
        stored = json.loads(path.read_text())
        got = sorted(
            (e["type"], repr(quality._norm({k: v for k, v in e["kwargs"].items()})), e["meta"]["check"])
            for e in stored["expectations"]
        )
        assert got == quality._suite_spec(quality.suite_checks(stream)), stream
        checkpoint = ROOT / "great_expectations" / "gx" / "checkpoints" / f"feedback_{stream}.json"
        assert json.loads(checkpoint.read_text())["result_format"] == quality.RESULT_FORMAT
