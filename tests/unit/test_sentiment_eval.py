"""`feedback eval sentiment`: coded files in, metrics (sklearn as the oracle) and disagreements out."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, recall_score

from pipelines.sentiment.evaluation import CodedFileError, curve_steps, evaluate_coded, parse_gold, read_coded
from pipelines.sentiment.scorer import ModelSentimentScorer


class _Fake:
    """Positive on 'good', negative on 'bad', neutral otherwise; records the question segments."""

    def __init__(self):
        self.firsts: list[str] = []

    def __call__(self, texts, questions):
        self.firsts.extend(questions or [])
        table = {"good": [0, 0, 0.1, 0.3, 0.6], "bad": [0.6, 0.3, 0.1, 0, 0]}
        return np.array([table.get(next((w for w in table if w in t), ""), [0, 0.1, 0.8, 0.1, 0]) for t in texts])


ROWS = [
    # question, answer, coder label, FFT rating
    ("What could we improve?", "bad parking", "2", "Very good"),
    ("What was good?", "good nurses", "5", "1"),
    ("What could we improve?", "more chairs please", "2", "Good"),  # model says neutral: a disagreement
    ("Why?", "it was a visit", "3", ""),
    ("What could we improve?", "Did not answer", "3", "Don't know"),  # placeholder: rule, neutral
    ("What could we improve?", "Nothing", "4", "Very good"),  # rule: positive
    ("Why?", "good but bad", "3", "Poor"),  # model says positive: a disagreement
]


def _csv(path, rows=ROWS, header=("question", "answer", "code", "fft")):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_parse_gold_accepts_numbers_and_words():
    assert parse_gold("1") == (0, 0)
    assert parse_gold(5) == (4, 2)
    assert parse_gold("Very Negative") == (0, 0)
    assert parse_gold("neutral") == (2, 1)
    assert parse_gold("positive") == (3, 2)
    for bad in ("meh", "6", "", "0"):
        with pytest.raises(ValueError):
            parse_gold(bad)


def test_read_coded_three_class_words_give_no_five_class(tmp_path):
    path = _csv(tmp_path / "c.csv", [("", "good", "positive", ""), ("", "bad", "negative", ""), ("", "x", "", "")])
    coded = read_coded(path, "answer", "code")
    assert coded.gold3 == [2, 0] and not coded.five_point  # blank label dropped, 3-class words only
    mixed = _csv(tmp_path / "m.csv", [("", "good", "very positive", ""), ("", "bad", "negative", "")])
    assert read_coded(mixed, "answer", "code").gold5 == [4, 1]


def test_read_coded_errors_name_rows_and_columns(tmp_path):
    path = _csv(tmp_path / "c.csv", [("", "good", "meh", ""), ("", "bad", "2", "")])
    with pytest.raises(CodedFileError, match="row 2"):
        read_coded(path, "answer", "code")
    with pytest.raises(CodedFileError, match="no column 'text'"):
        read_coded(path, "text", "code")


def test_evaluate_coded_matches_sklearn_and_lists_disagreements(tmp_path):
    import pandas as pd

    fft = {"very good": 1.0, "1": 1.0, "good": 0.75, "poor": 0.25}
    coded = read_coded(
        _csv(tmp_path / "c.csv"), "answer", "code", "question", "fft",
        lambda raw: raw.str.lower().map(fft).astype("Float64"),
    )  # fmt: skip
    fake = _Fake()
    result = evaluate_coded(coded, ModelSentimentScorer(fake, "fake-v", rating_input=True))
    gold3 = [0, 2, 0, 1, 1, 2, 1]
    pred3 = [0, 2, 1, 1, 1, 2, 2]
    m = result.metrics
    assert m["n"] == 7 and m["n_informative"] == 5
    assert m["macro_f1_3"] == pytest.approx(f1_score(gold3, pred3, average="macro"), abs=1e-4)
    assert m["negative_recall"] == pytest.approx(recall_score(gold3, pred3, labels=[0], average="macro"))
    assert result.confusion3.to_numpy().tolist() == confusion_matrix(gold3, pred3, labels=[0, 1, 2]).tolist()
    assert "macro_f1_5" in m and result.confusion5 is not None
    assert result.per_class3.loc["negative", "recall"] == pytest.approx(0.5)
    assert list(result.disagreements["answer"]) == ["more chairs please", "good but bad"]
    assert "model_label3" in result.disagreements and "coder_label3" in result.disagreements
    # The respondent's rating reaches the model with the whole comment.
    assert "What could we improve? [rating: very good]" in fake.firsts
    assert "What could we improve? [rating: good]" in fake.firsts
    text = result.table()
    assert "3-class macro-F1" in text and "5-class macro-F1" in text and "coder negative" in text
    assert isinstance(result.disagreements, pd.DataFrame)


def test_curve_steps():
    assert curve_steps(500, 4) == [0, 125, 250, 375, 500]
    assert curve_steps(3, 5) == [0, 1, 2, 3]


def _app(monkeypatch):
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


def test_cli_eval_sentiment_csv_and_jsonl(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    app = _app(monkeypatch)
    src = _csv(tmp_path / "coded.csv")
    out = tmp_path / "dis.csv"
    args = ["eval", "sentiment", str(src), "--text-column", "answer", "--label-column", "code"]
    result = CliRunner().invoke(
        app, [*args, "--question-column", "question", "--rating-column", "fft", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "3-class macro-F1" in result.output and "5-class macro-F1" in result.output
    assert "2 disagreements" in result.output
    with out.open(encoding="utf-8-sig") as f:
        assert [r["answer"] for r in csv.DictReader(f)] == ["more chairs please", "good but bad"]
    # JSONL with 3-class word labels: no 5-class figures; default output next to the file.
    jsonl = tmp_path / "coded.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"text": t, "label": lab}) for t, lab in [("good", "positive"), ("bad", "neutral")]),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["eval", "sentiment", str(jsonl), "--text-column", "text", "--label-column", "label"]
    )
    assert result.exit_code == 0, result.output
    assert "5-class" not in result.output and (tmp_path / "coded.disagreements.csv").is_file()
    bad = CliRunner().invoke(app, [*args[:3], "--text-column", "nope", "--label-column", "code"])
    assert bad.exit_code == 1 and "no column 'nope'" in bad.output
    scale = CliRunner().invoke(app, [*args, "--rating-column", "fft", "--rating-scale", "stars11"])
    assert scale.exit_code == 1 and "unknown rating scale" in scale.output


def test_simulate_reviewers_needs_a_test_split(tmp_path):
    from pipelines.sentiment.evaluation import simulate_reviewers

    coded = read_coded(_csv(tmp_path / "c.csv"), "answer", "code")
    with pytest.raises(CodedFileError, match="never-labelled"):
        simulate_reviewers(coded, tmp_path, 5)


def test_cli_eval_reads_per_row_rating_scales_of_the_labelled_data_format(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import pipelines.sentiment.scorer as sentiment

    fake = _Fake()
    monkeypatch.setattr(
        sentiment, "load_scorer", lambda settings: ModelSentimentScorer(fake, "fake-v", rating_input=True)
    )
    import typer

    from pipelines.cli.sentiment import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    rows = [
        {"question": "Q", "text": "good crew", "label": 5, "rating_scale": "fft", "rating": 1},
        {"question": "Q", "text": "bad wait", "label": 1, "rating_scale": "nps", "rating": 0},
        {"question": "Q", "text": "a visit", "label": 3, "rating_scale": "none", "rating": None},
        {"question": "Q", "text": "good care", "label": 4, "rating_scale": "stars", "rating": 4},
    ]
    path = tmp_path / "coded.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    args = ["eval", "sentiment", str(path), "--text-column", "text", "--label-column", "label"]
    extra = ["--question-column", "question", "--rating-column", "rating", "--rating-scale-column", "rating_scale"]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    assert fake.firsts == ["Q [rating: very good]", "Q [rating: very poor]", "Q", "Q [rating: good]"]
