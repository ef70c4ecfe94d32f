"""The final privacy scan (pipelines/privacy/scan.py) and the guarded writers of pipelines/exports.py."""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import Markup

from pipelines import exports
from pipelines.exports import ExportBlocked, Finding
from pipelines.privacy.scan import TextScanner, scan_cells

ROOT = Path(__file__).resolve().parents[2]

PLANTED = {
    "NHS_NUMBER": "my NHS number is 943 476 5919",
    "PHONE": "please call me on 07700 900123",
    "EMAIL": "write to jane.doe@example.com please",
    "POSTCODE": "we live at LS1 4AP now",
    "DATE_OF_BIRTH": "DOB 12/03/1985",
    "MRN": "hospital number K1234567",
    "STREET_ADDRESS": "I live at 14 Acacia Avenue",
    "PERSON": "thank you to Dr Okafor",
}
# Text that reports legitimately carry: placeholders, machine dates, ids, hashes, versions, markup.
CLEAN = [
    "[NAME] (tel [PHONE], NHS [NHS_NUMBER]) says nobody explained what was happening",
    "seen on [DATE] at [ADDRESS], [POSTCODE]; e-mail [EMAIL]",
    "2026-10-31 17:19:00",
    "2026-10-01 .. 2026-10-31",
    "seen on 12/03/2026 at the clinic",  # a full date without a birth cue: not a date of birth
    "5962172829cf681ec635",
    "9434765919abcdef0123",  # a hash whose digits happen to pass the NHS check digit
    "20261206T101500Z-a1b2c3",
    "demo_fft-20261206T121143-b3d4ea",  # a batch id whose hex tail reads as a postcode (B3D 4EA)
    "presidio-2.2.360/recognizers-1a2b3c4d/names-d36a4ccf",
    '{"pipelines": "0.1.0", "git_sha": "3f9e2b1c0d4a5e6f7a8b9c0d1e2f3a4b5c6d7e8f", "rows_in": 1234567}',
    "Car parking",
    "Staff attitude and behaviour",
    "Queen Elizabeth Hospital",
    "Emergency Department",
    '<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">click me</a>',
    "fft_rating 'Excellent' is not an FFT answer",
    "exports/2026-10/theme-report/comments.csv",
    # a names model's manifest lists its training corpora: the rules read "independentB" as a name
    '{"corpus": "models/privacy/eval/independentB_dev/names.jsonl", "sha256": "59864977c36e"}',
    "models/privacy/eval/names_dev_handwritten.jsonl",
    # Plotly's base64 numbers from a real trend pack: the rules read "JAd" in it as a name.
    "GIZhGIYBUkCyySabbLJTQC3OaPew9VJAS9SuRO1KUkBfWb1LHgxSQF+9evXq1VJAOtIcaY40U0CYIp91g2lSQHIcx3Ec"
    "Z1JAd5Vigu4qUkC3bdu2bdtRQBFCCCGEEFJA",
]


@pytest.fixture(scope="module")
def scanner() -> TextScanner:
    return TextScanner(allow_list=["Dr Gray's Hospital", "North Hospital"])


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_kind_of_identifier_is_found(scanner, kind):
    assert dict(scanner.kinds(PLANTED[kind])) == {kind: 1}


@pytest.mark.parametrize("text", CLEAN)
def test_what_reports_legitimately_show_is_clean(scanner, text):
    assert dict(scanner.kinds(text)) == {}


def test_several_identifiers_in_one_text_are_counted_once_each(scanner):
    found = scanner.kinds("Jane Plantedname (tel 07700 900123, NHS 943 476 5919) says the ward was cold")
    assert dict(found) == {"PERSON": 1, "PHONE": 1, "NHS_NUMBER": 1}


def test_site_names_on_the_allow_list_are_not_names(scanner):
    assert dict(scanner.kinds("Dr Gray's Hospital")) == {}
    assert dict(TextScanner(person=True).kinds("Dr Gray's Hospital")) == {"PERSON": 1}  # the list is what keeps it


def test_scan_cells_names_file_column_kind_and_count_never_the_value(scanner):
    cells = {
        "text_redacted": [
            "[NAME] was kind",
            PLANTED["PHONE"],
            PLANTED["PHONE"] + " or 07700 900456",
            None,
            3,
            PLANTED["PHONE"],  # a repeated cell counts each time
            PLANTED["PHONE"] + " or 07700 900456",
        ],
        "site": ["North Hospital", "North Hospital", "South", "x", "y"],
        "theme_ids": [["T0001", "call 07700 900789"]],  # list cells are read too
    }
    findings = scan_cells(scanner, "exports/x.csv", cells)
    assert findings == [
        Finding("exports/x.csv", "text_redacted", "PHONE", 6),
        Finding("exports/x.csv", "theme_ids", "PHONE", 1),
    ]
    assert "07700" not in repr(findings)


