"""Reviewer loop: the export mixes uncertain and representative comments, one per near-duplicate;
two reviewers' files give Cohen's kappa (scikit-learn as the oracle); the epoch choice of continued
fine-tuning; the per-organisation head's re-weighting."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from pipelines.config import Settings
from pipelines.sentiment.labels import (
    LabelImportError,
    export_for_review,
    import_two_reviewers,
    label_counts,
    normalise_text,
    representative_order,
    reviewer_agreement,
)
from pipelines.sentiment.scorer import ModelSentimentScorer
from pipelines.warehouse import apply_schema, connect

# feedback_id, redacted text, stored confidence, 3-d "embedding" (parking along z, cluster A along x, B along y)
ROWS = [
    ("u1", "parking was a puzzle", 0.30, (0.0, 0.0, 1.0)),  # uncertain
    ("u2", "Parking was a puzzle!!", 0.31, (0.0, 0.0, 1.0)),  # same normalised text as u1
    ("u3", "the parking is a riddle", 0.32, (0.1, 0.0, 0.995)),  # near-duplicate of u1 by embedding
    ("u4", "car park so-so", 0.33, (0.5, 0.0, 0.87)),  # uncertain, distinct enough (cosine 0.87)
    ("a1", "lovely nurses", 0.90, (1.0, 0.0, 0.0)),  # centre of cluster A
    ("a2", "lovely nurses, kind", 0.91, (0.95, 0.31, 0.0)),
    ("a3", "nurses kind", 0.92, (0.95, -0.31, 0.0)),
    ("b1", "long wait in A&E", 0.93, (0.0, 1.0, 0.0)),  # centre of cluster B
    ("b2", "waited hours", 0.94, (0.31, 0.95, 0.0)),
    ("b3", "wait far too long", 0.95, (-0.31, 0.95, 0.0)),
]
VECTORS = {text: np.array(vec) for _, text, _, vec in ROWS}


@pytest.fixture()
def settings(tmp_path):
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
        for fid, text, conf, _ in ROWS:
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, question, text, "
                "record_hash, batch_id, ingested_at) values (?, 'survey', 'test', ?, 'Q?', ?, 'h', 'b', ?)",
                [fid, fid, text, now],
            )
            con.execute("insert into enrich.redactions values (?, 'h', ?, '{}', 'r1', ?)", [fid, text, now])
            con.execute(
                "insert into enrich.sentiment values (?, 'h', true, 'neutral', 'neutral', 0, ?, false, 'm1', ?)",
                [fid, conf, now],
            )
    return s


def _probs(texts, questions):
    # Unsure (margin 0.05..0.2) about the parking comments, sure about the rest.
    out = []
    for t in texts:
        if "park" in t.lower() or "riddle" in t:
            gap = 0.05 if "puzzle" in t.lower() or "riddle" in t else 0.2
            out.append([0.0, 0.0, 0.5 - gap / 2, 0.5 + gap / 2, 0.0])
        else:
            out.append([0.0, 0.0, 0.02, 0.95, 0.03])
    return np.array(out)


def _embed(texts):
    return np.stack([VECTORS[t] for t in texts])


def _ids(path):
    with path.open(encoding="utf-8-sig") as f:
        return [r["feedback_id"] for r in csv.DictReader(f)]


def test_normalise_text_ignores_case_punctuation_and_spacing():
    assert normalise_text("Parking  was a PUZZLE!!") == normalise_text("parking was a puzzle")
    assert normalise_text("parking was a puzzle") != normalise_text("parking was a riddle")


def test_representative_order_starts_each_cluster_at_its_centre():
    vecs = np.stack([VECTORS[t] for _, t, _, _ in ROWS[4:]])
    clusters = representative_order(vecs, 2)
    assert sorted(c[0] for c in clusters) == [0, 3]  # a1 and b1
    assert sorted(i for c in clusters for i in c) == list(range(6))


def test_export_mixes_uncertain_and_representative_one_per_near_duplicate(settings, tmp_path):
    scorer = ModelSentimentScorer(_probs, "fake")
    res = export_for_review(settings, scorer, 4, tmp_path / "review", embed=_embed, uncertain_share=0.5)
    ids = _ids(res.csv_path)
    assert (res.rows, res.uncertain, res.representative) == (4, 2, 2)
    # Uncertain: the smallest margin first (u1), then u4; u2 (same text) and u3 (same embedding) never.
    assert ids[:2] == ["u1", "u4"]
    assert res.duplicates_skipped >= 1 and not {"u2", "u3"} & set(ids)
    # Representative: the centre of each embedding cluster of the unlabelled sample.
    assert sorted(ids[2:]) == ["a1", "b1"]


def test_export_without_embeddings_is_all_uncertain_and_dedupes_on_text(settings, tmp_path):
    res = export_for_review(settings, ModelSentimentScorer(_probs, "fake"), 3, tmp_path / "review")
    ids = _ids(res.csv_path)
    assert res.representative == 0 and ids[0] == "u1" and "u2" not in ids and len(ids) == 3
    with pytest.raises(ValueError, match="uncertain_share"):
        export_for_review(settings, ModelSentimentScorer(_probs, "fake"), 3, tmp_path / "r", uncertain_share=1.5)


def test_reviewer_agreement_matches_sklearn_kappa():
    a = [(2, "f1", "positive"), (3, "f2", "negative"), (4, "f3", "very positive"), (5, "f4", "neutral"),
         (6, "f5", "very negative"), (7, "only-a", "neutral")]  # fmt: skip
    b = [(2, "f1", "very positive"), (3, "f2", "negative"), (4, "f3", "very positive"), (5, "f4", "negative"),
         (6, "f5", "very negative"), (7, "only-b", "neutral")]  # fmt: skip
    res = reviewer_agreement(a, b, {"f1": ("Q?", "good"), "f4": ("Q?", "meh")})
    la = ["positive", "negative", "very positive", "neutral", "very negative"]
    lb = ["very positive", "negative", "very positive", "negative", "very negative"]
    roll = {"very negative": 0, "negative": 0, "neutral": 1, "positive": 2, "very positive": 2}
    assert res.n_both == 5
    assert res.kappa5 == pytest.approx(cohen_kappa_score(la, lb), abs=1e-4)
    assert res.kappa3 == pytest.approx(cohen_kappa_score([roll[x] for x in la], [roll[x] for x in lb]), abs=1e-4)
    assert res.agree5 == pytest.approx(3 / 5) and res.agree3 == pytest.approx(4 / 5)
    assert list(res.disagreements["feedback_id"]) == ["f1", "f4"]
    assert list(res.disagreements["text"]) == ["good", "meh"]
    assert "kappa 5-class" in res.table()
    # One label throughout: kappa is undefined, not a number that means nothing.
    same = reviewer_agreement([(2, "f1", "neutral")] * 1, [(2, "f1", "neutral")])
    assert same.kappa5 is None and same.agree5 == 1.0


def _review_file(path, labels):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feedback_id", "question", "text", "predicted_label", "label"])
        for fid, label in labels:
            w.writerow([fid, "Q?", fid, "", label])
    return path


def test_import_two_reviewers_stores_what_they_agree_on(settings, tmp_path):
    a = _review_file(tmp_path / "a.csv", [("a1", "5"), ("b1", "2"), ("u1", "3"), ("a2", "4"), ("b2", "")])
    b = _review_file(tmp_path / "b.csv", [("a1", "5"), ("b1", "1"), ("u1", "3"), ("b2", "2"), ("a2", "")])
    result, agreement = import_two_reviewers(settings, a, b, ("ann", "bob"))
    assert agreement.n_both == 3 and list(agreement.disagreements["feedback_id"]) == ["b1"]
    # a1 and u1 agreed, a2 only in a, b2 only in b: stored; b1 disagreed: not stored.
    assert result.stored == 4
    assert label_counts(settings) == {"negative": 1, "neutral": 1, "positive": 1, "very positive": 1}
    bad = _review_file(tmp_path / "bad.csv", [("a1", "great")])
    with pytest.raises(LabelImportError, match="row 2"):
        import_two_reviewers(settings, a, bad)


def test_cli_import_of_two_files_prints_kappa_and_writes_disagreements(settings, tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from pipelines.cli.sentiment import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    for key, value in (("HOME", settings.home), ("SQL_DIR", settings.sql_dir), ("WAREHOUSE", settings.warehouse)):
        monkeypatch.setenv(f"FEEDBACK_{key}", str(value))
    a = _review_file(tmp_path / "a.csv", [("a1", "5"), ("b1", "2"), ("u1", "3")])
    b = _review_file(tmp_path / "b.csv", [("a1", "5"), ("b1", "1"), ("u1", "4")])
    out = tmp_path / "dis.csv"
    args = ["label", "import", str(a), str(b), "--reviewer", "ann", "--reviewer", "bob", "--disagreements", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 rows labelled by both ann and bob" in result.output and "Cohen's kappa" in result.output
    assert "stored 1 labels" in result.output
    assert _ids(out) == ["b1", "u1"]


def test_choose_epoch_prefers_held_out_f1_then_accuracy_then_later():
    from pipelines.sentiment.organisation import choose_epoch

    curve = [
        {"epoch": 0, "macro_f1_3": 0.70, "acc3": 0.80},
        {"epoch": 1, "macro_f1_3": 0.75, "acc3": 0.70},
        {"epoch": 2, "macro_f1_3": 0.75, "acc3": 0.72},
        {"epoch": 3, "macro_f1_3": 0.75, "acc3": 0.72},
        {"epoch": 4, "macro_f1_3": 0.60, "acc3": 0.90},
    ]
    assert choose_epoch(curve) == 3
    assert choose_epoch(curve[:1] + curve[4:]) == 0  # tuning that hurts keeps the starting model


def test_reweight_sides_moves_side_mass_and_keeps_the_shape_within_a_side():
    from pipelines.sentiment.evaluation import head_features, reweight_sides

    p5 = np.array([[0.1, 0.3, 0.2, 0.3, 0.1], [0.0, 0.0, 0.0, 0.5, 0.5]])
    p3 = np.array([[0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    out = reweight_sides(p5, p3)
    assert out.sum(1) == pytest.approx([1.0, 1.0])
    assert out[0, :2] == pytest.approx([0.2, 0.6])  # 1:3 within the negative side, mass 0.8
    assert out[1, :2] == pytest.approx([0.1, 0.1])  # no mass on a side: spread evenly
    feats = head_features(np.zeros((2, 4)), p5)
    assert feats.shape == (2, 7) and feats[0, 4] == pytest.approx(np.log(0.4))


def test_cli_export_reports_the_mix(settings, tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    import pipelines.sentiment.labels as labels
    import pipelines.sentiment.scorer as scorer
    from pipelines.cli.sentiment import register

    monkeypatch.setattr(scorer, "load_scorer", lambda s: ModelSentimentScorer(_probs, "fake-v"))
    monkeypatch.setattr(labels, "default_embedder", lambda: _embed)
    for key, value in (("HOME", settings.home), ("SQL_DIR", settings.sql_dir), ("WAREHOUSE", settings.warehouse)):
        monkeypatch.setenv(f"FEEDBACK_{key}", str(value))
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    result = CliRunner().invoke(app, ["label", "export", "--n", "4", "--out", str(tmp_path / "batch")])
    assert result.exit_code == 0, result.output
    assert "2 uncertain, 2 representative" in result.output and "CODING.md" in result.output
    assert sorted(_ids(tmp_path / "batch.csv")) == ["a1", "b1", "u1", "u4"]
