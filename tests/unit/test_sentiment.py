"""Fast checks of the sentiment package: rules, label mapping, scorer plumbing (no model)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pipelines.config import Settings
from pipelines.sentiment.backends import label_matrix, length_batches
from pipelines.sentiment.base import (
    LABELS3,
    LABELS5,
    Sentiment,
    SentimentModelError,
    SentimentScorer,
    label3_of,
    label5_from_value,
    sentiment_from_probs,
)
from pipelines.sentiment.clauses import split_clauses
from pipelines.sentiment.data import Example
from pipelines.sentiment.noncontent import is_informative, noncontent_label, question_kind
from pipelines.sentiment.scorer import ModelSentimentScorer, load_scorer


@pytest.mark.parametrize("module", ["scorer", "stage", "labels", "build", "organisation", "metrics", "train"])
def test_import_is_light(module):
    # The pipeline imports these modules in Airflow tasks and the CLI: no heavy ML import at module level
    # (the stage and the label loop use pandas/DuckDB, hence numpy; the scorer itself does not).
    heavy = "{'torch', 'transformers', 'onnxruntime', 'sklearn', 'tokenizers'" + (
        ", 'numpy'}" if module == "scorer" else "}"
    )
    code = f"import sys, pipelines.sentiment.{module}; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    [
        "Nothing",
        "nothing.",
        "N/A",
        "n/a",
        "-",
        "no",
        "No.",
        "none",
        "None!",
        "all good",
        "All good :)",
        "fine",
        "",
        "   ",
        "...",
        "?",
        "no comment",
        "Can't think of anything",
        "nothing really",
        "everything",
        "nope",
        "nothing at this time, thanks",
        "not sure",
        "See attached letter.",
        "n/a for me",
        "no other comments to make",
        "nothing springs to mind right now",
        "all fine ta",
        "very satisfied",
    ],
)
def test_non_informative(text):
    assert not is_informative(text)


@pytest.mark.parametrize(
    "text",
    [
        "Nothing, the nurse was rude",
        "No one answered the phone",
        "Fine dining it was not",
        "staff were lovely",
        "Everything was explained clearly by the consultant",
        "none of the doctors listened",
        "waited 5 hours",
        "not good",
        "Not happy at all",
        "excellent",
        "rubbish",
        "nothing was too much trouble for the nurses",
        "Nothing, it was all explained well by the surgeon, thanks",
    ],
)
def test_informative(text):
    assert is_informative(text)


PLACEHOLDERS = (
    "Did not answer", "Not answered", "N/A", "-", "no comment", "see above", "nil", "No response",
    "did not answer.", "NOT ANSWERED", "[no answer]", "Declined to answer", "No comments", "See previous answer",
)  # fmt: skip


@pytest.mark.parametrize("text", PLACEHOLDERS)
def test_survey_placeholders_are_no_comment(text):
    # Survey platforms write these into empty answers (CODING.md: code 3, not informative): never scored.
    assert not is_informative(text)
    if text.lower() != "nil":  # "nil" is "none": a satisfied patient under an improvement question
        for question in ("What could we do better?", "What was good?", "Why did you give this rating?", None):
            assert noncontent_label(text, question) == "neutral", (text, question)
    assert noncontent_label(text, "Why did you give this rating?") == "neutral"


@pytest.mark.parametrize(
    "text",
    [
        "No response from the ward for 3 hours",
        "did not answer the phone for hours",
        "nil by mouth for two days and nobody explained why",
        "not answered my questions",
        "see a doctor sooner",
    ],
)
def test_placeholder_words_inside_a_comment_stay_informative(text):
    assert is_informative(text)


def test_model_scorer_never_scores_placeholders():
    fake = _FakePredict()
    out = ModelSentimentScorer(fake, "f").score(list(PLACEHOLDERS), ["What could we do better?"] * len(PLACEHOLDERS))
    assert not any(s.is_informative for s in out)
    assert fake.calls == []


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What could we improve?", "improve"),
        ("What could we have done better?", "improve"),
        ("Is there anything that would have made your experience better?", "improve"),
        ("What was good about your visit?", "good"),
        ("What did we do well?", "good"),
        ("What went well during your care?", "good"),
        ("Any other comments?", "other"),
        (None, "other"),
        ("", "other"),
        ("Is there anything else you would like to tell us?", "other"),
        ("Your suggestion", "other"),
        ("Ideas to improve our service", "improve"),
        ("Why did you give this score?", "other"),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_nothing_depends_on_question():
    assert label3_of(noncontent_label("Nothing", "What could we improve?")) == "positive"
    assert label3_of(noncontent_label("Nothing", "What was good about your care?")) == "negative"
    assert noncontent_label("Nothing", None) == "neutral"
    assert label3_of(noncontent_label("everything", "What could we do better?")) == "negative"
    assert noncontent_label("everything", "What did you like?") == "very positive"
    assert noncontent_label("all good", "What could we do better?") == "positive"
    assert noncontent_label("N/A", "What was good?") == "neutral"
    assert noncontent_label("n/a thanks", "What could we do better?") == "neutral"
    assert noncontent_label("not a lot really", "What was good about your experience?") == "negative"
    assert noncontent_label("Can't think of anything", "Tell us how we can improve") == "positive"
    assert noncontent_label("fine I suppose", "Why did you give this score?") == "neutral"
    assert noncontent_label("everything is fine thanks", "What could we do better?") == "positive"
    assert noncontent_label("Please call me", None) == "neutral"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("staff were lovely but I waited five hours", ["staff were lovely", "I waited five hours"]),
        ("Dr. Patel was great. The wait was 2.5 hours!", ["Dr. Patel was great.", "The wait was 2.5 hours!"]),
        ("Nice staff, however the parking was a nightmare", ["Nice staff", "the parking was a nightmare"]),
        ("Unfortunately the wait was long", ["Unfortunately the wait was long"]),
        ("Good but slow.", ["Good but slow."]),
        ("lovely", ["lovely"]),
        ("  spaced out  ", ["spaced out"]),
        ("line one\nline two here", ["line one", "line two here"]),
    ],
)
def test_split_clauses(text, expected):
    assert split_clauses(text) == expected


@pytest.mark.parametrize("text", ["", " ", "but", "but but", ". . .", "however,", "!!!", "a. b. c."])
def test_split_clauses_never_empty_strings(text):
    out = split_clauses(text)
    assert all(c.strip() for c in out)
    assert out == [] if not text.strip() else len(out) >= 1


def test_label_mapping():
    assert label5_from_value(1) == "very negative"
    assert label5_from_value("5") == "very positive"
    assert label5_from_value(3.0) == "neutral"
    assert label5_from_value(" Very_Positive ") == "very positive"
    assert label5_from_value("very-negative") == "very negative"
    for bad in (0, 6, "good", "", "2.5", True, float("nan")):
        with pytest.raises(ValueError):
            label5_from_value(bad)
    assert [label3_of(lab) for lab in LABELS5] == ["negative", "negative", "neutral", "positive", "positive"]


def test_sentiment_from_probs_consistent_and_bounded():
    rng = np.random.default_rng(0)
    for row in rng.dirichlet(np.ones(5), size=200):
        s = sentiment_from_probs(row)
        assert label3_of(s.label5) == s.label3
        assert -1.0 <= s.score <= 1.0
        assert 1 / 3 - 1e-9 <= s.confidence <= 1.0
    assert sentiment_from_probs([0, 0, 0, 0, 1]).score == pytest.approx(1.0)
    assert sentiment_from_probs([1, 0, 0, 0, 0]).score == pytest.approx(-1.0)
    mixed = sentiment_from_probs([0.05, 0.4, 0.05, 0.45, 0.05], mixed_threshold=0.2)
    assert mixed.is_mixed and mixed.label3 == "positive"
    assert not sentiment_from_probs([0.0, 0.1, 0.1, 0.5, 0.3], mixed_threshold=0.2).is_mixed


def test_label_matrix():
    assert label_matrix({0: "NEGATIVE", 1: "POSITIVE"}).tolist()[0] == [0, 1, 0, 0, 0]
    assert label_matrix({"0": "1 star", "1": "2 stars", "2": "3 stars", "3": "4 stars", "4": "5 stars"}).trace() == 5
    assert label_matrix({0: "negative", 1: "neutral", 2: "positive"})[2].tolist() == [0, 0, 0, 1, 0]
    with pytest.raises(SentimentModelError):
        label_matrix({0: "toxic", 1: "clean"})


def test_length_batches_sorted_and_bounded():
    lengths = [5, 50, 7, 300, 6, 51, 8, 49]
    batches = length_batches(lengths, max_batch=3, max_tokens=400)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert max(lengths[i] for i in b) * len(b) <= 400 or len(b) == 1
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)


class _FakePredict:
    """Positive when the text says 'good', negative when 'bad', else neutral; records calls."""

    def __init__(self):
        self.calls: list[tuple[list[str], list[str] | None]] = []

    def __call__(self, texts, questions):
        self.calls.append((texts, questions))
        rows = []
        for t in texts:
            if "good" in t and "bad" in t:
                rows.append([0.05, 0.4, 0.05, 0.45, 0.05])
            elif "good" in t:
                rows.append([0.0, 0.0, 0.1, 0.3, 0.6])
            elif "bad" in t:
                rows.append([0.7, 0.2, 0.1, 0.0, 0.0])
            else:
                rows.append([0.0, 0.1, 0.8, 0.1, 0.0])
        return np.array(rows, dtype=np.float32)


def test_model_scorer_uses_rule_for_noncontent_and_passes_questions():
    fake = _FakePredict()
    scorer = ModelSentimentScorer(fake, "fake-1", noncontent="rule")
    assert isinstance(scorer, SentimentScorer)
    texts = ["good care", "Nothing", "bad parking", "Nothing", "good food but bad wait", "the wait"]
    qs = ["Q1", "What could we improve?", None, "What was good?", "Q5", "Q6"]
    out = scorer.score(texts, qs)
    assert [s.label3 for s in out] == ["positive", "positive", "negative", "negative", "positive", "neutral"]
    assert [s.is_informative for s in out] == [True, False, True, False, True, True]
    assert out[4].is_mixed and not out[0].is_mixed
    # Only informative texts reach the model, each with its question ('' when unknown), plus
    # the clauses of multi-clause comments (mixed rule) in the same call.
    texts_seen, qs_seen = fake.calls[0]
    assert len(fake.calls) == 1
    assert texts_seen == ["good care", "bad parking", "good food but bad wait", "the wait", "good food", "bad wait"]
    assert qs_seen == ["Q1", "", "Q5", "Q6", "Q5", "Q5"]
    assert all(isinstance(s, Sentiment) and s.label3 in LABELS3 for s in out)


def test_each_question_and_text_reaches_the_model_once(monkeypatch):
    """Repeated answers and a comment's clauses (mixed flag, then aspects) are predicted once."""
    from pipelines.sentiment import scorer as scorer_mod

    fake = _FakePredict()
    scorer = ModelSentimentScorer(fake, "fake-1")
    texts = ["lovely good nurses", "lovely good nurses", "good food but bad wait", "lovely good nurses"]
    qs = ["Q1", "Q1", "Q5", "Q2"]  # the same words under another question are another input
    first = scorer.score(texts, qs)
    seen = [(q, t) for ts, qq in fake.calls for q, t in zip(qq, ts, strict=True)]
    assert sorted(seen) == sorted(
        {
            ("Q1", "lovely good nurses"),
            ("Q2", "lovely good nurses"),
            ("Q5", "good food but bad wait"),
            ("Q5", "good food"),
            ("Q5", "bad wait"),
        }
    )
    # The stage then scores each clause for the aspects: nothing new to predict.
    clauses = scorer.score(["good food", "bad wait"], ["Q5", "Q5"])
    assert len(fake.calls) == 1
    assert [c.label3 for c in clauses] == ["positive", "negative"]
    # Same results as a scorer that remembers nothing.
    monkeypatch.setattr(scorer_mod, "MEMO_SIZE", 0)
    fresh = ModelSentimentScorer(_FakePredict(), "fake-1")
    assert fresh.score(texts, qs) == first == scorer.score(texts, qs)
    assert fresh._memo == {}  # noqa: SLF001  # with no room it keeps nothing


