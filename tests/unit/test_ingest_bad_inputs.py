"""The bad-input corpus: nothing crashes the run and nothing is dropped silently.

Every file in tests/fixtures/ingest/bad/ is one source (tests/fixtures/ingest/bad_sources/); the
table below is the reconciliation each must produce, and the quarantine reasons it must record.
"""

from __future__ import annotations

import json

import pytest

from pipelines.ingest import load as ingest
from tests.fixtures.ingest.helpers import FIXTURES, huge_complaints, make_settings, query, stage

CORPUS = sorted(p.stem for p in (FIXTURES / "bad_sources").glob("*.yaml"))

# source: (status, read, loaded, quarantined, duplicate, skipped, expected quarantine checks)
EXPECTED = {
    "semicolon_fft": ("success", 3, 3, 0, 0, 0, set()),
    "wrong_delimiter_fft": ("failed", 0, 0, 0, 0, 0, set()),
    "bom_crlf_fft": ("success", 2, 2, 0, 0, 0, set()),
    "cp1252_fft": ("success", 2, 2, 0, 0, 0, set()),
    "utf16_fft": ("success", 1, 1, 0, 0, 0, set()),
    "missing_columns_fft": ("failed", 0, 0, 0, 0, 0, set()),
    "missing_optional_fft": ("success", 2, 2, 0, 0, 0, set()),
    "extra_columns_fft": ("success", 4, 1, 3, 0, 0, {"parse:field_count"}),
    "bad_dates_fft": (
        "success",
        6,
        1,
        5,
        0,
        0,
        {
            "expect_column_values_to_not_be_null(received_at)",
            "expect_column_values_to_be_between(_age_days)[future]",
            "expect_column_values_to_be_between(_age_days)[too_old]",
        },
    ),
    "off_scale_fft": (
        "success",
        4,
        1,
        3,
        0,
        0,
        {"expect_column_values_to_be_in_set(_scale_answer)", "expect_column_values_to_be_in_set(_has_content)"},
    ),
    "out_of_range_nps": ("success", 6, 2, 4, 0, 0, {"expect_column_values_to_be_in_set(_scale_answer)"}),
    "empty_text_suggestions": ("success", 5, 1, 4, 0, 0, {"expect_column_values_to_not_be_null(text)"}),
    "truncated_suggestions": ("success", 4, 2, 2, 0, 0, {"parse:json_line"}),
    "hostile_text_suggestions": ("success", 14, 14, 0, 0, 0, set()),
    "wrong_type_fhir": ("success", 6, 1, 4, 0, 1, {"fhir:resource_type", "fhir:status", "parse:json_line"}),
    "truncated_bundle_fhir": ("failed", 0, 0, 0, 0, 0, set()),
    "complaint_bad_values": (
        "success",
        7,
        1,
        6,
        0,
        0,
        {
            "expect_column_values_to_be_in_set(complaint_status)",
            "expect_column_values_to_be_in_set(complaint_severity)",
            "expect_column_values_to_be_null(_bad_contact_count)",
            "expect_column_values_to_be_null(_bad_acknowledged_at)",
            "expect_column_pair_values_a_to_be_greater_than_b(closed_at,opened_at)",
            "expect_column_values_to_not_be_null(site)",
        },
    ),
    "duplicate_ids_complaints": ("success", 4, 2, 1, 1, 0, {"expect_column_values_to_be_unique(_row_id)"}),
    "huge_comment_complaints": ("success", 2, 1, 1, 0, 0, {"expect_column_value_lengths_to_be_between(text)"}),
    "empty_fft": ("success", 0, 0, 0, 0, 0, set()),
    "header_only_fft": ("success", 0, 0, 0, 0, 0, set()),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The whole corpus ingested once (failure threshold off): (settings, results, error)."""
    s = stage(make_settings(tmp_path_factory.mktemp("bad")), CORPUS, folder="bad_sources", data="bad")
    huge_complaints(s.data_dir / "bad" / "huge_comment_complaints.csv")
    s = s.with_(quarantine_max=1.0)
    with pytest.raises(ingest.IngestError) as err:  # the three unreadable files fail the run, loudly
        ingest.ingest_all(s)
    return s, err.value.results, str(err.value)


def test_corpus_is_complete():
    assert set(CORPUS) == set(EXPECTED)


def test_every_bad_file_is_read_counted_and_reconciled(corpus):
    s, results, _ = corpus
    by_source = {r.source: r for r in results}
    assert set(by_source) == set(EXPECTED)
    for source, (status, read, loaded, quarantined, duplicate, skipped, _) in EXPECTED.items():
        r = by_source[source]
        got = (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_duplicate, r.rows_skipped)
        assert got == (status, read, loaded, quarantined, duplicate, skipped), source
        assert r.reconciles, source
    stored = query(
        s,
        "select source, status, rows_read, rows_loaded + rows_quarantined + rows_duplicate "
        "+ rows_skipped as accounted from raw.ingest_batches",
    )
    assert sorted(stored["source"]) == sorted(EXPECTED)  # one recorded batch per source, failed ones too
    assert (stored["rows_read"] == stored["accounted"]).all()
    assert set(stored.loc[stored["status"] == "failed", "source"]) == {
        s for s, e in EXPECTED.items() if e[0] == "failed"
    }


def test_quarantine_has_source_raw_row_check_and_reason(corpus):
    s, _, _ = corpus
    rows = query(s, "select source, row_number, raw_row, failed_check, reason from raw.quarantine")
    assert rows["raw_row"].notna().all() and rows["reason"].str.len().gt(0).all()
    for source, expected in EXPECTED.items():
        checks = set()
        for value in rows.loc[rows["source"] == source, "failed_check"]:
            checks |= set(value.split("; "))
        assert checks == expected[-1], source
        assert (rows["source"] == source).sum() == expected[3], source
    huge = rows[rows["source"] == "huge_comment_complaints"]
    assert len(huge["raw_row"].iat[0]) > 1_000_000  # kept verbatim, not truncated


def test_unreadable_files_fail_loudly_and_are_retried(corpus):
    s, _, message = corpus
    assert "wrong_delimiter_fft" in message and "single column: is `delimiter:` right?" in message
    assert "missing_columns_fft" in message and "no column(s) ['submitted_at']" in message
    assert "truncated_bundle_fhir" in message and "truncated file?" in message
    # No checksum is recorded for a failed batch: the next run tries the file again.
    again = ingest.ingest_all(s, names=["semicolon_fft"])
    assert again[0].status == "skipped"
    with pytest.raises(ingest.IngestError):
        ingest.ingest_all(s, names=["missing_columns_fft"])


def test_text_is_stored_verbatim(corpus):
    s, _, _ = corpus
    stored = query(s, "select response_id, text from raw.feedback where source = 'hostile_text_suggestions'")
    expected = json.loads((FIXTURES / "bad" / "hostile_expected.json").read_text(encoding="utf-8"))
    assert dict(zip(stored["response_id"], stored["text"], strict=True)) == expected
    accents = query(s, "select text from raw.feedback where source = 'cp1252_fft' order by source_record_id")
    assert set(accents["text"]) == {"Le café était très bon", "£20 to park is too much", "Great – thanks 👍"}
    polish = query(s, "select text from raw.feedback where source = 'utf16_fft'")
    assert polish["text"].iat[0] == "Zażółć gęślą jaźń"
    batch = query(s, "select message from raw.ingest_batches where source = 'cp1252_fft'")
    assert "were not valid utf-8; read as Windows-1252" in batch["message"].iat[0]


def test_status_view_reconciles_every_batch(corpus):
    from pipelines import warehouse

    s, _, _ = corpus
    warehouse.init(s)
    view = query(s, "select source, reconciles from reporting.rpt_ingest_reconciliation")
    assert view["reconciles"].all() and set(view["source"]) == set(EXPECTED)
