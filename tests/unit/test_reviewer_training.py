"""Reviewer simulation and `feedback train sentiment` on a tiny random BERT: the test rows of the
learning curve are never trained on or used for a choice, and an organisation build records its
method, label count and label hash and starts from the default build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.sentiment.base import LABELS5, ROLLUP
from pipelines.sentiment.data import Example
from pipelines.sentiment.evaluation import Coded, simulate_reviewers

ROOT = Path(__file__).resolve().parents[2]


def _tiny_build(folder: Path, version: str = "default-tiny") -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    from pipelines.sentiment.export import export_onnx
    from pipelines.sentiment.train import base_model_path

    torch.manual_seed(0)
    build = folder / version
    (build / "hf").mkdir(parents=True)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=5,
        id2label=dict(enumerate(LABELS5)),
        label2id={n: i for i, n in enumerate(LABELS5)},
    )
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(build / "hf")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy2(Path(base_model_path()) / name, build / "hf" / name)
    export_onnx(model, build / "model.onnx")
    manifest = {
        "version": version,
        "kind": "default",
        "config": {"max_len": 32, "epochs": 1, "batch_size": 8},
        "quantization": {"accepted": False},
        "serving": {"mixed_threshold": 0.2, "noncontent": "rule"},
    }
    (build / "manifest.json").write_text(json.dumps(manifest))
    (folder / "default").write_text(version + "\n")
    return build


WORDS = ["lovely staff", "awful wait", "fine visit", "rude nurse", "great crew", "slow phone", "kind doctor"]


def _coded(n: int) -> Coded:
    import pandas as pd

    texts = [f"{WORDS[i % len(WORDS)]} number {i}" for i in range(n)]
    gold5 = [(i * 3) % 5 for i in range(n)]
    return Coded(
        frame=pd.DataFrame({"text": texts}),
        texts=texts,
        questions=["Any comments?"] * n,
        ratings=None,
        gold5=gold5,
        gold3=[ROLLUP[g] for g in gold5],
    )


@pytest.mark.parametrize("method", ["finetune", "head"])
def test_simulation_never_trains_or_chooses_on_the_test_rows(tmp_path, monkeypatch, method):
    import pipelines.sentiment.evaluation as evaluation
    import pipelines.sentiment.train as train

    build = _tiny_build(tmp_path)
    trained: list[str] = []
    chosen_on: list[str] = []  # rows scored while training runs: the epoch choice
    in_training = []
    real_train, real_predict, real_head = train.train_model, train.predict_torch, evaluation._head_step

    def recording_train(examples, cfg, **kwargs):
        trained.extend(e.text for e in examples)
        in_training.append(True)
        try:
            return real_train(examples, cfg, **kwargs)
        finally:
            in_training.pop()

    def recording_predict(model, tok, examples, max_len, rating_input=True):
        if in_training:
            chosen_on.extend(e.text for e in examples)
        return real_predict(model, tok, examples, max_len, rating_input)

    def recording_head(model, tok, labelled, test_features, test_probs, max_len):
        trained.extend(e.text for e in labelled)
        return real_head(model, tok, labelled, test_features, test_probs, max_len)

    monkeypatch.setattr(train, "train_model", recording_train)
    monkeypatch.setattr(train, "predict_torch", recording_predict)
    monkeypatch.setattr(evaluation, "_head_step", recording_head)
    coded = _coded(80)
    curve = simulate_reviewers(coded, build, 30, steps=2, method=method, replay_ratio=0.0, log=lambda _m: None)
    assert [p["labels"] for p in curve] == [0, 15, 30]
    assert all(p["n"] == 50 for p in curve) and all(p["method"] == method for p in curve)
    # The same 50 test rows at every step: the rows after the first 30 of the seeded shuffle.
    import random

    order = list(range(80))
    random.Random(13).shuffle(order)
    test_texts = {coded.texts[i] for i in order[30:]}
    assert trained and not test_texts & set(trained)
    assert not test_texts & set(chosen_on)
    if method == "finetune":
        assert all("epoch" in p for p in curve[1:]) and chosen_on
        assert not set(chosen_on) & set(trained)  # held-out labels are not trained on


def test_simulation_rejects_unknown_method_and_short_files(tmp_path):
    from pipelines.sentiment.evaluation import CodedFileError

    with pytest.raises(ValueError, match="unknown method"):
        simulate_reviewers(_coded(80), tmp_path, 10, method="magic")
    with pytest.raises(CodedFileError, match="never-labelled"):
        simulate_reviewers(_coded(40), tmp_path, 10)


def test_train_sentiment_continues_from_the_default_and_records_the_labels(tmp_path):
    from pipelines.config import Settings
    from pipelines.sentiment.organisation import org_data_hash, train_with_organisation_labels
    from pipelines.sentiment.pointers import current_build, read_manifest

    models = tmp_path / "models"
    sent = models / "sentiment"
    sent.mkdir(parents=True)
    (sent / "data").symlink_to(ROOT / "models" / "sentiment" / "data", target_is_directory=True)
    config = (ROOT / "models" / "sentiment" / "config.yaml").read_text(encoding="utf-8")
    (sent / "config.yaml").write_text(config.replace("use_drugscom: true", "use_drugscom: false"), encoding="utf-8")
    _tiny_build(sent / "build")
    settings = Settings.from_env({"FEEDBACK_HOME": str(tmp_path), "FEEDBACK_MODELS_DIR": str(models)})
    org = [
        Example(id=f"f{i}", question="What could we improve?", text=f"{WORDS[i % 7]} {i}", label3=ROLLUP[i % 5],
                label5=i % 5, source="organisation")
        for i in range(60)
    ]  # fmt: skip
    report = train_with_organisation_labels(settings, org, min_labels=50, epochs=1, log=lambda _m: None)
    build = current_build(settings.sentiment_build_dir)
    assert build is not None and build.name.startswith("org-") and report.activated
    record = read_manifest(build)["organisation"]
    assert record["method"] == "finetune" and record["from_version"] == "default-tiny"
    assert record["n_labels"] == 60 and record["labels_sha256"] == org_data_hash(org)
    assert record["n_train"] + record["n_heldout"] == 60 and record["n_replay"] == record["n_train"]
    assert record["chosen_epoch"] in (0, 1) and len(record["heldout_by_epoch"]) == 2
    assert "org_heldout" in report.after and report.n_org_heldout == record["n_heldout"]