def test_rating_reaches_whole_comments_only_when_the_build_reads_ratings():
    texts = ["good food but bad wait", "Nothing", "the wait"]
    qs = ["Q1", "What could we improve?", None]
    ratings = [1.0, 0.75, float("nan")]
    fake = _FakePredict()
    out = ModelSentimentScorer(fake, "f", rating_input=True).score(texts, qs, ratings=ratings)
    texts_seen, qs_seen = fake.calls[0]
    assert texts_seen == ["good food but bad wait", "the wait", "good food", "bad wait"]
    # Whole comments carry the rating band; clauses and unrated comments do not; the rule ignores it.
    assert qs_seen == ["Q1 [rating: very good]", "", "Q1", "Q1"]
    assert out[1].label3 == "positive" and not out[1].is_informative
    # A build trained without ratings never sees them; a length mismatch is an error.
    plain = _FakePredict()
    ModelSentimentScorer(plain, "f").score(texts, qs, ratings=ratings)
    assert plain.calls[0][1][:2] == ["Q1", ""]
    with pytest.raises(ValueError):
        ModelSentimentScorer(_FakePredict(), "f", rating_input=True).score(texts, qs, ratings=[1.0])


def test_rating_as_a_feature_breaks_ties_but_not_clear_texts():
    from pipelines.sentiment.rating import apply_rating, rating_band, rating_likelihoods

    assert [rating_band(v) for v in (1.0, 0.7, 0.5, 0.2, 0.0, None)] == [0, 1, 2, 3, 4, None]
    # Counted on rated examples (add-one smoothed), rows = labels, columns = bands (very good first).
    rated = [Example(f"e{i}", "", "t", 2, 4, rating=1.0) for i in range(18)]
    rated += [Example(f"n{i}", "", "t", 0, 0, rating=0.0) for i in range(18)]
    rated += [Example("u", "", "t", 1, 2, rating=None), Example("w", "", "t", 1, None, rating=1.0)]
    table = rating_likelihoods(rated)
    assert np.allclose(np.sum(table, axis=1), 1.0)
    assert table[4][0] == pytest.approx(19 / 23) and table[2] == pytest.approx([0.2] * 5)
    clear = [0.0, 0.0, 0.02, 0.18, 0.8]
    unsure = [0.1, 0.25, 0.3, 0.25, 0.1]
    out = apply_rating(np.array([clear, unsure, unsure]), [0.0, 0.0, None], table)
    assert out[0][3:].sum() > 0.5  # clear praise stays praise under "very poor"
    assert out[1][:2].sum() > out[1][3:].sum()  # an unsure text leans to the rating
    assert np.allclose(out[2], unsure)  # no rating, no change
    with pytest.raises(ValueError):
        apply_rating(np.array([clear]), [1.0, 0.0], table)


