"""Fast checks of the sentiment module: rules, label mapping, scorer plumbing (no model)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pipelines.config import Settings
from pipelines.sentiment.scorer import (
    LABELS3,
    LABELS5,
    ModelSentimentScorer,
    Sentiment,
    SentimentModelError,
    SentimentScorer,
    is_informative,
    label3_of,
    label5_from_value,
    label_matrix,
    length_batches,
    load_scorer,
    noncontent_label,
    question_kind,
    sentiment_from_probs,
    split_clauses,
)


def test_import_is_light():
    # The pipeline imports this module in Airflow tasks: no heavy ML import at module level.
    heavy = "{'torch', 'transformers', 'onnxruntime', 'numpy'}"
    code = f"import sys, pipelines.sentiment.scorer; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    ["Nothing", "nothing.", "N/A", "n/a", "-", "no", "No.", "none", "None!", "all good", "All good :)", "fine",
     "", "   ", "...", "?", "no comment", "Can't think of anything", "nothing really", "everything", "nope",
     "nothing at this time, thanks", "not sure", "See attached letter.", "n/a for me", "no other comments to make",
     "nothing springs to mind right now", "all fine ta", "very satisfied"],
)
def test_non_informative(text):
    assert not is_informative(text)


@pytest.mark.parametrize(
    "text",
    ["Nothing, the nurse was rude", "No one answered the phone", "Fine dining it was not", "staff were lovely",
     "Everything was explained clearly by the consultant", "none of the doctors listened", "waited 5 hours",
     "not good", "Not happy at all", "excellent", "rubbish", "nothing was too much trouble for the nurses",
     "Nothing, it was all explained well by the surgeon, thanks"],
)
def test_informative(text):
    assert is_informative(text)


@pytest.mark.parametrize(
    ("question", "kind"),
    [("What could we improve?", "improve"), ("What could we have done better?", "improve"),
     ("Is there anything that would have made your experience better?", "improve"),
     ("What was good about your visit?", "good"), ("What did we do well?", "good"),
     ("What went well during your care?", "good"), ("Any other comments?", "other"), (None, "other"), ("", "other"),
     ("Is there anything else you would like to tell us?", "other"), ("Your suggestion", "other"),
     ("Ideas to improve our service", "improve"), ("Why did you give this score?", "other")],
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
