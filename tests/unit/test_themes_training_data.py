"""The category classifier's coded training files: shipped ones are valid and never hold held-out text.

``classifier.training`` lists coded files, each with an optional map from its codes to taxonomy ids;
files coded with the taxonomy's own ids (``models/themes/data``) need none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.themes.classifier import read_training, train, training_files, training_key
from pipelines.themes.model import DEFAULT_CONFIG, Category, load_config, load_taxonomy
from pipelines.themes.noncontent import normalise
from tests.fakes import BagEmbedder

ROOT = Path(__file__).resolve().parents[2]
THEMES = ROOT / "models" / "themes"
HELD_OUT = sorted((THEMES / "eval").glob("independent*/coded.jsonl"))


def _shipped() -> tuple[dict, list[tuple[Path, Path | None]]]:
    cfg = load_config(THEMES / "config.yaml")
    return cfg, training_files(cfg, THEMES)


def test_every_configured_training_file_ships():
    cfg, files = _shipped()
    assert len(files) == len(cfg["classifier"]["training"]) >= 6
    assert all(data.is_file() and (cmap is None or cmap.is_file()) for data, cmap in files)


def test_default_config_trains_on_the_same_files_as_the_shipped_one():
    cfg, _ = _shipped()
    assert DEFAULT_CONFIG["classifier"]["training"] == cfg["classifier"]["training"]


@pytest.mark.parametrize("folder", sorted(p.parent.name for p in (THEMES / "data").glob("*/coded.jsonl")))
def test_taxonomy_coded_files_use_only_taxonomy_ids(folder):
    ids = {c.id for c in load_taxonomy(THEMES / "taxonomy.yaml")}
    rows = [json.loads(line) for line in (THEMES / "data" / folder / "coded.jsonl").read_text().splitlines()]
    assert len(rows) >= 500
    assert all(set(r["categories"]) <= ids and len(r["categories"]) <= 3 for r in rows)
    assert all(set(r["polarity"]) == set(r["categories"]) for r in rows)
    texts = [normalise(r["text"]) for r in rows if r["categories"]]  # placeholders ("-", ".") may repeat
    assert len(set(texts)) == len(texts)


def test_no_held_out_comment_is_trained_on():
    """A held-out comment that also occurs in a training file would flatter the held-out figure.

    Short stock answers ("Good", "long wait", "it was ok", "never again") recur in every export and
    across writers, as they do in real data; a comment of six words or more is a writer's own.
    """
    _, files = _shipped()
    rows, _ = read_training(files)
    trained = {normalise(r["text"]) for r in rows}
    assert len(HELD_OUT) >= 3
    for path in HELD_OUT:
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if len(normalise(r["text"]).split()) >= 6:
                assert normalise(r["text"]) not in trained, (path.parent.name, r["id"])


def _tiny() -> list[Category]:
    return [
        Category("waiting_times", "Waiting", examples=("long wait", "waited hours")),
        Category("parking", "Parking", examples=("parking charges", "no parking spaces")),
        Category("staff_attitude", "Staff attitude", examples=("rude staff", "kind nurses")),
    ]


def test_a_training_entry_without_a_map_reads_its_codes_as_taxonomy_ids(tmp_path):
    coded = [
        {"text": "sat for hours in the waiting room", "categories": ["waiting_times"]},
        {"text": "no spaces in the car park at all", "categories": ["parking"]},
        {"text": "the nurse was rude to my mum", "categories": ["staff_attitude"]},
        {"text": "waited ages and the receptionist was rude", "categories": ["waiting_times", "staff_attitude"]},
    ] * 3
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "coded.jsonl").write_text("\n".join(json.dumps(r) for r in coded))
    cfg = {**DEFAULT_CONFIG, "classifier": {**DEFAULT_CONFIG["classifier"], "training": [{"data": "data/coded.jsonl"}]}}
    files = training_files(cfg, tmp_path)
    assert files == [(tmp_path / "data" / "coded.jsonl", None)]
    rows, cmap = read_training(files)
    assert cmap == {} and len(rows) == len(coded)
    assert training_key(_tiny(), BagEmbedder(), cfg, [f for pair in files for f in pair if f is not None])
    clf = train(_tiny(), BagEmbedder(), cfg, rows, cmap, seed=1)
    ids = [c.id for c in _tiny()]
    (labs,) = clf.labels(BagEmbedder().encode(["hours in the waiting room"]), fallback=0.3)
    assert "waiting_times" in {ids[k] for k in labs}
