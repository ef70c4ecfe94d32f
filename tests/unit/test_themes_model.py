"""Pure functions of the theme stage: taxonomy, labels, quotes, registry matching, categories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.themes.model import (
    DEFAULT_CONFIG,
    Category,
    FitResult,
    KeywordExtractor,
    PhraseAnalyzer,
    ThemesError,
    Topic,
    assign_nearest,
    assign_within_categories,
    clean_keywords,
    enforce_categories,
    load_config,
    load_taxonomy,
    make_label,
    match_registry,
    mmr_select,
    normalize_rows,
    preprocess,
    secondary_themes,
    stop_words,
    taxonomy_hash,
    vote_categories,
)

ROOT = Path(__file__).resolve().parents[2]


def _unit(*rows: list[float]) -> np.ndarray:
    return normalize_rows(np.array(rows, dtype=np.float32))


def test_load_taxonomy_reads_categories(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text(
        "categories:\n"
        "  - {id: parking, name: Car parking, group: Access, seed_terms: [car park], examples: [no spaces]}\n"
        "  - {id: food, name: Food}\n",
        encoding="utf-8",
    )
    cats = load_taxonomy(path)
    assert [c.id for c in cats] == ["parking", "food"]
    assert cats[0].seed_terms == ("car park",) and cats[0].examples == ("no spaces",)
    assert len(taxonomy_hash(cats)) == 12


@pytest.mark.parametrize(
    "body",
    [
        "categories:\n  - {id: a, name: A}\n  - {id: a, name: B}\n",
        "categories:\n  - {id: new, name: New}\n",
        "categories: []\n",
        "categories:\n  - {name: no id}\n",
    ],
)
def test_load_taxonomy_rejects_bad_files(tmp_path, body):
    path = tmp_path / "tax.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ThemesError):
        load_taxonomy(path)


def test_shipped_taxonomy_is_valid():
    cats = load_taxonomy(ROOT / "models" / "themes" / "taxonomy.yaml")
    assert 15 <= len(cats) <= 40
    assert all(c.description for c in cats if c.id != "other")


def test_clean_keywords_drops_stop_words_and_duplicates():
    stop = set(stop_words(load_config(ROOT / "models" / "themes" / "config.yaml")))
    kws = clean_keywords(["the", "to and", "car park", "car park", "parking", "was the", "ok"], stop)
    assert kws == ["car park", "parking"]


def test_make_label_is_a_short_phrase():
    assert make_label(["car park", "parking", "spaces", "pay machine"]) == "Car park, spaces"
    assert make_label(["waiting", "hours", "wait"]) == "Waiting, hours"
    assert make_label([]) == "Unlabelled theme"
    label = make_label(["long wait", "waiting room", "hours", "triage"])
    assert "_" not in label and len(label.split()) <= 5


def test_preprocess_removes_redaction_placeholders():
    assert "name" not in preprocess("Dr [NAME] rang [PHONE] about it").split()


def test_match_registry_keeps_ids_and_absorbs_splits():
    old = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    new = _unit([0.98, 0.05, 0], [0, 0.99, 0.05], [0.9, 0.1, 0.0], [0.5, 0.5, 0.7])
    matched = match_registry(old, new, match_threshold=0.8, absorb_threshold=0.85)
    assert matched[0] == 0 and matched[1] == 1
    assert matched[2] == 0  # a split of theme 0 keeps its id
    assert matched[3] is None  # genuinely new


def test_match_registry_respects_absorb_mask():
    old = _unit([1, 0, 0])
    new = _unit([1, 0, 0], [0.95, 0.05, 0])
    allowed = np.array([[True], [False]])
    assert match_registry(old, new, 0.8, 0.85, allowed) == [0, None]


def test_match_registry_empty_registry():
    assert match_registry(np.zeros((0, 3)), _unit([1, 0, 0]), 0.8, 0.9) == [None]


def test_mmr_select_prefers_diverse_rows():
    centroid = _unit([1, 1, 0])[0]
    emb = _unit([1, 1, 0.1], [1, 1, 0.12], [1, 0.6, 0.5], [0, 0, 1])
    chosen = mmr_select(centroid, emb, n=2, diversity=0.7, candidates=4)
    assert chosen[0] == 0 and 1 not in chosen  # the near-duplicate of the first pick is skipped


def test_assign_nearest_threshold():
    cents = _unit([1, 0], [0, 1])
    best, score = assign_nearest(_unit([0.9, 0.1], [0.7, 0.7], [-1, 0.01]), cents, threshold=0.5)
    assert best.tolist() == [0, 0, -1]
    assert score[0] > 0.9


def test_vote_categories_marks_unknown_topics_new():
    topic = np.array([0, 0, 0, 1, 1, 1])
    cat = np.array([2, 2, 1, -1, -1, 0])
    assert vote_categories(topic, cat, [0, 1], new_share=0.5) == {0: 2, 1: -1}


def test_enforce_categories_makes_topics_pure():
    cats = [Category("a", "Alpha"), Category("b", "Beta"), Category("c", "Gamma")]
    emb = _unit([1, 0, 0], [1, 0.1, 0], [0.9, 0.2, 0], [0, 1, 0], [0.1, 1, 0], [0, 0, 1])
    texts = ["alpha one", "alpha two", "beta stray", "beta one", "beta two", "gamma lone"]
    fit = FitResult(
        topic_of_doc=np.array([0, 0, 0, 1, 1, -1]),
        method_of_doc=np.array(["bertopic"] * 5 + ["outlier"], dtype=object),
        topics={0: Topic(0, np.array([0, 1, 2]), ["alpha"]), 1: Topic(1, np.array([3, 4]), ["beta"])},
    )
    clause_cat = np.array([0, 0, 1, 1, 1, 2])
    topic_cat = enforce_categories(fit, emb, clause_cat, cats, KeywordExtractor(texts, DEFAULT_CONFIG), 0.5)
    assert fit.topic_of_doc.tolist()[:5] == [0, 0, 1, 1, 1]
    assert fit.method_of_doc[2] == "taxonomy"
    new_topic = fit.topic_of_doc[5]
    assert new_topic not in (0, 1) and topic_cat[new_topic] == 2
    assert fit.topics[new_topic].label == "Gamma"
    assert topic_cat[0] == 0 and topic_cat[1] == 1


def test_phrase_analyzer_never_spans_stop_words_or_punctuation():
    analyzer = PhraseAnalyzer(stop_words(load_config(ROOT / "models" / "themes" / "config.yaml")))
    tokens = analyzer("It was terrible, good nurses though. Long wait in A&E - [NAME] rang the car park")
    assert "terrible good" not in tokens and "wait long" not in tokens
    assert {"good nurses", "long wait", "car park", "a&e"} <= set(tokens)
    assert "name" not in tokens and "the" not in tokens


def test_a_redaction_placeholder_is_a_phrase_boundary():
    """ "Dr [NAME] dealt with it" must not give "dr dealt": the final scan reads it as a doctor's name."""
    analyzer = PhraseAnalyzer(stop_words(load_config(ROOT / "models" / "themes" / "config.yaml")))
    tokens = analyzer("Dr [NAME] dealt with my mum, nurse [NAME] explained everything")
    assert "dr dealt" not in tokens and "nurse explained" not in tokens
    assert {"dr", "dealt", "nurse", "explained"} <= set(tokens)


