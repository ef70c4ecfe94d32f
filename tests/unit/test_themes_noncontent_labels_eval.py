"""Issue 14: non-answers never make a theme, no theme of one repeated text, coder-style labels,
the per-category classifier (multi-label) and the coded-set evaluation."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from pipelines.themes.classifier import CategoryClassifier, train
from pipelines.themes.evaluate import best_match, confusion, read_coded, split_clauses
from pipelines.themes.labels import phrase_label
from pipelines.themes.model import DEFAULT_CONFIG, Category
from pipelines.themes.noncontent import NonContent, dominated_themes, normalise
from tests.fakes import BagEmbedder


@pytest.mark.parametrize(
    "text",
    ["Did not answer", "Not answered", "N/A", "-", "no comment", "None", "see above", "Nothing",
     "Nothing.thank you", "nothing at all, thank you", "???", ""],
)  # fmt: skip
def test_non_answers_are_noncontent(text):
    assert NonContent(DEFAULT_CONFIG).is_noncontent(text)


@pytest.mark.parametrize(
    "text", ["not good", "Nothing, the nurse was rude", "excellent", "waited 5 hours", "no parking spaces"]
)
def test_answers_with_content_are_kept(text):
    assert not NonContent(DEFAULT_CONFIG).is_noncontent(text)


def test_configured_placeholder_is_recognised():
    cfg = {"noncontent": {"placeholders": ["Patient declined survey"]}}
    assert NonContent(cfg).is_noncontent("patient declined survey.")
    assert not NonContent(DEFAULT_CONFIG).is_noncontent("patient declined survey")
    assert NonContent(cfg).mask(["patient declined survey", "rude staff"]).tolist() == [False, True]


def test_theme_mostly_one_repeated_text_is_refused():
    # Theme 0: "did not answer" (two spellings, one normalised text) 85 of 100 clauses; theme 1 varied.
    keys = [normalise("Did not answer"), normalise("did not answer."), "long wait", "rude staff", "a", "b", "c"]
    weights = np.array([80, 5, 15, 10, 10, 10, 10], dtype=float)
    index = np.array([0, 0, 0, 1, 1, 1, 1])
    assert dominated_themes(index, keys, weights, 0.5) == {0: "did not answer"}
    # 50% exactly is allowed; a text repeated twice is not a repeated-text theme.
    assert dominated_themes(np.array([0, 0]), ["x", "y"], np.array([5.0, 5.0]), 0.5) == {}
    assert dominated_themes(np.array([0, 0]), ["x", "y"], np.array([2.0, 1.0]), 0.5) == {}


def test_bertopic_keeps_punctuation_so_words_are_not_glued():
    """BERTopic strips punctuation with no space ("Nothing.thank" -> "Nothingthank") when language='english'."""
    from pipelines.themes.model import _bertopic_model

    model = _bertopic_model(DEFAULT_CONFIG, 100, 8, 42, BagEmbedder(), False, False)
    assert model.language is None
    cleaned = model._preprocess_text(np.array(["Nothing.thank you", "a&e was busy"]))
    assert "Nothingthank" not in " ".join(cleaned) and "a&e" in cleaned[1]


# Clusters with the label a coder wrote for them: the label must name the issue and direction.
CODER_CLUSTERS = [
    (
        ["long wait for an ambulance", "the ambulance took 6 hours to arrive, she was on the floor",
         "waited hours for an ambulance", "long wait for an ambulance for my dad"],
        {"long wait for an ambulance"},
    ),
    (
        ["kind, reassuring crew", "the crew were kind and so reassuring", "kind reassuring paramedics",
         "crew were kind"],
        {"kind, reassuring crew", "kind reassuring crew", "crew were kind"},
    ),
    (
        ["transport did not turn up", "hospital transport did not turn up for my dialysis",
         "the transport never turned up", "transport did not turn up again"],
        {"transport did not turn up"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("texts", "expected"), CODER_CLUSTERS)
def test_labels_read_like_a_coders(texts, expected):
    emb = BagEmbedder().encode(texts)
    centroid = emb.mean(axis=0) / np.linalg.norm(emb.mean(axis=0))
    label = phrase_label(texts, emb, centroid, [], {"the", "a", "an", "for", "my", "did", "not", "were"}, set())
    assert label is not None and 2 <= len(label.split()) <= 6
    assert re.sub(r"[^a-z ]", "", label.lower()) in {re.sub(r"[^a-z ]", "", e) for e in expected}, label
    assert "nothingthank" not in label.lower()


def test_a_label_never_holds_a_redaction_placeholder():
    texts = ["we saw staff nurse [NAME] on the ward", "staff nurse [NAME] was so kind", "kind staff nurse [NAME]",
             "we saw staff nurse [NAME]", "the staff nurse was kind"]  # fmt: skip
    emb = BagEmbedder().encode(texts)
    centroid = emb.mean(axis=0) / np.linalg.norm(emb.mean(axis=0))
    label = phrase_label(texts, emb, centroid, [], {"the", "a", "was", "so", "on", "we"}, set())
    assert label is not None and "name" not in label.lower(), label
    only_redacted = ["thanks to [NAME]", "thank you [NAME]"]
    emb = BagEmbedder().encode(only_redacted)
    assert phrase_label(only_redacted, emb, emb[0], [], {"to", "you"}, set()) is None


def test_labels_are_unique_among_used_labels():
    texts = CODER_CLUSTERS[0][0]
    emb = BagEmbedder().encode(texts)
    first = phrase_label(texts, emb, emb[0], [], set(), set())
    second = phrase_label(texts, emb, emb[0], [], set(), {first.lower()})
    assert second and second.lower() != first.lower()


def _tiny_taxonomy():
    return [
        Category("waiting_times", "Waiting", examples=("long wait", "waited hours", "waited ages to be seen")),
        Category("staff_attitude", "Staff attitude", examples=("rude staff", "kind nurse", "staff were lovely")),
        Category("parking", "Parking", examples=("no parking spaces", "car park full", "parking charges")),
    ]


def test_classifier_gives_a_clause_about_two_things_both_categories(tmp_path):
    coded = [
        {"text": "waited hours and hours", "categories": ["waiting"]},
        {"text": "the nurse was rude", "categories": ["attitude"]},
        {"text": "car park was full again", "categories": ["parking"]},
        {"text": "a long wait but kind staff", "categories": ["waiting", "attitude"]},
    ] * 3
    cmap = {"waiting": ["waiting_times"], "attitude": ["staff_attitude"], "parking": ["parking"]}
    cfg = {**DEFAULT_CONFIG, "classifier": {**DEFAULT_CONFIG["classifier"], "folds": 2}}
    clf = train(_tiny_taxonomy(), BagEmbedder(), cfg, coded, cmap, seed=1)
    labs = clf.labels(BagEmbedder().encode(["long wait and rude staff", "parking charges"]), fallback=0.3)
    assert {clf.ids[k] for k in labs[0]} == {"waiting_times", "staff_attitude"}
    assert [clf.ids[k] for k in labs[1]] == ["parking"]
    clf.save(tmp_path / "c.safetensors")
    again = CategoryClassifier.load(tmp_path / "c.safetensors")
    x = BagEmbedder().encode(["long wait"])
    np.testing.assert_allclose(again.proba(x), clf.proba(x), rtol=1e-5)


def test_read_coded_csv_and_jsonl(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("id,comment,code1,code2\n1,long wait,Waiting,\n2,rude,Staff attitude;Waiting,Other\n")
    a = read_coded(csv, "comment", ["code1", "code2"])
    assert a.codes == [{"Waiting"}, {"Staff attitude", "Waiting", "Other"}] and a.ids == ["1", "2"]
    js = tmp_path / "c.jsonl"
    js.write_text("\n".join(json.dumps(r) for r in [{"id": "a", "text": "x", "codes": ["waiting", "food"]}]))
    b = read_coded(js)
    assert b.codes == [{"waiting", "food"}] and b.texts == ["x"]
    with pytest.raises(ValueError, match="text column"):
        read_coded(csv, "nope", ["code1"])


def test_best_match_f1_and_confusion():
    gold = [{"waiting"}, {"waiting", "staff"}, {"staff"}, {"food"}]
    pred = [{"waiting_times"}, {"waiting_times"}, {"staff_attitude"}, set()]
    table = best_match(gold, pred).set_index("code")
    assert table.loc["waiting", "match"] == "waiting_times" and table.loc["waiting", "f1"] == pytest.approx(1.0)
    # staff: recall 1/2, precision 1 -> F1 2/3
    assert table.loc["staff", "f1"] == pytest.approx(2 / 3)
    assert table.loc["food", "f1"] == 0.0
    conf = confusion(gold, pred)
    assert conf.loc["staff", "waiting_times"] == 1 and conf.loc["food", "(none)"] == 1


def test_split_clauses():
    assert split_clauses("lovely staff but the wait was long. Parking awful") == [
        "lovely staff",
        "the wait was long",
        "Parking awful",
    ]


def test_month_view_ranks_at_most_20_categories_with_their_themes_beneath():
    from pipelines.report.theme_report import MAX_CATEGORIES, category_groups

    themes = [
        {"theme_id": f"T{i:04d}", "label": f"theme {i}", "category": f"cat {i % 25}", "comments": 100 - i,
         "share_pct": 1.0, "negative_pct": 50.0 if i % 2 else 10.0}
        for i in range(60)
    ]  # fmt: skip
    # Distinct comments per category (the view's): fewer than the sum of its themes' when a
    # comment sits on two of them. cat 1's themes overlap least, so it ranks above cat 0.
    counts = [
        {"category_name": f"cat {c}", "comments": 200 - 3 * c + (40 if c == 1 else 0), "share_pct": 9.0,
         "negative_pct": 20.0}
        for c in range(25)
    ]  # fmt: skip
    shown, more = category_groups(themes, counts)
    assert MAX_CATEGORIES == 20 and len(shown) == 20 and more == 5
    assert [c["name"] for c in shown[:3]] == ["cat 1", "cat 0", "cat 2"]
    assert [c["comments"] for c in shown] == sorted((c["comments"] for c in shown), reverse=True)
    first = shown[1]
    assert first["name"] == "cat 0" and [t["theme_id"] for t in first["themes"]] == ["T0000", "T0025", "T0050"]
    assert first["comments"] == 200 < 100 + 75 + 50  # from the view, not the sum of its themes
    # Every theme of a shown category sits beneath it, and nowhere else.
    ids = [t["theme_id"] for c in shown for t in c["themes"]]
    assert len(ids) == len(set(ids)) and all(t["category"] == c["name"] for c in shown for t in c["themes"])


def test_specific_category_beats_general_criticism():
    # Two features: x0 = "about waiting", x1 = "negative tone". General criticism fires on tone.
    clf = CategoryClassifier(
        ids=["waiting_times", "general_criticism"],
        coef=np.array([[10.0, 0.0], [0.0, 10.0]]),
        intercept=np.array([-5.0, -5.0]),
        thresholds=np.array([0.5, 0.5]),
        meta={},
        general=np.array([False, True]),
    )
    x = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])  # waited and angry | angry only | waited
    s = clf.scores(x)
    assert s[0, 0] >= 0.5 and s[0, 1] < 0.5 and s[0, 1] < s[0, 0]  # specific wins, general capped
    assert s[1, 1] >= 0.5  # nothing specific: the general verdict stays
    assert [[clf.ids[k] for k in row] for row in clf.labels(x, fallback=0.3)] == [
        ["waiting_times"],
        ["general_criticism"],
        ["waiting_times"],
    ]