# ------------------------------------------------------------------------- the guarded writers


class ScanGuard:
    """A guard over the real scanner that remembers what it was shown."""

    def __init__(self, scanner: TextScanner) -> None:
        self.scanner = scanner
        self.seen: list[tuple[Path, list[str]]] = []

    def check(self, path, cells):  # noqa: ANN001, ANN201
        self.seen.append((path, list(cells)))
        return scan_cells(self.scanner, path.name, cells)


def _frame(text: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"feedback_id": ["a1", "b2"], "site": ["North Hospital", "South"], "text_redacted": ["[NAME] was kind", text]}
    )


@pytest.mark.parametrize("kind", ["NHS_NUMBER", "PHONE", "PERSON"])
def test_a_planted_identifier_blocks_the_csv_and_removes_an_older_copy(scanner, tmp_path, kind):
    path = tmp_path / "out" / "comments.csv"
    path.parent.mkdir()
    path.write_text("an older export\n", encoding="utf-8")
    with pytest.raises(ExportBlocked) as caught:
        exports.write_csv(_frame(PLANTED[kind]), path, guard=ScanGuard(scanner))
    assert not path.exists()
    assert caught.value.findings == [Finding("comments.csv", "text_redacted", kind, 1)]
    message = str(caught.value)
    assert "comments.csv (text_redacted " + kind + " x1)" in message
    for word in PLANTED[kind].split()[-2:]:
        assert word not in message.replace("comments.csv", "")


def test_a_planted_identifier_in_any_sheet_blocks_the_whole_workbook(scanner, tmp_path):
    path = tmp_path / "report.xlsx"
    frames = {"clean": _frame("nothing here"), "comments": _frame(PLANTED["NHS_NUMBER"])}
    with pytest.raises(ExportBlocked) as caught:
        exports.write_xlsx(frames, path, guard=ScanGuard(scanner))
    assert not path.exists()
    assert caught.value.findings == [Finding("report.xlsx", "comments/text_redacted", "NHS_NUMBER", 1)]


def test_clean_files_are_written_byte_for_byte_as_without_a_guard(scanner, tmp_path):
    frame = _frame('=HYPERLINK("http://x") the food was cold')
    guard = ScanGuard(scanner)
    plain = exports.write_csv(frame, tmp_path / "plain.csv")
    guarded = exports.write_csv(frame, tmp_path / "guarded.csv", guard=guard)
    assert guarded.read_bytes() == plain.read_bytes()
    assert "'=HYPERLINK" in guarded.read_text(encoding="utf-8-sig")  # still formula-guarded
    book = exports.write_xlsx({"comments": frame}, tmp_path / "guarded.xlsx", guard=guard)
    with zipfile.ZipFile(book) as z:
        assert "'=HYPERLINK" in "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    # The guard saw every column, the header row included, of what was written.
    assert guard.seen[0][1] == ["(header)", "feedback_id", "site", "text_redacted"]
    assert guard.seen[1][1] == ["comments/(header)", "comments/feedback_id", "comments/site", "comments/text_redacted"]


def test_a_header_is_scanned_and_formula_guarded_too(scanner, tmp_path):
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": [1], "call 07700 900123": [2]})
    with pytest.raises(ExportBlocked) as caught:
        exports.write_csv(frame, tmp_path / "pivot.csv", guard=ScanGuard(scanner))
    assert caught.value.findings == [Finding("pivot.csv", "(header)", "PHONE", 1)]
    written = exports.write_csv(frame.iloc[:, :1], tmp_path / "pivot.csv", guard=ScanGuard(scanner))
    assert written.read_text(encoding="utf-8-sig").startswith("'=cmd")


@dataclass
class _Chart:
    title: str
    svg: Markup | None
    rows: list


def test_text_cells_finds_every_string_a_page_shows():
    context = {
        "themes": [{"label": "Car parking", "n": 3}, {"label": "Food", "n": None}],
        "chart": _Chart(
            "Trend", Markup('<svg><text x="1234567" y="07700900123">North Hospital</text></svg>'), [["a", 1]]
        ),
        "table": pd.DataFrame({"site": ["X"], "n": [1]}),
        "figure": {"data": [{"name": "Responses", "y": {"dtype": "f8", "bdata": "GIZhGIYBUkCyySab"}}]},
        "flags": (True, 2.5),
    }
    cells = exports.text_cells(context)
    assert cells == {
        "themes.label": ["Car parking", "Food"],
        "chart.title": ["Trend"],
        "chart.svg": ["North Hospital"],  # an SVG's text, not its coordinates
        "chart.rows": ["a"],
        "table.site": ["X"],
        "figure.data.name": ["Responses"],  # the numbers' base64 typed array is not text
    }


