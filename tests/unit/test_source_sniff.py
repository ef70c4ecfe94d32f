"""``feedback source add | check``: sniffing exports into a source YAML, and a dry run equal to the real load.

Fixtures: tests/fixtures/exports/ (built by its build.py) shaped the way survey platforms deliver
exports, and the new-user exports of tests/fixtures/newuser/. The dry-run tests run the real
ingest stage afterwards on a temporary warehouse and compare every file's counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from pipelines.cli import source as source_cli
from pipelines.config import Settings
from pipelines.sources import readers
from pipelines.sources.base import load_source_config, parse_source_config
from pipelines.sources.reshape import (
    DEFAULT_PLACEHOLDERS,
    LongLayout,
    blank_placeholders,
    find_long_layout,
    pivot_long,
    prepare_rows,
)
from pipelines.sources.sniff import file_period, find_files, sniff
from pipelines.sources.sniff_columns import assign_roles, profile
from pipelines.sources.sniff_shape import header_index, sniff_encoding
from pipelines.sources.sniff_yaml import config_dict, render
from pipelines.sources.types import SourceRows
from tests.conftest import ROOT

EXPORTS = ROOT / "tests" / "fixtures" / "exports"
NEWUSER = ROOT / "tests" / "fixtures" / "newuser"
FHIR = {
    "fhir_bundle": ROOT / "tests" / "fixtures" / "ingest" / "presets" / "fhir_bundle.json",
    "fhir_nps": ROOT / "tests" / "fixtures" / "ingest" / "presets" / "fhir_nps.ndjson",
}
Q_GOOD = "Q2 - What was good about your experience?"
Q_IMPROVE = "Q3 - Is there anything we could have done better?"


# --- pieces ------------------------------------------------------------------------------------


def test_encoding_cp1252_utf8_and_mixed():
    assert sniff_encoding(["Caf\u00e9 \u00a3".encode("cp1252")]).value == "cp1252"
    assert sniff_encoding(["Caf\u00e9 \u00a3 \U0001f600".encode()]).value == "auto"
    mixed = "Caf\u00e9 \u00a3 ok \u00e9t\u00e9 \u00e0".encode() + "\u2019".encode("cp1252")
    guess = sniff_encoding([mixed])
    assert guess.value == "auto" and "stray" in guess.why


def test_header_below_a_title_block():
    rows = [
        ["Westmoor Trust - FFT responses", "", "", ""],
        ["Report period: 01/09/2026 to 25/11/2026", "", "", ""],
        ["", "", "", ""],
        ["Ref", "Date", "Ward", "Comment"],
        ["W1", "01/09/2026", "Ward 1", "Kind staff"],
        ["W2", "02/09/2026", "Ward 2", "Long wait"],
    ]
    assert header_index(rows) == 3
    assert header_index(rows[3:]) == 0


def _roles(frame: pd.DataFrame):
    profiles = [profile(c, frame[c]) for c in frame.columns]
    return assign_roles(profiles, frame)


def test_dates_mixed_order_is_flagged_and_majority_wins():
    frame = pd.DataFrame(
        {
            "id": [f"R{i}" for i in range(6)],
            "date": ["13/01/2025", "25/02/2025", "28/03/2025", "02/16/2025", "03/04/2025", "14/05/2025"],
        },
        dtype="string",
    )
    roles = _roles(frame)
    assert roles.dayfirst.value is True
    assert "02/16/2025" in roles.dayfirst.why
    assert any("mixed order" in w and "1 dates read both ways" in w for w in roles.warnings)


def test_dates_that_prove_nothing_are_flagged_as_ambiguous():
    frame = pd.DataFrame({"id": ["A", "B"], "date": ["03/04/2025", "05/06/2025"]}, dtype="string")
    roles = _roles(frame)
    assert roles.dayfirst.value is True and "CHECK" not in roles.dayfirst.why
    assert any("read both ways" in w for w in roles.warnings)


def test_month_first_dates():
    frame = pd.DataFrame({"id": ["A", "B", "C"], "date": ["06/14/2025", "06/20/2025", "07/01/2025"]}, dtype="string")
    assert _roles(frame).dayfirst.value is False


@pytest.mark.parametrize(
    ("header", "values", "scale"),
    [
        ("Overall", ["Very good", "Good", "Poor", "Very poor", "Don't know", "very good "], "fft5"),
        ("FFT Score", ["1 - Very good", "2 - Good", "6 - Don't know", "4 - Poor"], "fft5"),
        ("FFT score", ["1", "2", "1", "6", "5", "3"], "fft5"),
        ("How likely are you to recommend us?", ["0", "10", "9", "7", "3"], "nps11"),
        ("Overall rating 0-10", ["5", "10", "9", "8"], "rating0_10"),
        ("Stars", ["1", "5", "4", "3", "2"], "likert5"),
    ],
)
def test_rating_scale_from_values(header, values, scale):
    frame = pd.DataFrame({"Ref": [f"R{i}" for i in range(len(values))], header: values}, dtype="string")
    roles = _roles(frame)
    assert roles.fields["rating"].value == header
    assert roles.rating_scale.value == scale


@pytest.mark.parametrize(("praise_at", "scale"), [("1", "fft5"), ("5", "likert5")])
def test_unlabelled_1_to_5_codes_take_their_direction_from_the_comments(praise_at, scale):
    """FFT codes say 1 = best, stars 5 = best: the comments beside them decide, and the YAML says CHECK."""
    codes = ["1", "5"] * 10
    praise, moan = "Excellent kind staff, thank you", "Rude staff and a long wait, terrible"
    comments = [praise if c == praise_at else moan for c in codes]
    frame = pd.DataFrame({"Ref": [f"R{i}" for i in range(20)], "Overall score": codes, "Comment": comments})
    roles = _roles(frame.astype("string"))
    assert roles.rating_scale.value == scale
    assert "CHECK" in roles.fields["rating"].why


def test_off_scale_ratings_and_placeholders_are_warned():
    frame = pd.DataFrame(
        {
            "Ref": ["A", "B", "C", "D", "E", "F"],
            "Overall experience": ["Very good", "Good", "Did not answer", "Excellent", "Poor", "Good"],
            "What was good?": ["Kind staff on the ward", "N/A", "Quick and friendly", "", "Did not answer", "Clean"],
        },
        dtype="string",
    )
    roles = _roles(frame)
    assert roles.rating_scale.value == "fft5"
    assert any(w.startswith("rating:") and "'Excellent' x1" in w and "quarantined" in w for w in roles.warnings)
    assert any(w.startswith("rating: placeholders 'Did not answer' x1") for w in roles.warnings)
    assert any("placeholder" in w and "'N/A' x1" in w for w in roles.warnings)
    assert roles.placeholders == ["Did not answer", "N/A"]


def test_long_layout_found_and_pivoted():
    ids = [f"R{i}" for i in range(1, 11) for _ in range(2)] + ["R2", ""]
    questions = ["Overall?", "What was good?"] * 10 + ["What was good?", "Overall?"]
    answers = [f"answer {i}" for i in range(20)] + ["a repeat", "Good"]
    frame = pd.DataFrame(
        {
            "Response ID": ids,
            "Date": ["01/09/2025"] * 22,
            "Question": questions,
            "Answer": answers,
            "_row_number": list(range(2, 24)),
        }
    )
    layout = find_long_layout(frame.drop(columns="_row_number").astype("string"))
    assert (layout.id_column, layout.question_column, layout.answer_column) == ("Response ID", "Question", "Answer")
    wide = pivot_long(SourceRows(frame.astype({"Response ID": "string"}), name="x.csv"), layout)
    out = wide.frame
    assert list(out["Response ID"].fillna("")) == [f"R{i}" for i in range(1, 11)] + [""]  # no id: a row of its own
    assert out.loc[1, "What was good?"] == "answer 3"  # the repeated answer is dropped, the first kept
    assert out.loc[10, "Overall?"] == "Good"
    assert list(out["_row_number"])[:3] == [2, 4, 6] and out["_row_number"].iloc[-1] == 23
    assert any("1 repeated answer" in n for n in wide.notes)


def test_prepare_rows_only_when_configured():
    rows = SourceRows(pd.DataFrame({"a": ["1"], "_row_number": [2]}))
    config = parse_source_config(
        {"name": "x", "stream": "survey", "preset": "fft", "format": "csv", "path": "x.csv"}, "test"
    )
    assert prepare_rows(config, rows) is rows
    assert LongLayout.from_options({"id": "a", "question": "b", "answer": "c"}).as_options() == {
        "id": "a",
        "question": "b",
        "answer": "c",
    }


def test_file_period_from_names():
    assert file_period(Path("fft_responses_2025-Q3.csv")) == (pd.Timestamp(2025, 7, 1), pd.Timestamp(2025, 10, 1))
    assert file_period(Path("FFT Q1 2024.csv"))[0] == pd.Timestamp(2024, 1, 1)
    assert file_period(Path("fft_Nov2026.csv")) == (pd.Timestamp(2026, 11, 1), pd.Timestamp(2026, 12, 1))
    assert file_period(Path("latest.csv")) is None


@pytest.mark.parametrize(
    ("name", "stem", "source"),
    [
        ("fft_responses_2025-Q1", "fft_responses_", "fft_responses"),
        ("westmoor_fft_Sep-Nov_2026", "westmoor_fft_", "westmoor_fft"),
        ("FFT Q1 2024", "FFT ", "fft"),
        ("northshire_fft_Nov2026", "northshire_fft_", "northshire_fft"),
        ("2025-10 export", "", "exports"),
    ],
)
def test_name_stem_and_source_name(name, stem, source):
    from pipelines.sources.sniff import name_stem

    assert name_stem(name) == stem
    assert source_cli._source_name(f"/data/exports/{stem}*.csv" if stem else f"/data/exports/{name}.csv") == source


def test_folder_gives_a_glob_for_next_quarter(tmp_path):
    files, path = find_files(str(EXPORTS / "quarterly"), tmp_path)
    assert [f.name for f in files] == [f"fft_responses_2025-Q{q}.csv" for q in range(1, 5)]
    assert path.value.endswith("quarterly/fft_responses_*.csv")


def test_quarter_names_out_of_date_order_are_warned(tmp_path):
    for name in ("FFT Q1 2026.csv", "FFT Q4 2025.csv"):
        shutil.copy(EXPORTS / "quarterly" / "fft_responses_2025-Q1.csv", tmp_path / name)
    sniffed = sniff(str(tmp_path), tmp_path)
    assert any(w.startswith("file order:") for w in sniffed.warnings)


# --- every fixture: the guessed config -------------------------------------------------------------

EXPECTED = {
    "quarterly": {
        "format": "csv",
        "preset": "fft",
        "delimiter": ",",
        "header_row": 1,
        "dayfirst": True,
        "mapping": {
            "response_id": "Response ID",
            "received_at": "Date Submitted",
            "site": "Site",
            "service": "Ward",
            "age_band": "Age Group",
            "rating": "Q1 - Overall, how was your experience of our service?",
            "rating_scale": "fft5",
            "questions": {
                Q_GOOD: "What was good about your experience?",
                Q_IMPROVE: "Is there anything we could have done better?",
            },
        },
    },
    "semicolon": {
        "delimiter": ";",
        "encoding": "cp1252",
        "preset": "fft",
        "mapping": {"rating": "FFT score", "site": "Hospital", "service": "Service", "received_at": "Datum"},
    },
    "title_block": {
        "format": "xlsx",
        "header_row": 4,
        "sheet": 0,
        "mapping": {"response_id": "Ref", "rating": "FFT rating"},
    },
    "nps": {"preset": "nps", "encoding": "cp1252", "mapping": {"rating_scale": "nps11", "questions": {"Why?": None}}},
    "stars": {"format": "jsonl", "preset": "questionnaire", "mapping": {"rating": "stars", "rating_scale": "likert5"}},
    "hcahps": {"preset": "hcahps", "dayfirst": False, "mapping": {"rating": "Overall rating 0-10"}},
    "fhir_bundle": {
        "format": "fhir",
        "preset": "fft",
        "mapping": {
            "rating": "fft-overall",
            "site": "site",
            "service": "ward",
            "questions": {"fft-good": None, "fft-improve": None},
        },
    },
    "fhir_nps": {
        "format": "fhir",
        "preset": "nps",
        "mapping": {"rating": "nps", "site": "site", "questions": {"why": None}},
    },
    "long": {
        "options": {"long": {"id": "Response ID", "question": "Question", "answer": "Answer"}},
        "mapping": {
            "rating": "Overall, how was your experience?",
            "questions": {"What was good about your experience?": None, "What could we have done better?": None},
        },
    },
}


def _subset(expected: dict, actual: dict, where: str = "") -> None:
    for key, value in expected.items():
        assert key in actual, f"{where}{key} missing"
        if isinstance(value, dict) and key != "questions":
            _subset(value, actual[key], f"{where}{key}.")
        else:
            assert actual[key] == value, f"{where}{key}: {actual[key]!r} != {value!r}"


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_fixture_is_sniffed_into_a_config_the_loader_accepts(folder, tmp_path):
    sniffed = sniff(str(FHIR.get(folder, EXPORTS / folder)), tmp_path)
    config = config_dict(sniffed)
    _subset(EXPECTED[folder], config)
    text = render(sniffed, folder, f"feedback source add {folder}")
    assert yaml.safe_load(text) == config
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(" # " in line for line in body if not line.startswith("mapping")), "every guess has its reason"
    target = tmp_path / f"{folder}.yaml"
    target.write_text(text, encoding="utf-8")
    assert load_source_config(target).preset == config["preset"]


@pytest.mark.parametrize(
    ("path", "yaml_name"),
    [
        ("northshire_fft_Nov2026.csv", "northshire_fft.yaml"),
        ("westmoor_fft_Sep-Nov_2026.csv", "westmoor_fft.yaml"),
        ("northshire_fft_report_Nov2026.xlsx", "northshire_fft_xlsx.yaml"),
    ],
)
def test_new_user_exports_give_the_hand_written_mapping(path, yaml_name, tmp_path):
    """The guide's hand-written YAMLs are the oracle: the sniffer finds the same columns and questions."""
    hand = yaml.safe_load((NEWUSER / "sources" / yaml_name).read_text(encoding="utf-8"))
    got = config_dict(sniff(str(NEWUSER / path), tmp_path))
    assert got["header_row"] == hand.get("header_row", 1)
    for key, column in hand["mapping"].items():
        if key == "questions":
            assert list(got["mapping"]["questions"]) == list(column)
        elif key != "age_band" or "age_band" in got["mapping"]:
            assert got["mapping"][key] == column, key


