"""File readers (CSV/TSV, JSON Lines, Excel, FHIR), SQL pulls and formula-safe exports."""

from __future__ import annotations

import codecs
import json
import sqlite3

import pandas as pd
import pytest

from pipelines.exports import safe_cell, safe_frame, write_csv, write_xlsx
from pipelines.sources.base import parse_source_config
from pipelines.sources.fhir import read_fhir
from pipelines.sources.files import decode_bytes, read_delimited, read_jsonl, read_xlsx
from pipelines.sources.sql import decode_watermark, pull
from pipelines.sources.types import SourceConfig, SourceError
from tests.fixtures.ingest.helpers import FIXTURES

# --- decoding and CSV ---------------------------------------------------------------------------


def test_decode_mixed_utf8_and_windows_1252():
    data = "emoji 👍 ".encode() + "café".encode("cp1252")
    text, encoding, repaired = decode_bytes(data)
    assert text == "emoji 👍 café" and encoding == "utf-8+cp1252" and repaired == 1
    assert decode_bytes(codecs.BOM_UTF8 + b"a")[0] == "a"
    assert decode_bytes("hé".encode("utf-16"))[:2] == ("hé", "utf-16")
    assert decode_bytes(b"caf\xe9", "latin-1")[0] == "café"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected_on_the_header(tmp_path, delimiter):
    path = tmp_path / "x.csv"
    path.write_text(delimiter.join(["id", "text"]) + "\n" + delimiter.join(["1", '"a, b; c"']) + "\n")
    frame = read_delimited(path).frame
    assert frame.columns.tolist() == ["id", "text", "_row_number"]
    assert frame.iloc[0]["text"] == "a, b; c"