def test_a_charts_labels_are_scanned_one_by_one(scanner):
    """Run together, two bar labels read as a name after a title ("Staff Nurse NAMEWe"): a chart of
    the 800-row demo was held back for it. Each label is its own text; a name inside one still counts."""
    bars = Markup(
        "<svg><title>Stacked bar chart of aspect sentiment</title>"
        '<text x="4">We saw Staff Nurse NAME</text><rect><title>We saw Staff Nurse NAME: 33.3% positive</title></rect>'
        '<text x="9">We saw <tspan>nobody for hours</tspan></text></svg>'
    )
    cells = exports.text_cells({"chart": bars})
    assert cells["chart"] == [
        "Stacked bar chart of aspect sentiment",
        "We saw Staff Nurse NAME",
        "We saw Staff Nurse NAME: 33.3% positive",
        "We saw nobody for hours",
    ]
    assert scan_cells(scanner, "page.html", cells) == []
    leaking = Markup(bars.replace("We saw <tspan>", "Thanks to Dr Okafor, <tspan>"))
    assert [f.kind for f in scan_cells(scanner, "page.html", exports.text_cells({"chart": leaking}))] == ["PERSON"]


def test_the_scan_of_a_10k_row_export_is_fast(scanner, tmp_path):
    """10,000 comments (5,000 distinct) through the guarded CSV and XLSX writers; numbers in the report."""
    texts = [f"[NAME] said the ward {i} was cold at night and the food was late, again and again" for i in range(5000)]
    frame = pd.DataFrame(
        {
            "feedback_id": [f"{i:020x}" for i in range(10000)],
            "site": ["North Hospital", "South Hospital"] * 5000,
            "received_local": ["2026-10-31 17:19:00"] * 10000,
            "text_redacted": texts + texts,
        }
    )
    fresh = TextScanner(allow_list=["North Hospital", "South Hospital"])
    started = time.perf_counter()
    findings = scan_cells(fresh, "comments.csv", exports.frame_cells(frame))
    seconds = time.perf_counter() - started
    assert findings == []
    assert seconds < 20, f"scanning 10k rows took {seconds:.1f} s"


def test_the_reviewers_label_export_is_guarded_too(tmp_path):
    """`feedback label export` writes redacted comments for reviewers through the same scan."""
    from datetime import UTC, datetime

    import numpy as np

    from pipelines import warehouse
    from pipelines.config import Settings
    from pipelines.privacy.scan import ExportScan
    from pipelines.sentiment.labels import export_uncertain
    from pipelines.sentiment.scorer import ModelSentimentScorer

    settings = Settings.from_env({"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(tmp_path / "wh.duckdb")})
    now = datetime(2026, 1, 1, tzinfo=UTC)
    # f2's "redacted" text is its raw text: redaction was skipped for it.
    rows = [("f1", "[NAME] was lovely"), ("f2", PLANTED["PHONE"]), ("f3", "the food was cold")]
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        for fid, text in rows:
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, question, text, "
                "record_hash, batch_id, ingested_at, site) values (?, 'survey', 't', ?, 'Q?', ?, 'h', 'b', ?, 'North')",
                [fid, fid, text, now],
            )
            con.execute("insert into enrich.redactions values (?, 'h', ?, '{}', 'r1', ?)", [fid, text, now])
            con.execute(
                "insert into enrich.sentiment values (?, 'h', true, 'neutral', 'neutral', 0, 0.5, false, 'm1', ?)",
                [fid, now],
            )
    scorer = ModelSentimentScorer(lambda texts, questions: np.full((len(texts), 5), 0.2, dtype=np.float32), "fake")
    out = tmp_path / "review" / "to_review"
    with warehouse.connect(settings, read_only=True) as con:
        guard = ExportScan(settings, con, "label-export", root=out.parent, record=False)
    with pytest.raises(ExportBlocked) as caught:
        export_uncertain(settings, scorer, 3, out, guard=guard)
    assert caught.value.findings == [Finding("to_review.csv", "text", "PHONE", 1)]
    assert not out.with_suffix(".csv").exists() and not out.with_suffix(".xlsx").exists()
    with warehouse.connect(settings) as con:
        con.execute("update enrich.redactions set text_redacted = 'call me on [PHONE]' where feedback_id = 'f2'")
    csv_path, xlsx_path, count = export_uncertain(settings, scorer, 3, out, guard=guard)
    assert count == 3 and csv_path.is_file() and xlsx_path.is_file()


def test_list_cells_json_quotes_and_timings_are_not_identifiers(scanner, tmp_path):
    # Regression: the 1,000-record demo's report was held back. Theme labels joined with ", " read as a
    # list of names ("Thanks to the doctors, Worst ..."), a view's JSON list of quotes ran its items
    # together, and a run summary's timing 0.04480073099999993 read as a phone number.
    from pipelines.report.exports import _export_frame

    # Later (2026-12-07, a 10,000-record demo): joined with "; ", "Main issue; Moved, family" read as a
    # sign-off; list cells are now scanned item by item and joined only when written.
    labels = [["Thanks to the doctors", "Worst experience ever"], ["Main issue", "Moved, family"]]
    quotes = '["The aftercare advice was vague.", "A big thank you - Everything was explained clearly."]'
    timings = '{"read_map": 0.060966117000134545, "read_map_cpu": 0.04480073099999993}'
    frame = pd.DataFrame({"theme_labels": labels, "quotes": [quotes, quotes], "message": [timings, timings]})
    path = exports.write_csv(_export_frame(frame), tmp_path / "comments.csv", guard=ScanGuard(scanner))
    assert pd.read_csv(path)["theme_labels"].tolist() == [
        "Thanks to the doctors; Worst experience ever",
        "Main issue; Moved, family",
    ]
    # ... while an identifier inside a JSON list still blocks the file
    frame.loc[0, "quotes"] = '["The aftercare advice was vague.", "Call me on 07700 900123."]'
    with pytest.raises(ExportBlocked):
        exports.write_csv(_export_frame(frame), tmp_path / "again.csv", guard=ScanGuard(scanner))


def _warehouse_settings(tmp_path: Path):  # noqa: ANN202
    from pipelines import warehouse
    from pipelines.config import Settings

    settings = Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_SQL_DIR": str(ROOT / "sql"),
            "FEEDBACK_WAREHOUSE": str(tmp_path / "w.duckdb"),
        }
    )
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
    return settings