# --- the dry run equals the real load ------------------------------------------------------------


@pytest.fixture(scope="module")
def gx_dir(tmp_path_factory):
    """One Great Expectations context for the module (creating one costs seconds)."""
    return tmp_path_factory.mktemp("gx")


@pytest.fixture
def env(tmp_path, gx_dir, monkeypatch):
    values = {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(tmp_path / "data"),
        "FEEDBACK_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(tmp_path / "reports"),
        "FEEDBACK_SOURCES_DIR": str(tmp_path / "sources"),
        "FEEDBACK_GX_DIR": str(gx_dir),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "data" / "exports").mkdir(parents=True)
    return Settings.from_env(values)


def _cli() -> typer.Typer:
    app = typer.Typer()
    source_cli.register(app)
    app.command("noop")(lambda: None)  # a group alone would be the whole app
    return app


def _add(settings: Settings, folder: str, *extra: str) -> str:
    target = settings.data_dir / "exports" / folder
    if folder in FHIR:
        target.mkdir()
        shutil.copy(FHIR[folder], target)
    else:
        shutil.copytree(EXPORTS / folder, target)
    result = CliRunner().invoke(_cli(), ["source", "add", str(target), *extra])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return next(settings.sources_dir.glob("*.yaml")).stem


def _counts(plans) -> dict[str, tuple[int, int, int, int, int]]:
    return {
        Path(p.location).name: (p.rows_read, p.rows_loaded, p.rows_quarantined, p.rows_duplicate, p.rows_skipped)
        for p in plans
    }