def test_rows_with_the_wrong_number_of_fields_are_rejected_not_shifted(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('id,a,b\n1,x,y\n2,x,y,z\n3,x\n\n4,x,y,\n5,"multi\nline",y\n')
    read = read_delimited(path)
    assert read.frame["id"].tolist() == ["1", "5"]
    assert read.frame["_row_number"].tolist() == [2, 8]  # the line a record ends on
    assert [r.row_number for r in read.rejects] == [3, 4, 6]
    assert json.loads(read.rejects[0].raw_row)["_extra_fields"] == ["z"]
    assert read.rows_read == 5  # the blank line is not a row


def test_duplicate_and_blank_headers_are_made_unique(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,text,text,\n1,a,b,c\n")
    assert read_delimited(path).frame.columns.tolist() == ["id", "text", "text.1", "column_4", "_row_number"]


def test_raw_rows_are_json_of_the_source_row(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,<script>x</script>\n")
    read = read_delimited(path)
    assert json.loads(read.raw_rows([0])[0]) == {"id": "1", "text": "<script>x</script>"}


def test_a_lone_cr_inside_a_quoted_field_stays_in_its_row(tmp_path):
    # Issue 17 reported a lone CR in a quoted comment splitting its row; the reader keeps the
    # row whole and the comment verbatim (CR is a line break, not a control character to drop).
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'id,text\r\n1,"first part\rsecond part"\r\n2,"line one\nline two"\r\n'
        b'3,"ends with CR\r"\r\n4,"windows\r\nbreak"\r\n'
    )
    read = read_delimited(path)
    assert read.rejects == [] and read.rows_read == 4 and read.notes == []
    assert read.frame["text"].tolist() == [
        "first part\rsecond part",
        "line one\nline two",
        "ends with CR\r",
        "windows\r\nbreak",
    ]


def test_nul_and_other_control_characters_are_removed_not_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'id,text\n1,"Good\x00 service"\n2,W\x00a\x00r\x00d\n3,"tab\tkept\r\nCR too\x0b\x1b\x7f"\n')
    read = read_delimited(path)
    assert read.rejects == [] and read.rows_read == 3
    assert read.frame["text"].tolist() == ["Good service", "Ward", "tab\tkept\r\nCR too\x7f"]  # DEL is not C0
    assert read.notes == ["x.csv: 6 control character(s) such as NUL removed from the text"]


# --- JSON Lines ---------------------------------------------------------------------------------


def test_jsonl_keeps_raw_lines_and_rejects_bad_ones(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 1, "text": "ok", "tags": ["a"]}\n\n"just a string"\n{"id": 2, "text": "cut\n')
    read = read_jsonl(path)
    assert read.frame["id"].tolist() == ["1"] and read.frame["tags"].tolist() == ['["a"]']
    assert read.raw_rows([0]) == ['{"id": 1, "text": "ok", "tags": ["a"]}']
    assert [(r.row_number, r.failed_check) for r in read.rejects] == [(3, "parse:json_line"), (4, "parse:json_line")]


def test_jsonl_control_characters_raw_or_escaped_are_removed(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"id": "1", "text": "raw\x00nul"}\n{"id": "2", "text": "escaped\\u0000nul\\r\\nand \\u001b"}\n')
    read = read_jsonl(path)
    assert read.rejects == []
    assert read.frame["text"].tolist() == ["rawnul", "escapednul\r\nand "]
    assert read.notes == ["x.jsonl: 3 control character(s) such as NUL removed from the text"]


def test_jsonl_lines_split_at_line_feeds_only(tmp_path):
    # U+2028 and U+0085 are allowed unescaped inside a JSON string; str.splitlines splits at them.
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "1", "text": "one\u2028two\u0085three"}\n{"id": "2", "text": "x"}\n', encoding="utf-8")
    read = read_jsonl(path)
    assert read.rejects == [] and read.frame["text"].tolist() == ["one\u2028two\u0085three", "x"]


def test_jsonl_nan_and_lone_surrogates_are_rejected_not_loaded(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(
        '{"id": "1", "score": NaN}\r\n{"id": "2", "text": "half \\ud83d emoji"}\r\n'
        '{"id": "3", "text": "whole \\ud83d\\ude00"}\r\n'
    )
    read = read_jsonl(path)
    assert read.frame["id"].tolist() == ["3"] and read.frame["text"].tolist() == ["whole \U0001f600"]
    assert [(r.row_number, r.failed_check) for r in read.rejects] == [(1, "parse:json_line"), (2, "parse:unicode")]
    assert read.raw_rows([0]) == ['{"id": "3", "text": "whole \\ud83d\\ude00"}']  # no CR left on the raw line


def test_a_deeply_nested_json_line_is_rejected_alone(tmp_path):
    # Regression (issue 17): RecursionError escaped the reader and the whole file was lost.
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "x.jsonl"
    path.write_text(f'{{"id": "1"}}\n{{"id": "2", "meta": {deep}}}\n{{"id": "3"}}\n')
    read = read_jsonl(path)
    assert read.frame["id"].tolist() == ["1", "3"] and read.rows_read == 3
    (reject,) = read.rejects
    assert (reject.row_number, reject.failed_check) == (2, "parse:json_depth")
    assert "nested too deeply" in reject.reason
    array = tmp_path / "y.jsonl"
    array.write_text(f'[{{"id": "1"}}, {deep}]')
    with pytest.raises(SourceError, match="nested too deeply"):
        read_jsonl(array)


def test_a_json_array_is_accepted(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('[{"id": "a"}, {"id": "b"}]')
    assert read_jsonl(path).frame["id"].tolist() == ["a", "b"]


# --- Excel --------------------------------------------------------------------------------------


def test_xlsx_fixture_reads_as_strings():
    read = read_xlsx(FIXTURES / "presets" / "fft.xlsx", "Responses")
    frame = read.frame
    assert frame["Response ID"].tolist() == ["X-1", "X-2", "X-3", "X-4"]
    assert frame["Date"].iloc[0] == "2026-06-01 09:30:00"
    assert frame["What could be better?"].iloc[1].startswith("=HYPERLINK(")
    assert frame["_row_number"].tolist() == [2, 3, 4, 5]


def test_header_row_skips_a_title_above_the_column_names(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('Trust FFT report\nPeriod: 01/09/2026 to 25/11/2026,,\n\nid;text;when\n1;a;x\n2;"b\nc";y\n')
    read = read_delimited(path, header_row=4)
    assert read.frame.columns.tolist() == ["id", "text", "when", "_row_number"]  # ";" found on line 4
    assert read.frame["id"].tolist() == ["1", "2"] and read.frame["_row_number"].tolist() == [5, 7]
    assert read.rows_read == 2 and not read.rejects
    misread = read_delimited(path)  # without header_row: one column, and a hint that names the fix
    assert any("header_row" in note for note in misread.notes)
    assert read_delimited(path, header_row=9).frame.empty


def test_xlsx_header_row_gives_spreadsheet_row_numbers():
    read = read_xlsx(FIXTURES.parent / "newuser" / "northshire_fft_report_Nov2026.xlsx", "FFT Responses", 3)
    frame = read.frame
    assert frame.columns[:3].tolist() == ["Response ID", "Date of Response", "Trust Site"]
    assert frame["_row_number"].iloc[0] == 4 and len(frame) == 394
    assert frame["Response ID"].iloc[0] == "FFT2600004" and frame["Date of Response"].iloc[0] == "2026-10-06 20:43:00"
    assert "=nothing" in frame["Q3 - What could we have done better?"].tolist()  # a text cell stays text


def test_unreadable_workbook_is_a_source_error(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="cannot read workbook"):
        read_xlsx(path)


# --- FHIR ---------------------------------------------------------------------------------------


def fhir_config(**mapping) -> SourceConfig:
    return parse_source_config(
        {
            "name": "fhir",
            "stream": "survey",
            "preset": "fft",
            "format": "fhir",
            "path": "x.json",
            "mapping": {
                "rating": "fft-overall",
                "site": "site",
                "service": "ward",
                "questions": {"fft-good": None, "fft-improve": "Improve?"},
                **mapping,
            },
        }
    )


def test_fhir_bundle_walks_nested_items_and_repeats():
    read = read_fhir(fhir_config(), FIXTURES / "presets" / "fhir_bundle.json")
    rows, answers = read.extract.rows, read.extract.answers
    assert rows["response_id"].tolist() == ["fft-qr-1", "fft-qr-2"]
    assert rows["rating"].tolist() == ["1", "Poor"]  # code when on the scale, else display
    assert rows["service"].tolist() == ["Emergency Department", "Ward 7"]
    assert answers["question_key"].tolist() == ["fft-good", "fft-improve", "fft-improve#2", "fft-improve"]
    assert answers["question"].tolist()[:2] == ["What was good about your experience?", "Improve?"]
    assert read.skipped == {"entered-in-error": 1, "in-progress": 1} and read.retracted == ["fft-qr-3"]
    assert [r.failed_check for r in read.rows.rejects] == ["fhir:resource_type"]
    assert json.loads(read.rows.raw_rows([1])[0])["id"] == "fft-qr-2"


def test_fhir_single_resource_and_statuses_option(tmp_path):
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": "q",
        "status": "in-progress",
        "authored": "2026-01-01",
        "item": [{"linkId": "fft-good", "answer": [{"valueString": "Nice"}]}],
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps(resource))
    assert read_fhir(fhir_config(), path).skipped == {"in-progress": 1}
    accepting = parse_source_config(
        {
            "name": "f",
            "stream": "survey",
            "preset": "fft",
            "format": "fhir",
            "path": "x",
            "mapping": {"questions": ["fft-good"]},
            "options": {"fhir_statuses": ["in-progress"]},
        }
    )
    read = read_fhir(accepting, path)
    assert read.extract.answers["text"].tolist() == ["Nice"] and read.extract.answers["question"].tolist() == [
        "fft-good"
    ]


def test_fhir_truncated_json_document_is_a_source_error(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"resourceType": "Bundle", "entry": [')
    with pytest.raises(SourceError, match="truncated file"):
        read_fhir(fhir_config(), path)


def test_fhir_ndjson_deep_line_is_rejected_and_escaped_nul_removed(tmp_path):
    def response(rid: str, text: str) -> dict:
        item = [{"linkId": "fft-good", "answer": [{"valueString": text}]}]
        return {
            "resourceType": "QuestionnaireResponse",
            "id": rid,
            "status": "completed",
            "authored": "2026-01-01",
            "item": item,
        }

    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "x.ndjson"
    path.write_text(
        json.dumps(response("a", "Kind\u0000 staff"))
        + "\n"
        + '{"resourceType": '
        + deep
        + "}\n"
        + json.dumps(response("b", "Fine"))
        + "\n"
    )
    read = read_fhir(fhir_config(), path)
    assert read.extract.rows["response_id"].tolist() == ["a", "b"]
    assert read.extract.answers["text"].tolist() == ["Kind staff", "Fine"]
    assert [(r.row_number, r.failed_check) for r in read.rows.rejects] == [(2, "parse:json_depth")]
    assert any("1 control character(s)" in note for note in read.rows.notes)


# --- SQL ----------------------------------------------------------------------------------------


def sql_config(**extra) -> SourceConfig:
    raw = {"name": "db", "stream": "complaint", "preset": "complaints", "format": "sql", "url_env": "DB_URL", **extra}
    return parse_source_config(raw)


@pytest.fixture
def sqlite_db(tmp_path):
    path = tmp_path / "c.sqlite"
    con = sqlite3.connect(path)
    con.execute("create table complaints (complaint_ref text, updated_at text, n integer, amount real)")
    con.executemany(
        "insert into complaints values (?,?,?,?)",
        [("a", "2026-01-01T00:00:00", 1, 1.5), ("b", "2026-01-02T00:00:00", 2, 2.0), ("c", None, 3, None)],
    )
    con.commit()
    return {"DB_URL": f"sqlite:///{path}"}


def test_sql_table_pull_with_watermark(sqlite_db):
    cfg = sql_config(table="complaints", watermark_column="updated_at")
    full = pull(cfg, None, None, sqlite_db)
    assert full.rows.frame["complaint_ref"].tolist() == ["c", "a", "b"]  # nulls first: only the first pull sees them
    assert full.rows.frame["amount"].tolist()[1:] == ["1.5", "2"]
    assert (full.watermark, full.watermark_type) == ("2026-01-02T00:00:00", "text")
    since = pull(cfg, full.watermark, full.watermark_type, sqlite_db)
    assert since.rows.frame["complaint_ref"].tolist() == ["b"] and since.checksum != full.checksum
    assert since.location == "sql:complaints where updated_at >= 2026-01-02T00:00:00"


def test_sql_query_file_gets_the_watermark(sqlite_db, tmp_path):
    query = tmp_path / "pull.sql"
    query.write_text("select * from complaints where :watermark is null or n > :watermark order by n")
    cfg = sql_config(query=str(query), watermark_column="n")
    first = pull(cfg, None, None, sqlite_db)
    assert (first.watermark, first.watermark_type) == ("3", "integer")
    assert pull(cfg, "1", "integer", sqlite_db).rows.frame["n"].tolist() == ["2", "3"]


def test_sql_errors_are_source_errors_without_secrets(sqlite_db):
    with pytest.raises(SourceError, match="DB_URL .* is not set"):
        pull(sql_config(table="complaints"), None, None, {})
    with pytest.raises(SourceError, match="no table"):
        pull(sql_config(table="nope"), None, None, sqlite_db)
    with pytest.raises(SourceError, match="has no column"):
        pull(sql_config(table="complaints", watermark_column="nope"), None, None, sqlite_db)
    with pytest.raises(SourceError) as err:
        pull(sql_config(table="complaints"), None, None, {"DB_URL": "postgresql://u:hunter2@127.0.0.1:1/x"})
    assert "hunter2" not in str(err.value)


def test_watermark_round_trip():
    assert decode_watermark("2026-01-02T03:04:05+00:00", "timestamptz").tzinfo is not None
    assert decode_watermark("2026-01-02", "date").isoformat() == "2026-01-02"
    assert decode_watermark("12", "integer") == 12 and decode_watermark(None, None) is None


# --- exports ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("-2+3", "'-2+3"),
        ("  =1+1", "'  =1+1"),
        ("\t=1", "'\t=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("fine = ok", "fine = ok"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        (-5, -5),
        (None, None),
    ],
)
def test_safe_cell_neutralises_formulas(value, expected):
    assert safe_cell(value) == expected


def test_exports_are_formula_safe(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1", "ok\x01", None], "n": [1, 2, 3]})
    assert safe_frame(frame)["text"].tolist()[:2] == ["'=1+1", "ok\x01"]
    csv_path = write_csv(frame, tmp_path / "out.csv")
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+1,1"
    xlsx = write_xlsx({"comments": frame}, tmp_path / "out.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx)["comments"]
    assert sheet["A2"].value == "'=1+1" and sheet["A2"].data_type == "s" and sheet["A3"].value == "ok"
