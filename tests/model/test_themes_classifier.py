"""Behaviour of the category classifier built with the configured encoder (``classifier.encoder``).

The shipped config, taxonomy and coded files, copied to a scratch models folder (the classifier is
trained there, never into the shared build): plain clauses a feedback team would code one way must
get that category as their best one, and the manifest must name the encoder and its model file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.themes import bench_settings
from pipelines.config import Settings
from pipelines.themes.context import classifier_embedder, get_embedder, scorer, themes_dir
from pipelines.themes.model import load_config, load_taxonomy

ROOT = Path(__file__).resolve().parents[2]

# Clauses written for this test (not in the taxonomy examples or the coded files), one category each,
# among them the categories that were weakest on held-out text (continuity, impact of treatment,
# competence, being kept informed, transport / parking).
KNOWN = [
    ("there was nowhere to park and the machines only took coins", "parking"),
    ("the hospital car to take me home never came so I was stuck on the ward", "transport"),
    ("four hours sitting in the emergency department before anyone called my name", "waiting_times"),
    ("the sandwiches were stale and there was nothing hot to eat", "food_drink"),
    ("the bathroom on the ward had not been cleaned for days", "cleanliness"),
    ("no one came to tell us what was going on while we sat there", "kept_informed"),
    ("every appointment was with a different doctor so I had to explain it all again", "continuity"),
    ("since the knee operation I can walk the dog again without pain", "treatment_impact"),
    ("the receptionist was rude and rolled her eyes at me", "staff_attitude"),
    ("the pharmacy gave me the wrong tablets", "medication"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = Settings.from_env({"FEEDBACK_HOME": str(ROOT)}).with_(models_dir=ROOT / "models")
    settings = bench_settings(base, tmp_path_factory.mktemp("clf"))
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    model = scorer(categories, get_embedder(settings, cfg), cfg, settings)
    return settings, cfg, categories, model


def test_classifier_uses_the_configured_encoder_and_records_it(built):
    settings, cfg, _, model = built
    encoder = classifier_embedder(settings, cfg)
    assert model.encoder is not None and model.encoder.name == encoder.name
    assert model.meta["encoder"] == encoder.name
    assert model.meta["encoder_kind"] == cfg["classifier"]["encoder"]
    if cfg["classifier"]["encoder"] != "minilm":  # the ONNX file is pinned by its hash
        assert len(model.meta["encoder_sha256"]) == 64 and model.meta["encoder_sha256"][:10] in encoder.name


def test_known_clauses_get_their_category(built):
    """Each clause carries its category (a clause carries every category that passes, as in the stage)."""
    _, cfg, categories, model = built
    ids = [c.id for c in categories]
    labels = model.labels(model.encoder.encode([t for t, _ in KNOWN]), float(cfg["taxonomy"]["clause_min_score"]))
    got = {text: {ids[k] for k in labs} for (text, _), labs in zip(KNOWN, labels, strict=True)}
    missed = {t: (want, sorted(got[t])) for t, want in KNOWN if want not in got[t]}
    assert not missed, missed
    # ... and not by passing everything: a one-topic clause carries few categories.
    assert all(len(g) <= 3 for g in got.values()), got