def _ingest(settings: Settings) -> dict[str, tuple[int, int, int, int, int]]:
    from pipelines import stages

    batches = stages.ingest_stage(settings, stages.new_run_id())["batches"]
    return {
        Path(b["location"]).name: (
            b["rows_read"],
            b["rows_loaded"],
            b["rows_quarantined"],
            b["rows_duplicate"],
            b["rows_skipped"],
        )
        for b in batches
    }


def _dry(settings: Settings, name: str):
    return source_cli.dry_run(settings, load_source_config(settings.sources_dir / f"{name}.yaml"))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_quarterly_folder_dry_run_equals_the_load_and_every_respondent_is_accounted_for(env):
    name = _add(env, "quarterly")
    assert name == "fft_responses"
    run = _dry(env, name)
    assert not run.failures
    planned = _counts(run.files)
    assert planned == {f"fft_responses_2025-Q{q}.csv": (120, 118, 2, 0, 0) for q in range(1, 5)}
    assert sum(len(t) for t in run.comments.values()) > 0
    assert set(run.comments) == {"What was good about your experience?", "Is there anything we could have done better?"}
    assert _ingest(env) == planned
    _check_warehouse(env, name)
    # After the load the dry run says every file is already ingested.
    assert {p.status for p in _dry(env, name).files} == {"already ingested"}