def test_scorer_combines_whole_comments_with_the_rating_feature():
    poor_first = [[0.9 if b == 4 else 0.025 for b in range(5)], *[[0.2] * 5] * 3]
    table = [*poor_first, [0.9 if b == 0 else 0.025 for b in range(5)]]
    texts = ["good and bad wait", "good and bad wait", "good food but bad wait"]
    fake = _FakePredict()
    scorer = ModelSentimentScorer(fake, "f", rating_likelihoods=table)
    out = scorer.score(texts, ["Q"] * 3, ratings=[0.0, None, 0.0])
    # The model reads the text only; the rating tips the undecided text, not the unrated one.
    assert fake.calls[0][1] == ["Q"] * 4  # the repeated comment is predicted once
    assert (out[0].label3, out[1].label3) == ("negative", "positive")
    assert out[2].is_mixed  # the clauses are judged on their own words
    with pytest.raises(ValueError):
        ModelSentimentScorer(_FakePredict(), "f", rating_likelihoods=table).score(texts, ratings=[1.0])


def test_rating_segment():
    from pipelines.sentiment.rating import keeps_rating, rating_value, rating_words, with_rating

    assert [rating_value("fft", r) for r in (1, 2, 3, 4, 5, 6)] == [1.0, 0.75, 0.5, 0.25, 0.0, None]
    assert rating_value("nps", 9) == pytest.approx(0.9)
    assert rating_value("hcahps", 10) == 1.0
    assert rating_value("stars", 1) == 0.0
    assert rating_value("none", None) is None and rating_value("nps", None) is None
    assert [rating_words(v) for v in (1.0, 0.75, 0.5, 0.25, 0.0)] == [
        "very good", "good", "neither good nor poor", "poor", "very poor"]  # fmt: skip
    assert (
        rating_words(0.9) == "very good"
        and rating_words(0.7) == "good"
        and rating_words(0.6) == "neither good nor poor"
    )
    assert rating_words(None) is None and rating_words(float("nan")) is None
    assert with_rating("How could we improve?", 1.0) == "How could we improve? [rating: very good]"
    assert with_rating(None, 0.0) == "[rating: very poor]"
    assert with_rating("Q", None) == "Q"
    kept = sum(keeps_rating(f"id-{i}", 0.5) for i in range(2000))
    assert 900 < kept < 1100
    assert all(keeps_rating(f"id-{i}", 0.0) for i in range(50))


