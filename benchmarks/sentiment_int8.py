"""Batch-independent int8 for the sentiment model: static quantisation variants against fp32 and dynamic int8.

    python -m benchmarks.sentiment_int8 --out /tmp/speed/int8
    python -m benchmarks.sentiment_int8 --variants minmax,entropy --exclude <MatMul node>,...

For each variant: quantise the build's fp32 ONNX into ``--out``, then measure on **training texts
only** (project train + drugsCom train, minus the calibration rows): 3-class agreement with fp32
(the selection criterion), the largest probability change of a comment between being scored alone
and in a padded batch (batch independence), and comments per CPU-second on a fixed batch of 32
comments (1 thread; robust to the shared machine's load). Test sets are never read here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

VARIANTS: dict[str, dict[str, Any]] = {
    "minmax": {"method": "minmax"},
    "percentile": {"method": "percentile", "percentile": 99.999},
    "percentile9999": {"method": "percentile", "percentile": 99.99},
    "entropy": {"method": "entropy"},
    "minmax_all_matmul": {"method": "minmax", "weights_only_matmul": False},
    "minmax_int8act": {"method": "minmax", "activation_type": "int8"},
}


def fixed_batch_speed(onnx_path: Path, feed: dict[str, Any], repeats: int = 20) -> float:
    """Comments per CPU-second of one session (1 intra-op thread) on a fixed padded batch."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    f = {k: v for k, v in feed.items() if k in names}
    for _ in range(3):
        sess.run(None, f)
    best = 0.0
    for _ in range(3):
        c = time.process_time()
        for _ in range(repeats):
            sess.run(None, f)
        best = max(best, repeats * len(feed["input_ids"]) / max(time.process_time() - c, 1e-9))
    return best


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915, D103 - one experiment script
    import numpy as np

    from pipelines.sentiment.backends import OnnxPredictor, encode, load_tokenizer, pad_batch
    from pipelines.sentiment.data import TrainConfig, calibration_examples, collect_default_data, model_inputs
    from pipelines.sentiment.export import quantize_int8, quantize_int8_static
    from pipelines.sentiment.metrics import agreement3
    from pipelines.sentiment.pointers import current_build

    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=None, help="a build folder (default: build/current)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/speed/int8"))
    parser.add_argument("--variants", default="minmax,percentile,entropy")
    parser.add_argument("--exclude", default="", help="comma-separated node names to leave in fp32 (all variants)")
    parser.add_argument("--calib-project", type=int, default=300)
    parser.add_argument("--calib-drugs", type=int, default=100)
    parser.add_argument("--eval-max", type=int, default=0, help="at most this many evaluation texts (0: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    build = (args.build or current_build(root / "models/sentiment/build")).resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig.from_yaml(root / "models/sentiment/config.yaml")
    sets, _ = collect_default_data(root / "models/sentiment/data", cfg)
    tok = load_tokenizer(build / "hf" / "tokenizer.json", cfg.max_len)
    train = [*sets["project_train"], *sets.get("drugscom_train", [])]

    calib = calibration_examples(sets, [args.calib_project, args.calib_drugs])
    calib_ids = {e.id for e in calib}
    evals = [e for e in train if e.id not in calib_ids]
    if args.eval_max:
        evals = evals[:: max(1, len(evals) // args.eval_max)][: args.eval_max]
    texts, questions = model_inputs(evals, cfg.rating_input)
    ctexts, cquestions = model_inputs(calib, cfg.rating_input)
    feeds = [pad_batch([enc]) for enc in encode(tok, ctexts, cquestions)]
    print(f"calibration {len(feeds)} comments, evaluation {len(texts)} training comments")

    def predictor(path: Path) -> OnnxPredictor:
        return OnnxPredictor(path, build / "hf" / "tokenizer.json", cfg.max_len, max_batch=32, workers=1, threads=2)

    fp32_cache = args.out / "fp32_probs.npy"
    if fp32_cache.is_file() and len(np.load(fp32_cache)) == len(texts):
        fp32 = np.load(fp32_cache)
    else:
        fp32 = predictor(build / "model.onnx")(texts, questions)
        np.save(fp32_cache, fp32)

    # A fixed batch for speed: 32 training comments of about the mean length (44 tokens).
    encs = encode(tok, texts, questions)
    near = sorted(range(len(encs)), key=lambda i: (abs(len(encs[i].ids) - 44), i))[:32]
    fixed = pad_batch([encs[i] for i in near])
    # Batch independence: 64 comments alone vs in padded batches of 32 with other companions.
    probe = list(range(0, len(texts), max(1, len(texts) // 64)))[:64]

    results: dict[str, Any] = {"calibration": {"project": args.calib_project, "drugscom": args.calib_drugs}}
    variants: dict[str, Path] = {"fp32": build / "model.onnx"}
    dyn = args.out / "dynamic.onnx"
    if not dyn.is_file():
        quantize_int8(build / "model.onnx", dyn)
    variants["dynamic"] = dyn
    exclude = [x for x in args.exclude.split(",") if x]
    for name in [v for v in args.variants.split(",") if v]:
        settings = {**VARIANTS[name.split("+")[0]], "exclude_nodes": exclude}
        path = args.out / f"{name}{'-ex' + str(len(exclude)) if exclude else ''}.onnx"
        t = time.perf_counter()
        quantize_int8_static(build / "model.onnx", path, feeds, settings)
        print(f"quantised {path.name} in {time.perf_counter() - t:.0f} s")
        variants[path.stem] = path
    for name, path in variants.items():
        pred = predictor(path)
        probs = fp32 if name == "fp32" else pred(texts, questions)
        alone = np.concatenate([pred([texts[i]], [questions[i]]) for i in probe])
        # Companions: the probe rows in batches with rows shifted by one (other lengths, other padding).
        mixed_texts = [texts[i] for i in probe] + [texts[i + 1] for i in probe]
        mixed_qs = [questions[i] for i in probe] + [questions[i + 1] for i in probe]
        batched = OnnxPredictor(
            path, build / "hf" / "tokenizer.json", cfg.max_len, max_batch=32, max_tokens=10**6, workers=1
        )(mixed_texts, mixed_qs)[: len(probe)]
        drugs = np.array([e.source.startswith("drugscom") for e in evals])
        results[name] = {
            "agreement3_fp32": round(agreement3(fp32, probs), 4),
            "agreement3_fp32_project": round(agreement3(fp32[~drugs], probs[~drugs]), 4),
            "agreement3_fp32_drugscom": round(agreement3(fp32[drugs], probs[drugs]), 4),
            "mean_abs_prob_diff_fp32": round(float(np.abs(fp32 - probs).mean()), 4),
            "max_abs_prob_diff_fp32": round(float(np.abs(fp32 - probs).max()), 4),
            "batch_vs_alone_max_abs": float(np.abs(alone - batched).max()),
            "batch_vs_alone_label_flips": int((alone.argmax(1) != batched.argmax(1)).sum()),
            "per_cpu_s_fixed32": round(fixed_batch_speed(path, fixed), 1),
        }
        print(name, json.dumps(results[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