def _check_warehouse(settings: Settings, name: str) -> None:
    """Every respondent loaded or quarantined with a reason; US-style dates right; questions apart."""
    rows = [
        r
        for q in range(1, 5)
        for r in _csv_rows(settings.data_dir / "exports" / "quarterly" / f"fft_responses_2025-Q{q}.csv")
    ]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        loaded = con.execute(
            "select response_id, question_key, received_at from raw.feedback where source = ?", [name]
        ).df()
        quarantined = con.execute("select source_record_id, reason from raw.quarantine where source = ?", [name]).df()
    assert set(loaded["response_id"]) | set(quarantined["source_record_id"]) == {r["Response ID"] for r in rows}
    assert set(quarantined["reason"]) == {"empty response: no rating and no free text"}
    local = {
        r: t.tz_convert("Europe/London").strftime("%Y-%m-%d %H:%M")
        for r, t in zip(loaded["response_id"], loaded["received_at"], strict=True)
    }
    us = 0
    for row in rows:
        if row["Response ID"] not in local:
            continue
        second = int(row["Date Submitted"][3:5])
        fmt = "%m/%d/%Y %H:%M" if second > 12 else "%d/%m/%Y %H:%M"
        us += second > 12
        expected = dt.datetime.strptime(row["Date Submitted"], fmt).strftime("%Y-%m-%d %H:%M")
        assert local[row["Response ID"]] == expected, row
    assert us >= 3, "the fixture has US-style dates"
    for key, column in (("Q2 - What was good about your experience?", Q_GOOD), (Q_IMPROVE, Q_IMPROVE)):
        # A placeholder ("Did not answer", "N/A") is no comment: it never becomes a comment row.
        placeholders = {p.lower() for p in DEFAULT_PLACEHOLDERS}
        answered = {
            r["Response ID"]
            for r in rows
            if r[column].strip() and r[column].strip().lower() not in placeholders and r["Response ID"] in local
        }
        assert set(loaded.loc[loaded["question_key"] == key, "response_id"]) == answered