def test_mixed_rules():
    texts = ["good food but bad wait", "good food and a good wait", "good and bad all at once"]
    by_clause = ModelSentimentScorer(_FakePredict(), "f", mixed_rule="clauses").score(texts)
    assert [s.is_mixed for s in by_clause] == [True, False, False]  # one clause only in the last
    by_prob = ModelSentimentScorer(_FakePredict(), "f", mixed_rule="probability").score(texts)
    assert [s.is_mixed for s in by_prob] == [True, False, True]
    with pytest.raises(ValueError):
        ModelSentimentScorer(_FakePredict(), "f", mixed_rule="vibes")


def test_model_scorer_model_mode_and_validation():
    fake = _FakePredict()
    scorer = ModelSentimentScorer(fake, "fake-1", noncontent="model", pair_input=False)
    out = scorer.score(["Nothing", "good"])
    assert out[0].is_informative is False and out[0].label3 == "neutral"
    assert fake.calls[0][1] is None  # text-only models get no questions
    with pytest.raises(ValueError):
        scorer.score(["a", "b"], ["q"])
    assert scorer.score([]) == []


def test_load_scorer_missing_default_says_what_to_run(tmp_path):
    settings = Settings.from_env({"FEEDBACK_HOME": str(tmp_path), "FEEDBACK_MODELS_DIR": str(tmp_path / "models")})
    with pytest.raises(SentimentModelError, match="make models"):
        load_scorer(settings)
    with pytest.raises(SentimentModelError, match="no such model directory"):
        load_scorer(settings.with_(sentiment_model=str(tmp_path / "nope")))