def test_label_phrases_prefer_shared_two_word_phrases():
    texts = ["long wait in a&e", "a long wait again", "long wait to be seen", "food was cold", "cold food"]
    kx = KeywordExtractor(texts, load_config(ROOT / "models" / "themes" / "config.yaml"))
    assert kx.label_phrases(np.array([0, 1, 2]))[0] == "long wait"
    assert "food" in kx.keywords(np.array([3, 4]))


def test_assign_within_categories_stays_in_category():
    cents = _unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0])
    theme_cat = np.array([0, 1, 1])
    emb = _unit([1, 0, 0], [0, 1, 0], [0, 0, 1])
    best, _ = assign_within_categories(emb, np.array([1, 1, -1]), cents, theme_cat, threshold=0.5)
    assert best.tolist() == [1, 2, -1]  # row 0 is closest to theme 0 but belongs to category 1


def test_assign_within_categories_hysteresis_keeps_previous_theme():
    cents = _unit([1, 0.05, 0], [1, 0, 0])
    emb = _unit([1, 0.01, 0])
    theme_cat = np.array([0, 0])
    best, _ = assign_within_categories(emb, np.array([0]), cents, theme_cat, 0.3)
    assert best.tolist() == [1]
    kept, _ = assign_within_categories(
        emb, np.array([0]), cents, theme_cat, 0.3, previous=np.array([0]), sticky_margin=0.03
    )
    assert kept.tolist() == [0]


def test_secondary_themes_for_two_category_clauses():
    cents = _unit([1, 0], [0, 1])
    theme_cat = np.array([0, 1])
    emb = _unit([1, 1], [1, 0])
    scores = np.array([[0.60, 0.58], [0.60, 0.20]], dtype=np.float32)
    second, _ = secondary_themes(emb, scores, np.array([0, 0]), cents, theme_cat, margin=0.05, min_score=0.3)
    assert second.tolist() == [1, -1]


def test_each_warehouse_keeps_its_own_theme_model(settings) -> None:
    # Two warehouses with the same models folder (a second trust, a benchmark, a test) used to share
    # models/themes/build: a fit on one replaced the other's model, its age and its version.
    import dataclasses
    import json

    from pipelines.themes.context import read_manifest

    other = dataclasses.replace(settings, warehouse=settings.warehouse.with_name("trust_b.duckdb"))
    assert other.models_dir == settings.models_dir
    assert settings.theme_build_dir != other.theme_build_dir
    assert not settings.theme_build_dir.is_relative_to(settings.models_dir)
    settings.theme_build_dir.mkdir(parents=True)
    (settings.theme_build_dir / "manifest.json").write_text(json.dumps({"model_version": "themes-a"}), encoding="utf-8")
    assert read_manifest(settings) == {"model_version": "themes-a"}
    assert read_manifest(other) is None  # trust B has fitted nothing: it refits, never records A's version