@pytest.mark.parametrize("folder", ["semicolon", "title_block", "nps", "stars", "hcahps", "fhir_bundle"])
def test_other_exports_dry_run_equals_the_load(env, folder):
    name = _add(env, folder)
    planned = _counts(_dry(env, name).files)
    assert planned and all(c[0] > 0 for c in planned.values())
    assert _ingest(env) == planned
    if folder == "fhir_bundle":  # FHIR responses skipped by status are counted apart
        assert sum(c[4] for c in planned.values()) > 0


def test_new_user_export_with_a_title_block_dry_run_equals_the_load(env):
    """The guide's Westmoor export (cp1252, title block, date and time apart): the guide's counts, then the load's."""
    target = env.data_dir / "exports" / "westmoor"
    target.mkdir()
    shutil.copy(NEWUSER / "westmoor_fft_Sep-Nov_2026.csv", target)
    result = CliRunner().invoke(_cli(), ["source", "add", str(target)])
    assert result.exit_code == 0, result.output
    planned = _counts(_dry(env, "westmoor_fft").files)
    assert planned == {"westmoor_fft_Sep-Nov_2026.csv": (151, 147, 4, 0, 0)}
    assert _ingest(env) == planned


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_later_cumulative_export_counts_repeats_as_duplicates_in_the_dry_run_too(env):
    """Unchanged repeats of loaded (or earlier-file) responses are duplicates; changed ones load."""
    name = _add(env, "quarterly")
    folder = env.data_dir / "exports" / "quarterly"
    q4 = _csv_rows(folder / "fft_responses_2025-Q4.csv")
    assert not any(q4[11].values()) or not q4[11][Q_GOOD]  # row 11 is an empty response (quarantined)
    repeat = [dict(r) for r in q4[:40]]
    repeat[20][Q_IMPROVE] = "Amended: the wait for my results was too long"
    _write_rows(folder / "fft_responses_2026-Q1.csv", repeat)
    # Nothing loaded yet: the repeats are duplicates of the earlier file of the same run.
    before = _counts(_dry(env, name).files)
    assert before["fft_responses_2026-Q1.csv"] == (40, 1, 1, 38, 0)
    assert _ingest(env) == before
    # Against the warehouse: a new file repeating loaded responses only.
    _write_rows(folder / "fft_responses_2026-Q2.csv", q4[40:60])
    after = _counts(_dry(env, name).files)
    assert after == {**{k: (0, 0, 0, 0, 0) for k in before}, "fft_responses_2026-Q2.csv": (20, 0, 0, 20, 0)}
    assert _ingest(env) == {"fft_responses_2026-Q2.csv": (20, 0, 0, 20, 0)}


