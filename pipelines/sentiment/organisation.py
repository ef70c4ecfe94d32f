"""``feedback train sentiment``: a new model version that has learned the organisation's reviewer labels.

The labels (:func:`pipelines.sentiment.labels.organisation_examples`) are split 80/20 by
feedback id. By default the shipped default build is fine-tuned further on the 80% with
shipped examples replayed, and the epoch that scores best on the held-out 20% is kept
(:func:`continue_finetuning`, chosen over a per-organisation head by the learning curves in
MODEL_CARD.md); ``method="retrain"`` trains from the base encoder on shipped data plus the
80%. Before and after are compared on the held-out 20% and on the shipped held-out sets.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.config import Settings
from pipelines.sentiment.build import run_build
from pipelines.sentiment.data import Example, TrainConfig, collect_default_data, split_examples
from pipelines.sentiment.metrics import score_examples
from pipelines.sentiment.pointers import DEFAULT_FILE, current_build, read_manifest, write_manifest
from pipelines.sentiment.scorer import build_scorer

ORG_SPLIT_SALT = "organisation-labels-v1"
# Continued fine-tuning from the served build: learning rate relative to the config's, epochs at most.
TUNE_LR_SCALE = 0.5
TUNE_EPOCHS = 4
EVAL_SETS: tuple[str, ...] = ("org_heldout", "project_heldout", "drugscom_test")


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
                    before = "" if b is None else f"{b:.3f}"
                    lines.append(f"{name:<22}{metric:<12}{before:>8}{self.after[name][metric]:>8.3f}")
        return "\n".join(lines)


def org_data_hash(examples: Sequence[Example]) -> str:
    """Checksum of the organisation labels used (content, not the warehouse file)."""
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda x: x.id):
        h.update(json.dumps([e.id, e.question, e.text, e.label5], ensure_ascii=False).encode())
    return h.hexdigest()


@dataclass
class TuneResult:
    """A model fine-tuned further on organisation labels, at the epoch chosen on held-out labels."""

    model: Any
    tokenizer: Any
    epoch: int  # 0 = the starting build was kept
    held_curve: list[dict[str, Any]]  # held-out metrics per epoch (0 = before tuning)
    stats: dict[str, Any]


def _held_score(metrics: dict[str, Any]) -> tuple[float, float]:
    # Which epoch wins on the held-out labels: 3-class macro-F1, then accuracy.
    return metrics["macro_f1_3"], metrics["acc3"]


def choose_epoch(curve: Sequence[dict[str, Any]]) -> int:
    """The epoch kept: best held-out 3-class macro-F1, then accuracy; the later epoch wins a tie."""
    best = max(range(len(curve)), key=lambda i: (*_held_score(curve[i]), i))
    return int(curve[best]["epoch"])


def continue_finetuning(
    init_from: Path,
    org_train: Sequence[Example],
    org_held: Sequence[Example],
    replay: Sequence[Example],
    cfg: TrainConfig,
    *,
    epochs: int = TUNE_EPOCHS,
    lr_scale: float = TUNE_LR_SCALE,
    log: Callable[[str], Any] = print,
) -> TuneResult:
    """Fine-tune the weights in ``init_from`` further on organisation labels, choose the epoch on held-out labels.

    The organisation examples (with their ``weight``) are trained together with ``replay``
    (shipped examples, so the model keeps what it knew) at ``lr_scale`` times the config's
    learning rate. Before training and after each epoch the model is measured on ``org_held``
    (the served decision); the epoch with the best 3-class macro-F1 (then accuracy; later
    epochs win ties) is kept, so epoch 0, the unchanged starting model, can win.
    """
    from pipelines.sentiment.backends import load_tokenizer
    from pipelines.sentiment.metrics import classification_metrics, served_labels
    from pipelines.sentiment.train import predict_torch, train_model

    held_tok = load_tokenizer(init_from / "tokenizer.json", cfg.max_len)
    curve: list[dict[str, Any]] = []
    kept: dict[str, Any] = {}

    def on_epoch(epoch: int, model: Any) -> None:
        probs = predict_torch(model, held_tok, org_held, cfg.max_len, cfg.rating_input)
        pred5, pred3 = served_labels(org_held, probs, cfg.mixed_threshold, cfg.noncontent)
        curve.append({"epoch": epoch, **classification_metrics(org_held, pred5, pred3)})
        log(f"  epoch {epoch}: held-out organisation labels 3-class macro-F1 {curve[-1]['macro_f1_3']:.3f}")
        if choose_epoch(curve) == epoch:  # the best so far: keep its weights
            kept["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    tune_cfg = TrainConfig(**{**asdict(cfg), "lr": cfg.lr * lr_scale, "epochs": epochs})
    model, tok, stats = train_model(
        [*org_train, *replay], tune_cfg, log=log, init_from=init_from, on_epoch=on_epoch if org_held else None
    )
    epoch = epochs
    if curve:
        epoch = choose_epoch(curve)
        model.load_state_dict(kept["state"])
    model.eval()
    return TuneResult(model, tok, epoch, curve, stats)


def _split_org(org_examples: Sequence[Example], cfg: TrainConfig, min_labels: int) -> tuple[list[Example], ...]:
    # (all, train, held-out) organisation examples, weighted and tagged for training.
    if len(org_examples) < min_labels:
        raise OrgTrainingError(
            f"only {len(org_examples)} organisation labels stored; at least {min_labels} are needed "
            "(a few hundred clearly help). Use `feedback label export` / `feedback label import` first."
        )
    org = [Example(**{**asdict(e), "weight": cfg.org_weight, "source": "organisation"}) for e in org_examples]
    org_train, org_held = split_examples(org, cfg.holdout, ORG_SPLIT_SALT)
    if not org_held or not org_train:
        raise OrgTrainingError("the organisation labels give an empty train or held-out split: label more")
    return org, org_train, org_held


def _score_current(
    build_dir: Path, backend: str, sets: dict[str, list[Example]]
) -> tuple[str, dict[str, dict[str, Any]]]:
    # Version and metrics of the model in use before the retrain (none when nothing is built).
    build = current_build(build_dir)
    if build is None:
        return "none (no model built)", {}
    scorer = build_scorer(build, backend)
    return scorer.version, {name: score_examples(scorer, sets[name]) for name in EVAL_SETS}


ORG_METHODS: tuple[str, ...] = ("finetune", "retrain")


def _replay(sets: dict[str, list[Example]], n: int, seed: int) -> list[Example]:
    # A seeded sample of shipped training examples trained alongside the organisation labels.
    pool = sets["project_train"]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def _finetune_trainer(
    start: Path, org_held: Sequence[Example], epochs: int, record: dict[str, Any]
) -> Callable[[Sequence[Example], TrainConfig, Callable[[str], Any]], tuple[Any, Any, dict[str, Any]]]:
    # A `run_build` trainer: continued fine-tuning of `start`, epoch chosen on the held-out labels.
    def trainer(examples: Sequence[Example], cfg: TrainConfig, log: Callable[[str], Any]) -> tuple[Any, Any, Any]:
        tuned = continue_finetuning(start / "hf", examples, org_held, [], cfg, epochs=epochs, log=log)
        record.update(chosen_epoch=tuned.epoch, heldout_by_epoch=tuned.held_curve)
        return tuned.model, tuned.tokenizer, {**tuned.stats, "chosen_epoch": tuned.epoch}

    return trainer


def train_with_organisation_labels(  # long: split, data, before-scores, build and the manifest record
    settings: Settings,
    org_examples: Sequence[Example],
    *,
    min_labels: int = 50,
    epochs: int | None = None,
    method: str = "finetune",
    replay_ratio: float = 1.0,
    activate: bool = True,
    config_path: Path | None = None,
    log: Callable[[str], Any] = print,
) -> OrgReport:
    """A new model version that has learned the organisation's labels; before/after on held-out labels.

    The labels are split 80/20 by feedback id. ``finetune`` (the default, chosen by the
    learning curves in MODEL_CARD.md) continues fine-tuning the shipped default build on
    the 80% (weight ``org_weight``) plus ``replay_ratio`` x as many shipped examples, at half
    the learning rate for at most ``epochs`` (default 4) epochs, and keeps the epoch that
    scores best on the held-out 20% (epoch 0 = the default unchanged). ``retrain`` trains
    from the base encoder on all shipped data plus the 80% (the first version; slow).

    Raises:
        OrgTrainingError: fewer than ``min_labels`` labels, an empty held-out split, or no
            default build to continue from.
        ValueError: for an unknown ``method``.
    """
    if method not in ORG_METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(ORG_METHODS)}")
    sent_dir = settings.models_dir / "sentiment"
    cfg = TrainConfig.from_yaml(config_path or sent_dir / "config.yaml")
    if epochs is not None and method == "retrain":
        cfg.epochs = epochs
    org, org_train, org_held = _split_org(org_examples, cfg, min_labels)
    sets, hashes = collect_default_data(sent_dir / "data", cfg)
    sets["org_train"], sets["org_heldout"] = org_train, org_held
    hashes["organisation_labels"] = org_data_hash(org)

    build_dir = settings.sentiment_build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    before_version, before = _score_current(build_dir, settings.sentiment_backend, sets)
    record: dict[str, Any] = {
        "method": method,
        "n_labels": len(org),
        "n_train": len(org_train),
        "n_heldout": len(org_held),
        "split_salt": ORG_SPLIT_SALT,
        "labels_sha256": hashes["organisation_labels"],
        "weight": cfg.org_weight,
    }
    trainer = None
    train_sets: tuple[str, ...] = ("project_train", "drugscom_train", "org_train")
    if method == "finetune":
        start = current_build(build_dir, DEFAULT_FILE)
        if start is None or read_manifest(start).get("kind") != "default":
            raise OrgTrainingError(f"no default sentiment build in {build_dir} to continue from: run `make models`")
        n_epochs = epochs or TUNE_EPOCHS
        sets["replay"] = _replay(sets, round(len(org_train) * replay_ratio), cfg.seed)
        train_sets = ("org_train", "replay")
        start_version = read_manifest(start)["version"]
        hashes["organisation_method"] = (
            f"finetune:from={start_version}:epochs={n_epochs}:lr_scale={TUNE_LR_SCALE}:replay={replay_ratio}"
        )
        record |= {
            "from_version": start_version,
            "max_epochs": n_epochs,
            "lr": cfg.lr * TUNE_LR_SCALE,
            "n_replay": len(sets["replay"]),
        }
        trainer = _finetune_trainer(start, org_held, n_epochs, record)
    result = run_build(
        build_dir,
        sets,
        hashes,
        cfg,
        prefix="org",
        kind="organisation",
        train_sets=train_sets,
        eval_sets=EVAL_SETS,
        set_current=activate,
        log=log,
        extra_manifest={"organisation": record},
        trainer=trainer,
    )
    after_scorer = build_scorer(result.folder, settings.sentiment_backend)
    after = {name: score_examples(after_scorer, sets[name]) for name in EVAL_SETS}
    manifest = read_manifest(result.folder)
    manifest["organisation"]["before_after"] = {"before_version": before_version, "before": before, "after": after}
    write_manifest(result.folder, manifest)
    return OrgReport(before_version, after_scorer.version, len(org_train), len(org_held), before, after, activate)
