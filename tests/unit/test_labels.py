"""Reviewer labels: active-learning export and validated import, on a tiny DuckDB file."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest

from pipelines.config import Settings
from pipelines.sentiment.labels import (
    LabelImportError,
    entropy,
    export_uncertain,
    import_labels,
    label_counts,
    margin,
    organisation_examples,
    rank_uncertain,
)
from pipelines.sentiment.scorer import ModelSentimentScorer
from pipelines.warehouse import apply_schema, connect

ROWS = [
    # feedback_id, question, raw text (PHI), redacted text, stored confidence
    ("f1", "What could we improve?", "Ask for John Smith on 07700 900123", "Ask for <PERSON> on <PHONE>", 0.40),
    ("f2", "What was good?", "Lovely staff", "Lovely staff", 0.95),
    ("f3", "What could we improve?", '=HYPERLINK("x") parking', '=HYPERLINK("x") parking', 0.50),
    ("f4", "Any other comments?", "ok I suppose", "ok I suppose", 0.45),
    ("f5", "What was good?", "Nothing", "Nothing", 1.0),
]


@pytest.fixture()
def settings(tmp_path, monkeypatch):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    s = Settings.from_env(
        {
            "FEEDBACK_HOME": str(tmp_path),
            "FEEDBACK_SQL_DIR": str(root / "sql"),
            "FEEDBACK_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        }
    )
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with connect(s) as con:
        apply_schema(con, s)
        for fid, q, raw, red, conf in ROWS:
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, question, text, "
                "record_hash, batch_id, ingested_at) values (?, 'survey', 'test', ?, ?, ?, 'h', 'b', ?)",
                [fid, fid, q, raw, now],
            )
            con.execute("insert into enrich.redactions values (?, 'h', ?, '{}', 'r1', ?)", [fid, red, now])
            con.execute(
                "insert into enrich.sentiment values (?, 'h', ?, 'neutral', 'neutral', 0, ?, false, 'm1', ?)",
                [fid, fid != "f5", conf, now],
            )
    return s


class _Fake:
    """Probabilities: 'parking' and '<PERSON>' very unsure, everything else sure."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, texts, questions):
        self.seen.extend(texts)
        rows = [[0.2] * 5 if ("parking" in t or "<PERSON>" in t) else [0.0, 0.0, 0.05, 0.9, 0.05] for t in texts]
        return np.array(rows, dtype=np.float32)


def test_entropy_margin_ranking():
    assert entropy([0.2] * 5) > entropy([0.9, 0.1, 0, 0, 0])
    assert margin([0.5, 0.3, 0.2]) == pytest.approx(0.2)
    probs = np.array([[1, 0, 0, 0, 0], [0.2] * 5, [0.5, 0.5, 0, 0, 0]])
    assert rank_uncertain(probs, 2) == [1, 2]


