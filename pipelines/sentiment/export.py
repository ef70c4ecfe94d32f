"""Export of a fine-tuned model: safetensors (``hf/``), ONNX fp32 and int8 ONNX (dynamic or static).

ONNX fp32 comes from the TorchScript exporter (``torch.onnx.export(..., dynamo=False)``) with
dynamic batch and sequence axes; int8 from onnxruntime's dynamic quantisation (activation scales
per run: served one comment per run) or static quantisation (activation ranges calibrated on
training rows: batch-independent, served in batches), which :mod:`pipelines.sentiment.build`
accepts only when it agrees with fp32 on held-out data.
Every temporary file of an export stays inside the folder being exported to.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def save_hf(model: Any, base: Path, hf_dir: Path) -> None:
    """Save the model as safetensors into ``hf_dir`` with the tokenizer files of ``base``."""
    hf_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(hf_dir, safe_serialization=True)
    for name in TOKENIZER_FILES:
        if (base / name).is_file():
            shutil.copy2(base / name, hf_dir / name)


def export_onnx(model: Any, path: Path, token_level: bool = False) -> None:
    """ONNX export of the model's logits (:func:`pipelines.onnx_export.export_transformer`).

    ``token_level``: logits per token (a token classifier such as the PERSON names model), so the
    logits keep the sequence axis dynamic too.
    """
    from pipelines.onnx_export import export_transformer

    export_transformer(model, path, output="logits", token_level=token_level)


@contextlib.contextmanager
def _scratch_dir(near: Path) -> Iterator[Path]:
    # onnxruntime's tools write some temporary files into the working directory (e.g.
    # `sym_shape_infer_temp.onnx` when symbolic shape inference gives up) and others into the
    # system temp dir. Run them from a scratch folder next to the output, with Python's temp
    # dir pointed there too, and delete it afterwards: nothing lands in the caller's cwd.
    scratch = Path(tempfile.mkdtemp(prefix=".quant-", dir=near))
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        with contextlib.chdir(scratch):
            yield scratch
    finally:
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(scratch, ignore_errors=True)


def quantize_int8(fp32: Path, int8: Path, per_token: bool = False) -> None:
    """Dynamic int8 quantisation of the MatMul weights, per channel.

    ``per_token``: the activations are then quantised with one scale per token instead of one per
    run (:func:`pipelines.int8.per_token`), so a comment's scores do not depend on its batch.

    Measured 3-class agreement with fp32 on held-out data (MODEL_CARD.md): onnxruntime's
    default op set (which also quantises the embedding Gather) with per-tensor weights
    96.7-96.8% (rejected), per-channel 96.6-99.1% (unstable); MatMul only + per-channel 97.6-98.5%.
    Temporary files go to a scratch folder beside ``int8`` that is removed afterwards.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fp32, int8 = fp32.resolve(), int8.resolve()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the quantiser logs one INFO line per tensor
    try:
        with _scratch_dir(int8.parent) as scratch:
            pre = scratch / "model.pre.onnx"
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
            quantize_dynamic(
                str(pre), str(int8), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
            )
            if per_token:
                import onnx

                from pipelines.int8 import per_token as rewrite

                onnx.save(rewrite(onnx.load(str(int8))), str(int8))
    finally:
        root.setLevel(level)


# Static int8 (batch-independent): settings recorded in the manifest and read back by the experiments.
STATIC_INT8_DEFAULTS: dict[str, Any] = {
    "method": "minmax",  # minmax | percentile | entropy
    "percentile": 99.999,
    "weights_only_matmul": True,  # quantise MatMuls with a constant weight; attention's score/context MatMuls stay fp32
    "exclude_nodes": [],
    "activation_type": "uint8",
}


def matmul_nodes(onnx_path: Path, const_b_only: bool = True) -> list[str]:
    """Names of the MatMul nodes of a graph (those whose second input is a constant weight, by default)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    consts = {t.name for t in model.graph.initializer}
    consts |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and (not const_b_only or n.input[1] in consts)]


def _feed_reader(feeds: Sequence[dict[str, Any]]) -> Any:
    """An onnxruntime calibration reader over ``feeds``, one feed per calibration run."""
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):
        # Read one feed at a time (CalibStridedMinMax=1): the histogram calibrators stack the
        # outputs of one collection, which fails for feeds of different lengths.
        def __init__(self) -> None:
            self._range = iter(feeds)

        def __len__(self) -> int:
            return len(feeds)

        def set_range(self, start_index: int, end_index: int) -> None:
            self._range = iter(feeds[start_index:end_index])

        def get_next(self) -> dict[str, Any] | None:
            return next(self._range, None)

    return _Reader()


def quantize_int8_static(
    fp32: Path,
    int8: Path,
    feeds: Sequence[dict[str, Any]],
    settings: dict[str, Any] | None = None,
    calibration_cache: Path | None = None,
) -> dict[str, Any]:
    """Static int8 quantisation (QDQ): per-channel weights, activation ranges fixed by calibration.

    Unlike dynamic quantisation, an activation's scale does not come from the batch being run, so a
    comment's probabilities do not depend on the comments batched with it (up to float noise).
    ``feeds`` are the calibration inputs (one ONNX feed dict each; training texts only, one comment
    per feed so padding never enters the ranges). ``calibration_cache``: a JSON file of the ranges,
    written on the first call and read on later ones (experiments that vary only the excluded
    nodes). Returns the settings used (for the manifest).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    cfg = {**STATIC_INT8_DEFAULTS, **(settings or {})}
    method = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }[cfg["method"]]
    act = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}[cfg["activation_type"]]
    fp32, int8 = fp32.resolve(), int8.resolve()
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        with _scratch_dir(int8.parent) as scratch:
            pre = scratch / "model.pre.onnx"
            quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
            nodes = matmul_nodes(pre, const_b_only=bool(cfg["weights_only_matmul"]))
            excluded = set(cfg["exclude_nodes"])
            # The histogram calibrators print a line per calibration run.
            with contextlib.redirect_stdout(io.StringIO()):
                quantize_static(
                    str(pre),
                    str(int8),
                    _feed_reader(feeds),
                    quant_format=QuantFormat.QDQ,
                    op_types_to_quantize=["MatMul"],
                    nodes_to_quantize=[n for n in nodes if n not in excluded],
                    per_channel=True,
                    activation_type=act,
                    weight_type=QuantType.QInt8,
                    calibrate_method=method,
                    extra_options={
                        # The MatMul's float output goes on to the bias Add: quantising it as well
                        # (QLinearMatMul) lost accuracy and speed; without it ORT fuses
                        # MatMulIntegerToFloat, the kernel dynamic int8 runs too.
                        "OpTypesToExcludeOutputQuantization": ["MatMul"],
                        "CalibPercentile": float(cfg["percentile"]),
                        "CalibStridedMinMax": 1,
                        "MatMulConstBOnly": bool(cfg["weights_only_matmul"]),
                    },
                    calibration_cache_path=calibration_cache,
                )
    finally:
        root.setLevel(level)
    return cfg
