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
# among them categories that were weakest on held-out text (continuity, impact of treatment,
# being kept informed, transport / parking).
KNOWN = [
    ("there was nowhere to park and the machines only took coins", "parking"),
    ("the hospital car to take me home never came so I was stuck on the ward", "transport"),
    ("four hours sitting in the emergency department before anyone called my name", "waiting_times"),
    ("the sandwiches were stale and there was nothing hot to eat", "food_drink"),
    ("the bathroom on the ward had not been cleaned for days", "cleanliness"),
    ("no one came to tell us what was going on while we sat there", "kept_informed"),
    # borderline (measured 2026-12-06): passes encoded alone, as here; in a batch of 10 it missed
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


@pytest.mark.parametrize(("text", "want"), KNOWN)
def test_known_clause_gets_its_category(built, text, want):
    """The clause carries its category (it carries every category that passes, as in the stage) and few others."""
    _, cfg, categories, model = built
    ids = [c.id for c in categories]
    (labs,) = model.labels(model.encoder.encode([text]), float(cfg["taxonomy"]["clause_min_score"]))
    got = {ids[k] for k in labs}
    assert want in got, sorted(got)
    assert len(got) <= 3, sorted(got)  # not by passing everything