def test_score_pending_writes_comments_and_clauses(tmp_path, monkeypatch):
    from datetime import UTC, datetime
    from pathlib import Path

    import pipelines.sentiment.scorer as scorer_module
    from pipelines.sentiment.stage import score_pending
    from pipelines.warehouse import apply_schema, connect

    root = Path(__file__).resolve().parents[2]
    settings = Settings.from_env(
        {
            "FEEDBACK_HOME": str(tmp_path),
            "FEEDBACK_SQL_DIR": str(root / "sql"),
            "FEEDBACK_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        }
    )
    fake = _FakePredict()
    monkeypatch.setattr(scorer_module, "load_scorer", lambda s: ModelSentimentScorer(fake, "fake-1", rating_input=True))
    rows = [("a", "What was good?", "good food but bad wait", 0.25), ("b", "What could we improve?", "Nothing", 1.0),
            ("c", None, "good care", None)]  # fmt: skip
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with connect(settings) as con:
        apply_schema(con, settings)
        for fid, question, text, rating in rows:
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, question, text, "
                "rating_value, record_hash, batch_id, ingested_at) "
                "values (?, 'survey', 'test', ?, ?, ?, ?, 'h', 'b', ?)",
                [fid, fid, question, text, rating, now],
            )
            con.execute("insert into enrich.redactions values (?, 'h', ?, '{}', 'r1', ?)", [fid, text, now])
        first = score_pending(settings, con)
        assert {k: first[k] for k in ("scored", "clauses", "model_version")} == {
            "scored": 3,
            "clauses": 3,
            "model_version": "fake-1",
        }
        # Computed as one partition in this process; its files are gone once loaded.
        assert (first["partitions"]["partitions"], first["partitions"]["rows"]) == (1, 3)
        assert not (tmp_path / "partitions").exists()
        sentiment = con.execute(
            "select feedback_id, label3, is_informative, is_mixed, model_version from enrich.sentiment order by 1"
        ).fetchall()
        aspects = con.execute("select feedback_id, clause_idx, clause_text, label3 from enrich.aspects order by 1, 2")
        aspects = aspects.fetchall()
        # Nothing new to score: incremental.
        assert score_pending(settings, con) == {"scored": 0, "model_version": "fake-1"}
    assert sentiment == [
        ("a", "positive", True, True, "fake-1"),
        ("b", "positive", False, False, "fake-1"),
        ("c", "positive", True, False, "fake-1"),
    ]
    # Non-informative "Nothing" has no clauses; the single-clause comment reuses its own score.
    assert aspects == [
        ("a", 0, "good food", "positive"),
        ("a", 1, "bad wait", "negative"),
        ("c", 0, "good care", "positive"),
    ]
    # Comments (+ clauses for the mixed flag) in one call; the aspect clauses were predicted then
    # (same question and words), and "good care" is one clause: nothing is predicted twice.
    assert [texts for texts, _ in fake.calls] == [["good food but bad wait", "good care", "good food", "bad wait"]]
    # The warehouse rating (rating_value) goes with the whole comment, not with its clauses.
    assert fake.calls[0][1] == ["What was good? [rating: poor]", "", "What was good?", "What was good?"]