def _wire_prepare_rows(monkeypatch) -> None:
    """The one-line hook the readers need: ``map_source_rows`` maps ``prepare_rows(config, rows)``."""
    original = readers.map_source_rows
    monkeypatch.setattr(readers, "map_source_rows", lambda c, rows: original(c, prepare_rows(c, rows)))
    monkeypatch.setattr(readers, "prepare_rows", prepare_rows, raising=False)


def test_placeholders_are_blanked_once_the_readers_prepare_rows(env, monkeypatch):
    """With options.placeholders applied: no 'Did not answer' comment, and still dry run == load."""
    name = _add(env, "quarterly")
    config = yaml.safe_load((env.sources_dir / f"{name}.yaml").read_text())
    assert {v.casefold() for v in config["options"]["placeholders"]} == {"n/a", "did not answer"}
    if not hasattr(readers, "prepare_rows"):
        _wire_prepare_rows(monkeypatch)
    run = _dry(env, name)
    texts = [t for comments in run.comments.values() for t in comments]
    assert texts and not {t.casefold() for t in texts} & {"n/a", "did not answer"}
    planned = _counts(run.files)
    assert _ingest(env) == planned
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        left = con.execute(
            "select count(*) from raw.feedback where lower(text) in ('n/a', 'did not answer')"
        ).fetchone()
    assert left == (0,)


def test_blank_placeholders_ignores_case_and_spaces():
    rows = SourceRows(pd.DataFrame({"a": [" N/A ", "n/a", "kind", None], "_row_number": [2, 3, 4, 5]}, dtype="string"))
    out = blank_placeholders(rows, ["N/A"])
    assert out.frame["a"].isna().tolist() == [True, True, False, True]
    assert any("2 placeholder" in n for n in out.notes)


def test_long_export_loads_once_the_readers_apply_the_layout(env, monkeypatch):
    """Without the readers' hook the load fails loudly (and the dry run says so); with it, one row per respondent."""
    name = _add(env, "long")
    run = _dry(env, name)
    if not hasattr(readers, "prepare_rows"):
        assert run.failures and "no column(s)" in run.failures[0]
        _wire_prepare_rows(monkeypatch)
        run = _dry(env, name)
    planned = _counts(run.files)
    assert planned == {"fft_answers_2025-09.csv": (40, 40, 0, 0, 0)}
    assert _ingest(env) == planned
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        per_question = dict(
            con.execute("select question, count(*) from raw.feedback where text is not null group by 1").fetchall()
        )
    assert per_question == {"What was good about your experience?": 40, "What could we have done better?": 26}


def test_add_refuses_an_existing_name_and_files_another_source_reads(env):
    _add(env, "quarterly")
    again = CliRunner().invoke(_cli(), ["source", "add", str(env.data_dir / "exports" / "quarterly")])
    assert again.exit_code == 1 and "exists" in again.output
    other = CliRunner().invoke(_cli(), ["source", "add", str(env.data_dir / "exports" / "quarterly"), "--name", "x"])
    assert other.exit_code == 1 and "count them twice" in other.output
    assert [p.stem for p in env.sources_dir.glob("*.yaml")] == ["fft_responses"]


def test_check_exits_1_when_the_ingest_would_fail(env):
    name = _add(env, "quarterly")
    config_path = env.sources_dir / f"{name}.yaml"
    config_path.write_text(config_path.read_text() + "quarantine_max: 0.001\n")
    result = CliRunner().invoke(_cli(), ["source", "check", name])
    assert result.exit_code == 1 and "would fail" in result.output