def test_texts_found_clean_are_not_scanned_again_and_identifiers_always_are(tmp_path, monkeypatch):
    from pipelines import warehouse
    from pipelines.privacy.scan import ExportScan, TextScanner

    settings = _warehouse_settings(tmp_path)
    cells = {"comment": [*CLEAN[:6], PLANTED["PHONE"], PLANTED["PERSON"]]}
    with warehouse.connect(settings) as con:
        first = ExportScan(settings, con, "run1")
        assert {f.kind for f in first.check(tmp_path / "a.csv", cells)} == {"PHONE", "PERSON"}
        assert first.remember_clean() == 6
        stored = con.execute("select count(*), count(distinct scanner_version) from ops.scan_clean").fetchone()
        texts = con.execute("select text_digest from ops.scan_clean").fetchall()

        scanned: list[str] = []
        real = TextScanner._scan
        monkeypatch.setattr(TextScanner, "_scan", lambda self, text: scanned.append(text) or real(self, text))
        second = ExportScan(settings, con, "run2")
        new = "the new ward is lovely"
        found = second.check(tmp_path / "a.csv", {"comment": [*cells["comment"], new]})
        assert {f.kind for f in found} == {"PHONE", "PERSON"}  # identifiers are found (and held back) every time
        assert sorted(scanned) == sorted([PLANTED["PHONE"], PLANTED["PERSON"], new])  # the clean six are not re-read
        assert second.remember_clean() == 1
    assert stored == (6, 1)
    assert all(len(d) == 32 and d not in " ".join(CLEAN) for (d,) in texts)  # digests, never the text


def test_a_new_allow_list_or_recognizer_set_scans_everything_again(tmp_path):
    from pipelines import warehouse
    from pipelines.privacy.scan import ExportScan, scanner_version

    settings = _warehouse_settings(tmp_path)
    assert scanner_version(["North Hospital"]) != scanner_version(["North Hospital", "Ward 7"])
    assert scanner_version(["North Hospital"]) == scanner_version([" North Hospital", "North Hospital"])
    yaml_copy = tmp_path / "recognizers.yaml"
    yaml_copy.write_bytes((ROOT / "models" / "privacy" / "recognizers.yaml").read_bytes() + b"\n# edited\n")
    assert scanner_version([], yaml_copy) != scanner_version([])
    with warehouse.connect(settings) as con:
        scan = ExportScan(settings, con, "run1")
        scan.check(tmp_path / "a.csv", {"c": CLEAN[:3]})
        scan.remember_clean()
        con.execute("update ops.scan_clean set scanner_version = 'scan-older'")
        again = ExportScan(settings, con, "run2")
    assert again.scanner.known_clean == set()


def test_a_name_beside_a_file_path_is_still_found(scanner):
    """Only the path is a machine token: the prose around it is read as before."""
    found = scanner.kinds("Dr Okafor attached models/privacy/eval/notes.jsonl to the complaint")
    assert dict(found) == {"PERSON": 1}
