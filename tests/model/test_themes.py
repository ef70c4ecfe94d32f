"""Behavioural tests of the theme stage on a few hundred human-coded comments (MiniLM + BERTopic).

One module-scoped refit (~300 clauses) feeds most checks; the others add a daily run, a shuffled
refit and a taxonomy edit on the same small warehouse. Runs in about a minute on 2 cores.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import bertopic  # a pinned requirement: missing, these tests fail rather than skip
import numpy as np
import pytest

from benchmarks.themes import bench_settings, load_comments, load_labelled
from pipelines import warehouse
from pipelines.config import Settings
from pipelines.themes import stage as themes
from pipelines.themes.model import load_config, stop_words

ROOT = Path(__file__).resolve().parents[2]
N_FIT, N_DAILY = 220, 30
# Fewer KeyBERT candidate words keep the test quick; everything else is the shipped config.
FAST = {"representation": {"candidate_words": 20, "samples": 100}}


def _assignments(con, settings):
    frame = warehouse.run_sql(con, settings, "queries/benchmarks/themes_comment_themes").df()
    frame = frame[frame["theme_rank"] == 1]
    return {
        (f, int(i)): (t if isinstance(t, str) else None)
        for f, i, t in zip(frame["feedback_id"], frame["clause_idx"], frame["theme_id"], strict=True)
    }


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    rows = load_labelled(ROOT / "models" / "themes" / "eval" / "themes_labelled.jsonl")
    rows = rows[: N_FIT + N_DAILY]
    base = Settings.from_env().with_(models_dir=ROOT / "models")
    settings = bench_settings(base, tmp_path_factory.mktemp("themes"), FAST)
    con_cm = warehouse.connect(settings)
    con = con_cm.__enter__()
    warehouse.apply_schema(con, settings)
    comments = [(r["id"], r["text"]) for r in rows]
    load_comments(settings, con, comments[:N_FIT])
    summary = themes.run_themes(settings, con, "fit-1", refit=True)
    state = {
        "settings": settings,
        "con": con,
        "comments": comments,
        "summary": summary,
        "first": _assignments(con, settings),
        "registry": warehouse.run_sql(con, settings, "queries/themes/registry").df(),
    }
    yield state
    con_cm.__exit__(None, None, None)


def test_refit_summary(stage):
    s = stage["summary"]
    assert s["refitted"] is True
    assert s["clauses"] >= N_FIT
    assert s["n_themes"] >= 8
    assert s["new_themes"] == s["n_themes"]


def test_outlier_share_below_ten_percent(stage):
    assert stage["summary"]["outlier_share"] < 0.10
    first = stage["first"]
    assert sum(t is None for t in first.values()) / len(first) < 0.10


def test_labels_are_short_phrases_without_stop_word_junk(stage):
    stop = set(stop_words(load_config(stage["settings"].models_dir / "themes" / "config.yaml")))
    for label, keywords in zip(stage["registry"]["label"], stage["registry"]["keywords"], strict=True):
        assert "_" not in label and 1 <= len(label.split()) <= 8, label
        words = re.findall(r"[a-z]+", label.lower())
        assert any(w not in stop for w in words), label
        kws = json.loads(keywords)
        assert kws and all(not set(k.split()) <= stop for k in kws), kws


def test_every_theme_has_a_category_or_new(stage):
    tax_ids = {c.id for c in themes.load_taxonomy(stage["settings"].models_dir / "themes" / "taxonomy.yaml")}
    reg = stage["registry"]
    assert set(reg["category_id"]) <= tax_ids | {"new"}
    assert reg["category_name"].notna().all()


def test_quotes_are_diverse_redacted_clauses(stage):
    texts = dict(
        stage["con"]
        .execute(
            "select t.theme_id, count(distinct a.clause_text) from enrich.theme_assignments t "
            "join enrich.aspects a using (feedback_id, clause_idx) where t.theme_rank = 1 group by 1"
        )
        .fetchall()
    )
    reg = stage["registry"]
    for tid, quotes in zip(reg["theme_id"], reg["quotes"], strict=True):
        q = json.loads(quotes)
        assert len(q) == len(set(q)) <= 5
        assert len(q) >= min(3, texts.get(tid, 0)), (tid, q)


def test_theme_ids_are_stable_format(stage):
    assert all(re.fullmatch(r"T\d{4}", t) for t in stage["registry"]["theme_id"])


def test_model_saved_with_manifest(stage):
    build = stage["settings"].theme_build_dir
    manifest = json.loads((build / "manifest.json").read_text())
    assert manifest["seed"] == stage["settings"].seed
    assert manifest["n_clauses"] == stage["summary"]["clauses"]
    assert manifest["versions"]["bertopic"] == bertopic.__version__
    assert list((build / "bertopic").glob("*.safetensors"))


def test_embedding_cache_hit_on_second_run(stage):
    settings, con = stage["settings"], stage["con"]
    n_cached = con.execute("select count(*) from enrich.embeddings").fetchone()[0]
    s = themes.run_themes(settings, con, "noop", refit=None)
    assert s["refitted"] is False  # fresh model: automatic mode only assigns
    assert s["clauses"] == 0 and s["embedded"] == 0
    assert con.execute("select count(*) from enrich.embeddings").fetchone()[0] == n_cached


def test_daily_run_assigns_new_clauses_without_changing_ids(stage):
    settings, con = stage["settings"], stage["con"]
    before_ids = set(warehouse.run_sql(con, settings, "queries/themes/registry").df()["theme_id"])
    load_comments(settings, con, stage["comments"][N_FIT:])
    s = themes.run_themes(settings, con, "daily-1", refit=False)
    assert s["refitted"] is False and s["clauses"] > 0
    assert s["themed"] / s["clauses"] >= 0.9
    after = _assignments(con, settings)
    changed = {k: (v, after.get(k)) for k, v in stage["first"].items() if after.get(k) != v}
    assert not changed
    assert set(warehouse.run_sql(con, settings, "queries/themes/registry").df()["theme_id"]) == before_ids
    new_keys = set(after) - set(stage["first"])
    assert new_keys and all(after[k] in before_ids or after[k] is None for k in new_keys)


def test_refit_on_shuffled_input_keeps_theme_ids(stage):
    settings, con = stage["settings"], stage["con"]
    before = _assignments(con, settings)
    shuffled = stage["comments"][:]
    random.Random(3).shuffle(shuffled)
    load_comments(settings, con, shuffled)  # same comments, rows rewritten in another order
    s = themes.run_themes(settings, con, "fit-2", refit=True)
    assert s["embedded"] == 0  # every clause text was embedded before: cache hit
    after = _assignments(con, settings)
    same = sum(after.get(k) == v for k, v in before.items()) / len(before)
    assert same >= 0.90, same
    assert s["kept_themes"] >= 0.9 * s["n_themes"]


def test_remap_taxonomy_after_renaming_a_category(stage):
    settings, con = stage["settings"], stage["con"]
    reg = warehouse.run_sql(con, settings, "queries/themes/registry").df()
    active = reg[reg["status"] == "active"]
    target = active["category_id"].value_counts().index[0]
    path = settings.models_dir / "themes" / "taxonomy.yaml"
    original = path.read_text(encoding="utf-8")
    cats = themes.load_taxonomy(path)
    old_name = next(c.name for c in cats if c.id == target)
    before = _assignments(con, settings)
    manifest_before = (settings.theme_build_dir / "manifest.json").read_text()
    try:
        edited = original.replace(f"name: {old_name}\n", "name: Renamed by the committee\n", 1)
        path.write_text(edited, encoding="utf-8")
        changed = themes.remap_taxonomy(settings, con)
        assert changed >= 1
        reg2 = warehouse.run_sql(con, settings, "queries/themes/registry").df()
        renamed = reg2[reg2["category_id"] == target]
        assert (renamed["category_name"] == "Renamed by the committee").all()
        assert _assignments(con, settings) == before  # no re-assignment, no refit
        assert (settings.theme_build_dir / "manifest.json").read_text() == manifest_before
        cats_table = con.execute("select name from enrich.theme_categories where category_id = ?", [target]).fetchone()
        assert cats_table[0] == "Renamed by the committee"
    finally:
        path.write_text(original, encoding="utf-8")


# Known clusters of clauses, each with the label a coder wrote for it, the words that name its
# topic (the label must name it) and the words that give its direction (the label must say it).
CODER_LABELLED_CLUSTERS = [
    (
        "Long wait for an ambulance",
        [
            "waited nearly seven hours for an ambulance",
            "the ambulance took forever to come",
            "my nan was on the floor for hours waiting for the ambulance",
            "long wait for the ambulance to arrive",
            "ambulance took over 5 hours",
            "we rang 999 three times and still waited hours for an ambulance",
            "the wait for an ambulance was far too long",
            "had to wait ages for an ambulance after his fall",
        ],
        {"ambulance", "ambulances", "999"},
        {"wait", "waited", "waiting", "long", "hours", "forever", "ages", "took"},
    ),
    (
        "Kind, reassuring crew",
        [
            "the crew were so kind and reassuring",
            "paramedics were lovely and kept her calm",
            "kind and caring ambulance crew",
            "the paramedic reassured me the whole way in",
            "crew were brilliant with my dad, so gentle",
            "really reassuring paramedics who put us at ease",
            "the ambulance crew were kind and patient",
            "both paramedics were caring and calm",
        ],
        {"crew", "paramedics", "paramedic", "ambulance"},
        {"kind", "reassuring", "reassured", "lovely", "caring", "calm", "gentle", "brilliant", "patient"},
    ),
    (
        "Could not get through on 111",
        [
            "could not get through on 111",
            "111 never answered, just kept ringing",
            "on hold to 111 for over an hour",
            "tried calling 111 all night and couldn't get through",
            "the 111 line was engaged for ages",
            "couldnt get through to 111 at all",
            "waited on hold forever when i phoned 111",
            "111 kept cutting me off before anyone answered",
        ],
        {"111", "phone", "phoned", "line", "calling", "through", "hold"},
        {"not", "couldn't", "couldnt", "never", "hold", "engaged", "forever", "ages", "cutting"},
    ),
    (
        "Transport did not turn up",
        [
            "transport did not turn up to take me home",
            "the hospital transport never came",
            "booked transport and it didn't show",
            "patient transport failed to turn up again",
            "transport never arrived so I missed dialysis",
            "the transport didnt come for my mum",
            "waited all day for transport that never turned up",
            "no show from the transport service",
        ],
        {"transport"},
        {"not", "never", "didn't", "didnt", "failed", "no", "show", "missed"},
    ),
    (
        "Parking charges too high",
        [
            "parking charges are far too high",
            "the car park costs a fortune",
            "extortionate parking fees for patients",
            "paying to park when you're ill is wrong",
            "parking is so expensive here",
            "the cost of parking every day adds up",
            "ridiculous prices in the car park",
            "too expensive to park at the hospital",
        ],
        {"parking", "park", "car"},
        {"charges", "high", "fortune", "extortionate", "fees", "expensive", "cost", "prices", "paying"},
    ),
    (
        "Not kept informed during the wait",
        [
            "nobody told us what was happening",
            "no updates at all while we waited",
            "we were left in the dark for hours",
            "no one kept us informed",
            "nobody updated us on how long it would be",
            "not told anything about what was going on",
            "had to keep asking at the desk for updates",
            "never told why we were waiting",
        ],
        {"told", "updates", "updated", "informed", "dark", "happening", "asking", "going"},
        {"nobody", "no", "not", "never", "dark", "asking"},
    ),
]


def test_labels_name_the_issue_and_its_direction_like_a_coder():
    from pipelines.themes.context import get_embedder
    from pipelines.themes.labels import phrase_label

    settings = Settings.from_env().with_(models_dir=ROOT / "models")
    cfg = load_config(ROOT / "models" / "themes" / "config.yaml")
    embedder = get_embedder(settings, cfg)
    stop = set(stop_words(cfg))
    used: set[str] = set()
    for coder_label, texts, topic, direction in CODER_LABELLED_CLUSTERS:
        emb = embedder.encode(texts)
        centroid = emb.mean(axis=0) / np.linalg.norm(emb.mean(axis=0))
        label = phrase_label(texts, emb, centroid, [], stop, used, encode=embedder.encode)
        assert label is not None, coder_label
        words = set(re.findall(r"[a-z0-9']+", label.lower()))
        assert 2 <= len(label.split()) <= 6, (coder_label, label)
        assert words & topic, f"{label!r} does not name the topic of {coder_label!r}"
        assert words & direction, f"{label!r} has not the direction of {coder_label!r}"
        assert label.lower() not in used
        used.add(label.lower())
        # A second theme of the same cluster in the category gets another label.
        again = phrase_label(texts, emb, centroid, [], stop, used, encode=embedder.encode)
        assert again is None or again.lower() not in used


def test_non_answers_are_stored_as_no_content_and_never_themed(stage):
    settings, con = stage["settings"], stage["con"]
    load_comments(settings, con, [("na-1", "Did not answer"), ("na-2", "N/A"), ("na-3", "Nothing. Thank you")])
    s = themes.run_themes(settings, con, "daily-na", refit=False)
    rows = con.execute(
        "select feedback_id, reason from enrich.theme_outliers where feedback_id like 'na-%' order by 1, clause_idx"
    ).fetchall()
    assert rows and {r for _, r in rows} == {"no content"}
    assert {f for f, _ in rows} == {"na-1", "na-2", "na-3"}
    themed = con.execute("select count(*) from enrich.theme_assignments where feedback_id like 'na-%'").fetchone()
    assert themed[0] == 0 and s["clauses"] == 0  # not counted as processed content clauses
    again = themes.run_themes(settings, con, "daily-na-2", refit=False)
    assert again["clauses"] == 0 and again["methods"] == {}  # nothing left pending


def test_reviewer_corrections_survive_a_bertopic_refit(stage, tmp_path):
    """Issue 14 item 5: renames, category moves and merges stay on the same stable ids after a refit.

    (Recodes, which also retrain the category classifier, are covered on a small warehouse in
    tests/unit/test_themes_review.py.)
    """
    import pandas as pd

    from pipelines.themes import review

    settings, con = stage["settings"], stage["con"]
    reg = warehouse.run_sql(con, settings, "queries/themes/review_registry").df().set_index("theme_id")
    active = reg[reg["status"] == "active"].sort_values("size", ascending=False)
    renamed, moved, merged, into = active.index[:4]
    new_cat = next(c.id for c in review.taxonomy(settings) if c.id != active.loc[moved, "category_id"])
    themes_sheet = pd.DataFrame(
        [
            {"theme_id": renamed, "new_label": "Named by the reviewers"},
            {"theme_id": moved, "new_category": new_cat},
            {"theme_id": merged, "merge_into": into},
        ]
    ).reindex(columns=list(review.THEME_COLUMNS))
    path = tmp_path / "reviewed.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        themes_sheet.fillna("").to_excel(writer, sheet_name="themes", index=False)
        pd.DataFrame(columns=list(review.COMMENT_COLUMNS)).to_excel(writer, sheet_name="comments", index=False)
    review.import_review(settings, con, path, review.taxonomy(settings), "review-1")
    s = themes.run_themes(settings, con, "fit-reviewed", refit=True)
    assert s["refitted"] is True and s["theme_corrections_version"] == 1
    after = warehouse.run_sql(con, settings, "queries/themes/review_registry").df().set_index("theme_id")
    assert after.loc[renamed, "label"] == "Named by the reviewers"
    assert after.loc[moved, "category_id"] == new_cat
    assert (after.loc[merged, "status"], after.loc[merged, "merged_into"]) == ("merged", into)
    on_merged = con.execute("select count(*) from enrich.theme_assignments where theme_id = ?", [merged]).fetchone()
    assert on_merged[0] == 0