def test_export_picks_uncertain_redacted_only(settings, tmp_path):
    fake = _Fake()
    scorer = ModelSentimentScorer(fake, "fake")
    csv_path, xlsx_path, count = export_uncertain(settings, scorer, 2, tmp_path / "out" / "review.csv")
    assert count == 2 and csv_path.suffix == ".csv" and xlsx_path.suffix == ".xlsx"
    with csv_path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["feedback_id", "question", "text", "predicted_label", "label"]
    assert {r["feedback_id"] for r in rows} == {"f1", "f3"}
    assert all(r["label"] == "" for r in rows)
    # Only redacted text leaves the warehouse; non-informative f5 is never a candidate.
    body = csv_path.read_text(encoding="utf-8-sig") + " ".join(fake.seen)
    assert "John" not in body and "07700" not in body and "Nothing" not in body
    # Formula injection is neutralised in both formats.
    assert any(r["text"].startswith("'=HYPERLINK") for r in rows)
    from openpyxl import load_workbook

    ws = load_workbook(xlsx_path)["labels"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["feedback_id", "question", "text", "predicted_label", "label"]
    assert all(c.data_type != "f" for row in ws.iter_rows(min_row=2) for c in row)
    assert any(str(c.value).startswith("'=HYPERLINK") for row in ws.iter_rows(min_row=2) for c in row)


def test_help_sheet_follows_the_coding_guide(settings, tmp_path):
    # The reviewers' help sheet points to CODING.md and states its conventions (suggestions are negative).
    from pathlib import Path

    from openpyxl import load_workbook

    from pipelines.sentiment.labels import HELP_LINES

    _, xlsx_path, _ = export_uncertain(settings, ModelSentimentScorer(_Fake(), "fake"), 2, tmp_path / "review")
    lines = [row[0] for row in load_workbook(xlsx_path)["how to label"].iter_rows(min_row=2, values_only=True)]
    assert lines == list(HELP_LINES)
    text = " ".join(lines)
    assert "models/sentiment/CODING.md" in text
    assert (Path(__file__).resolve().parents[2] / "models/sentiment/CODING.md").is_file()
    assert "suggestion is criticism (negative, 2)" in text and "neutral" not in text.split("suggestion is")[1][:60]
    assert "Did not answer" in text and "mixed comment" in text


def _write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feedback_id", "question", "text", "predicted_label", "label"])
        w.writerows(rows)
    return path


def test_import_valid_csv_and_blank_rows(settings, tmp_path):
    path = _write_csv(
        tmp_path / "ok.csv",
        [["f1", "", "", "", "2"], ["f2", "", "", "", "very positive"], ["f3", "", "", "", ""], ["", "", "", "", ""]],
    )
    result = import_labels(settings, path, reviewer="rk")
    assert (result.stored, result.skipped_blank) == (2, 2)
    assert label_counts(settings) == {"negative": 1, "very positive": 1}
    # Re-import replaces the label.
    import_labels(settings, _write_csv(tmp_path / "again.csv", [["f1", "", "", "", "neutral"]]))
    assert label_counts(settings) == {"neutral": 1, "very positive": 1}
    examples = {e.id: e for e in organisation_examples(settings)}
    assert examples["f1"].text == "Ask for <PERSON> on <PHONE>"  # redacted text for training
    assert examples["f2"].label5 == 4 and examples["f2"].label3 == 2


def test_import_rejects_bad_rows_with_row_numbers(settings, tmp_path):
    path = _write_csv(
        tmp_path / "bad.csv",
        [
            ["f1", "", "", "", "4"],
            ["f2", "", "", "", "great"],
            ["nope", "", "", "", "3"],
            ["f4", "", "", "", "6"],
            ["f1", "", "", "", "1"],
        ],
    )
    with pytest.raises(LabelImportError) as err:
        import_labels(settings, path)
    msg = str(err.value)
    assert "row 3: label 'great'" in msg
    assert "row 4: unknown feedback_id 'nope'" in msg
    assert "row 5: label '6'" in msg
    assert "row 6: feedback_id 'f1' already labelled" in msg
    assert "nothing stored" in msg
    assert label_counts(settings) == {}


def test_import_xlsx_numbers_and_missing_columns(settings, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "labels"
    ws.append(["feedback_id", "text", "label"])
    ws.append(["f4", "ok I suppose", 3])
    ws.append(["f2", "Lovely staff", 5.0])
    wb.save(tmp_path / "r.xlsx")
    assert import_labels(settings, tmp_path / "r.xlsx").stored == 2
    assert label_counts(settings) == {"neutral": 1, "very positive": 1}
    _bad = tmp_path / "nolabel.csv"
    _bad.write_text("feedback_id,text\nf1,x\n", encoding="utf-8")
    with pytest.raises(LabelImportError, match="missing column"):
        import_labels(settings, _bad)
    with pytest.raises(LabelImportError, match=r"\.csv or \.xlsx"):
        (tmp_path / "x.txt").write_text("a", encoding="utf-8")
        import_labels(settings, tmp_path / "x.txt")


def test_cli_commands_registered_with_help():
    import typer
    from typer.testing import CliRunner

    from pipelines.cli.sentiment import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    runner = CliRunner()
    for args in (
        ["label", "export", "--help"],
        ["label", "import", "--help"],
        ["train", "sentiment", "--help"],
        ["score-file", "--help"],
        ["bench", "sentiment", "--help"],
        ["eval", "sentiment", "--help"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert len(result.output) > 200


def test_cli_import_reports_bad_rows(settings, tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from pipelines.cli.sentiment import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    monkeypatch.setenv("FEEDBACK_HOME", str(settings.home))
    monkeypatch.setenv("FEEDBACK_SQL_DIR", str(settings.sql_dir))
    monkeypatch.setenv("FEEDBACK_WAREHOUSE", str(settings.warehouse))
    bad = _write_csv(tmp_path / "bad.csv", [["f1", "", "", "", "meh"]])
    result = CliRunner().invoke(app, ["label", "import", str(bad)])
    assert result.exit_code == 1 and "row 2" in result.output
    good = _write_csv(tmp_path / "good.csv", [["f1", "", "", "", "1"]])
    result = CliRunner().invoke(app, ["label", "import", str(good), "--reviewer", "me"])
    assert result.exit_code == 0 and "stored 1 labels" in result.output


def _score_file_app(monkeypatch):
    import typer

    import pipelines.sentiment.scorer as sentiment
    from pipelines.cli.sentiment import register

    monkeypatch.setattr(sentiment, "load_scorer", lambda settings: ModelSentimentScorer(_Fake(), "fake-v"))
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    return app


def test_cli_score_file_with_fake_scorer(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    app = _score_file_app(monkeypatch)
    src = tmp_path / "in.csv"
    src.write_text("id,q,answer\n1,What could we improve?,Nothing\n2,,parking\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["score-file", str(src), "--text-column", "answer", "--question-column", "q", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["sentiment3"] == "positive" and rows[0]["is_informative"] == "False"
    assert rows[1]["is_informative"] == "True" and rows[1]["sentiment_model_version"] == "fake-v"
    assert {"sentiment_label", "sentiment_score", "sentiment_confidence", "sentiment_model_version"} <= set(rows[0])
    missing = CliRunner().invoke(app, ["score-file", str(src), "--text-column", "nope", "--out", str(out)])
    assert missing.exit_code == 1 and "no column 'nope'" in missing.output


def test_cli_score_file_guards_formulas(tmp_path, monkeypatch):
    # A comment (or question) starting with "=", "+", "-" or "@" must reach the spreadsheet as text.
    from typer.testing import CliRunner

    app = _score_file_app(monkeypatch)
    src = tmp_path / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["answer", "q"])
        w.writerow(['=HYPERLINK("http://x.example","click") parking', "=1+1"])
        w.writerow(["@SUM(A1:A2) staff were lovely", "What was good?"])
        w.writerow(["plain comment", "What was good?"])
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["score-file", str(src), "--text-column", "answer", "--question-column", "q", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["answer"] == '\'=HYPERLINK("http://x.example","click") parking'
    assert rows[0]["q"] == "'=1+1"
    assert rows[1]["answer"] == "'@SUM(A1:A2) staff were lovely"
    assert rows[2]["answer"] == "plain comment"
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())
