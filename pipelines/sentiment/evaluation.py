"""``feedback eval sentiment``: measure a sentiment model on an organisation's own coded comments.

A coded file (CSV or JSONL) holds comment text, a coder's label (1-5, a 5-point name, or
negative/neutral/positive) and optionally the question and the respondent's rating.
:func:`evaluate_coded` scores it and returns 3-class (and, when every label is 5-point,
5-class) macro-F1, the per-class table, the confusion matrix and the rows where model and
coder disagree. :func:`simulate_reviewers` draws a learning curve: the default build learns
the first k coded rows (k = 0 .. N, the way reviewers' labels would arrive) the way
``feedback train sentiment`` does, or through a comparison head, and is scored on rows that
are never labelled. The counting is scikit-learn's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.sentiment.base import LABELS3, LABELS5, ROLLUP, SentimentScorer, label5_from_value
from pipelines.sentiment.data import Example, TrainConfig
from pipelines.sentiment.metrics import macro_f1

Log = Callable[[str], Any]


class CodedFileError(ValueError):
    """A coded file cannot be read or has unusable columns or labels."""


@dataclass
class Coded:
    """A coded file parsed once: the original rows plus the model inputs and gold labels."""

    frame: pd.DataFrame
    texts: list[str]
    questions: list[str | None] | None
    ratings: list[float | None] | None
    gold5: list[int | None]  # index in LABELS5, None where the coder gave only 3 classes
    gold3: list[int]  # index in LABELS3

    @property
    def five_point(self) -> bool:
        """True when every label is on the 5-point scale (5-class metrics are meaningful)."""
        return all(g is not None for g in self.gold5)

    def examples(self, ids: Sequence[int] | None = None) -> list[Example]:
        """Rows as training :class:`~pipelines.sentiment.data.Example` objects (id = row number)."""
        rows = range(len(self.texts)) if ids is None else ids
        return [
            Example(
                id=f"coded-{i}",
                question=(self.questions[i] or "") if self.questions else "",
                text=self.texts[i],
                label3=self.gold3[i],
                label5=self.gold5[i],
                source="coded",
                rating=self.ratings[i] if self.ratings else None,
            )
            for i in rows
        ]


def coded_from_examples(examples: Sequence[Example]) -> Coded:
    """Labelled examples as a coded file (columns id, question, text, label, rating; rating 0..1).

    ``label`` is 1-5 where the 5-point label is known, else negative/neutral/positive. Written as
    CSV, it reads back with ``--text-column text --label-column label --question-column question
    --rating-column rating --rating-scale value``.
    """
    frame = pd.DataFrame(
        {
            "id": [e.id for e in examples],
            "question": [e.question for e in examples],
            "text": [e.text for e in examples],
            "label": [str(e.label5 + 1) if e.label5 is not None else LABELS3[e.label3] for e in examples],
            "rating": ["" if e.rating is None else f"{e.rating:.4f}" for e in examples],
        }
    )
    five = all(e.label5 is not None for e in examples)
    return Coded(
        frame=frame,
        texts=[e.text for e in examples],
        questions=[e.question for e in examples],
        ratings=[e.rating for e in examples],
        gold5=[e.label5 if five else None for e in examples],
        gold3=[e.label3 for e in examples],
    )


def parse_gold(value: object) -> tuple[int | None, int]:
    """(5-point index or None, 3-class index) of a coder's label.

    Accepts 1-5, the five names ("very negative" .. "very positive") and the three classes
    ("negative", "neutral", "positive" count as 3-class labels when the file has no 1/5 or
    "very ..." labels; see :func:`read_coded`).

    Raises:
        ValueError: for anything else.
    """
    label = label5_from_value(value)
    idx = LABELS5.index(label)
    return idx, ROLLUP[idx]


def _read_table(path: Path) -> pd.DataFrame:
    # CSV (UTF-8, BOM tolerated) or JSONL, every cell as text.
    if not path.is_file():
        raise CodedFileError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
            frame = pd.DataFrame(rows)
            return frame.astype(object).where(frame.notna(), "").astype(str).replace({"None": "", "nan": ""})
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise CodedFileError(f"cannot read {path}: {exc}") from exc


def read_coded(
    path: Path,
    text_column: str,
    label_column: str,
    question_column: str | None = None,
    rating_column: str | None = None,
    rating_parser: Callable[[pd.Series], pd.Series] | None = None,
) -> Coded:
    """Read a coded CSV/JSONL; rows with a blank label are dropped (not guessed).

    ``rating_parser`` maps the raw rating column to 0..1 (1 = best, null when unscored); the
    CLI builds it from the rating scale the user names.

    Raises:
        CodedFileError: missing columns, no labelled rows, or labels that are not 1-5 or names.
    """
    frame = _read_table(path)
    for col in (text_column, label_column, question_column, rating_column):
        if col is not None and col not in frame.columns:
            raise CodedFileError(f"{path} has no column {col!r}; columns: {', '.join(map(str, frame.columns))}")
    frame = frame[frame[label_column].astype(str).str.strip() != ""].reset_index(drop=True)
    if frame.empty:
        raise CodedFileError(f"{path}: no row has a label in {label_column!r}")
    gold5, gold3, bad = [], [], []
    three_only = not frame[label_column].map(_is_five_point_only).any()
    for row, value in enumerate(frame[label_column].tolist(), start=2):
        try:
            g5, g3 = parse_gold(value)
        except ValueError:
            bad.append(f"row {row}: {value!r}")
            continue
        gold5.append(None if three_only else g5)
        gold3.append(g3)
    if bad:
        shown = "; ".join(bad[:10]) + (f"; ... ({len(bad)} in all)" if len(bad) > 10 else "")
        raise CodedFileError(f"{path}: labels must be 1-5, {', '.join(LABELS5)} or negative/neutral/positive: {shown}")
    ratings = None
    if rating_column is not None and rating_parser is not None:
        parsed = rating_parser(frame[rating_column].astype("string"))
        ratings = [None if pd.isna(v) else float(v) for v in parsed.tolist()]
    return Coded(
        frame=frame,
        texts=frame[text_column].astype(str).tolist(),
        questions=frame[question_column].astype(str).tolist() if question_column else None,
        ratings=ratings,
        gold5=gold5,
        gold3=gold3,
    )


def per_row_ratings(frame: pd.DataFrame, rating_column: str, scale_column: str) -> list[float | None]:
    """Ratings normalised to 0..1 where each row names its own scale (the labelled data's format).

    Raises:
        CodedFileError: when ``scale_column`` is missing.
    """
    from pipelines.sentiment.rating import rating_value

    if scale_column not in frame.columns:
        raise CodedFileError(f"no column {scale_column!r}; columns: {', '.join(map(str, frame.columns))}")
    out: list[float | None] = []
    for scale, raw in zip(frame[scale_column].tolist(), frame[rating_column].tolist(), strict=True):
        try:
            out.append(rating_value(str(scale).strip().lower(), float(raw)) if str(raw).strip() else None)
        except ValueError:
            out.append(None)
    return out


def _is_five_point_only(value: object) -> bool:
    # A label that exists only on the 5-point scale: 1, 2, 3, 4, 5 or "very ...".
    text = str(value).strip().lower()
    return text.startswith("very") or text.rstrip("0").rstrip(".") in {"1", "2", "3", "4", "5"}


@dataclass
class EvalResult:
    """Metrics of one model on a coded file, and the rows it disagrees on."""

    version: str
    metrics: dict[str, Any]
    per_class3: pd.DataFrame
    confusion3: pd.DataFrame
    per_class5: pd.DataFrame | None = None
    confusion5: pd.DataFrame | None = None
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)

    def table(self) -> str:
        """Plain-text report: headline metrics, per-class tables and confusion matrices."""
        m = self.metrics
        lines = [
            f"model {self.version} on {m['n']} coded comments ({m['n_informative']} informative)",
            f"3-class macro-F1 {m['macro_f1_3']:.3f}  accuracy {m['acc3']:.3f}  "
            f"negative recall {m['negative_recall']:.3f}",
        ]
        if "macro_f1_5" in m:
            lines.append(f"5-class macro-F1 {m['macro_f1_5']:.3f}  accuracy {m['acc5']:.3f}")
        lines += ["", "per class (3):", self.per_class3.to_string(), "", "confusion (rows coder, columns model):"]
        lines.append(self.confusion3.to_string())
        if self.per_class5 is not None and self.confusion5 is not None:
            lines += ["", "per class (5):", self.per_class5.to_string(), "", "confusion 5-class:"]
            lines.append(self.confusion5.to_string())
        return "\n".join(lines)


def _per_class(gold: Sequence[int], pred: Sequence[int], names: Sequence[str]) -> pd.DataFrame:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=list(range(len(names))), zero_division=0.0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=list(names)).round(3)


def _confusion(gold: Sequence[int], pred: Sequence[int], names: Sequence[str]) -> pd.DataFrame:
    from sklearn.metrics import confusion_matrix

    m = confusion_matrix(gold, pred, labels=list(range(len(names))))
    return pd.DataFrame(m, index=[f"coder {n}" for n in names], columns=list(names))


def headline_metrics(
    gold3: Sequence[int], pred3: Sequence[int], gold5: Sequence[int | None], pred5: Sequence[int]
) -> dict[str, Any]:
    """3-class accuracy, macro-F1 and negative recall; 5-class too when every gold label is 5-point."""
    from sklearn.metrics import accuracy_score, recall_score

    out: dict[str, Any] = {
        "n": len(gold3),
        "acc3": round(float(accuracy_score(gold3, pred3)), 4),
        "macro_f1_3": round(macro_f1(gold3, pred3, 3), 4),
        "negative_recall": round(float(recall_score(gold3, pred3, labels=[0], average="macro", zero_division=0.0)), 4),
    }
    if gold5 and all(g is not None for g in gold5):
        g5 = [int(g) for g in gold5 if g is not None]
        out["acc5"] = round(float(accuracy_score(g5, pred5)), 4)
        out["macro_f1_5"] = round(macro_f1(g5, pred5, 5), 4)
    return out


def evaluate_coded(coded: Coded, scorer: SentimentScorer, progress: bool = False) -> EvalResult:
    """Score a coded file and compare with the coders (the served decision, rule included)."""
    results = scorer.score(coded.texts, coded.questions, progress=progress, ratings=coded.ratings)
    pred5 = [LABELS5.index(r.label5) for r in results]
    pred3 = [LABELS3.index(r.label3) for r in results]
    metrics = headline_metrics(coded.gold3, pred3, coded.gold5, pred5)
    metrics["n_informative"] = sum(r.is_informative for r in results)
    res = EvalResult(
        version=scorer.version,
        metrics=metrics,
        per_class3=_per_class(coded.gold3, pred3, LABELS3),
        confusion3=_confusion(coded.gold3, pred3, LABELS3),
    )
    if coded.five_point:
        g5 = [int(g) for g in coded.gold5 if g is not None]
        res.per_class5 = _per_class(g5, pred5, LABELS5)
        res.confusion5 = _confusion(g5, pred5, LABELS5)
    frame = coded.frame.copy()
    frame["coder_label3"] = [LABELS3[g] for g in coded.gold3]
    frame["model_label5"] = [r.label5 for r in results]
    frame["model_label3"] = [r.label3 for r in results]
    frame["model_score"] = [round(r.score, 4) for r in results]
    frame["model_confidence"] = [round(r.confidence, 4) for r in results]
    frame["is_informative"] = [r.is_informative for r in results]
    res.disagreements = frame[[g != p for g, p in zip(coded.gold3, pred3, strict=True)]]
    return res


# --------------------------------------------------------------------------------------
# Reviewer simulation (learning curve)
# --------------------------------------------------------------------------------------
def curve_steps(n_labels: int, steps: int) -> list[int]:
    """Label counts of the curve: 0 and ``steps`` evenly spaced counts up to ``n_labels``."""
    return sorted({0, *(round(n_labels * k / steps) for k in range(1, steps + 1))})


SIM_METHODS: tuple[str, ...] = ("finetune", "head")
SIM_HELDOUT = 0.2  # share of each step's labels held out to choose the epoch (as `feedback train sentiment`)


def simulate_reviewers(  # long: the learning-curve loop with its two methods and its log line
    coded: Coded,
    build: Path,
    n_labels: int,
    *,
    steps: int = 4,
    points: Sequence[int] | None = None,
    seed: int = 13,
    method: str = "finetune",
    replay_ratio: float = 1.0,
    epochs: int | None = None,
    lr_scale: float | None = None,
    cfg: TrainConfig | None = None,
    data_dir: Path | None = None,
    log: Log = print,
) -> list[dict[str, Any]]:
    """Learning curve: teach the build the first k coded rows, score the rows never labelled.

    The coded rows are shuffled once (``seed``); the first ``n_labels`` play the reviewers'
    labels, arriving in ``steps`` equal batches (or at the label counts ``points``), and every
    row after them is the test set, the same at every step and never trained on or used for
    any choice. At each step:

    * ``finetune`` (what ``feedback train sentiment`` does): the k labels are split 80/20 by
      a hash of their row; the build's weights (not the previous step's) are fine-tuned
      further on the 80% (weight ``org_weight``) plus ``replay_ratio`` x as many shipped
      training examples, and the epoch that scores best on the 20% is kept (epoch 0 = the
      build unchanged);
    * ``head``: a logistic-regression head on the build's frozen pooled embeddings and its
      log-probabilities, trained on the k labels (3 classes), re-weights the build's
      5-class distribution per side (a per-organisation calibration).

    Raises:
        CodedFileError: when fewer than ``n_labels + 50`` rows are coded.
        ValueError: for an unknown ``method``.
    """
    from pipelines.sentiment.pointers import read_manifest

    if method not in SIM_METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(SIM_METHODS)}")
    if len(coded.texts) < n_labels + 50:
        raise CodedFileError(
            f"{len(coded.texts)} coded rows: need at least {n_labels + 50} (N labels plus 50 never-labelled test rows)"
        )
    cfg = cfg or TrainConfig(**read_manifest(build)["config"])
    order = list(range(len(coded.texts)))
    random.Random(seed).shuffle(order)
    labelled, test_ids = order[:n_labels], order[n_labels:]
    test = coded.examples(test_ids)
    base_model, tok = _load_build_model(build, cfg.max_len)
    base_probs = _predict(base_model, tok, test, cfg.max_len, cfg.rating_input)
    replay_pool: list[Example] = []
    if method == "finetune" and replay_ratio > 0:
        from pipelines.sentiment.data import collect_default_data

        replay_pool = collect_default_data(data_dir or _data_dir(build), cfg)[0]["project_train"]
    curve = []
    test_features = None
    counts = sorted({0, *points}) if points else curve_steps(n_labels, steps)
    if counts[-1] > n_labels:
        raise ValueError(f"curve points go up to {counts[-1]} labels but only {n_labels} are simulated")
    for k in counts:
        extra: dict[str, Any] = {}
        if k == 0:
            probs = base_probs
        elif method == "finetune":
            tune = {"epochs": epochs, "lr_scale": lr_scale}
            probs, extra = _finetune_step(
                build, coded.examples(labelled[:k]), test, cfg, replay_pool, replay_ratio, seed + k, tune
            )
        else:
            if test_features is None:
                test_features = head_features(_pooled(base_model, tok, test, cfg.max_len), base_probs)
            probs = _head_step(base_model, tok, coded.examples(labelled[:k]), test_features, base_probs, cfg.max_len)
        pred5, pred3 = _served(test, probs, cfg)
        point = {
            "labels": k,
            "method": method,
            **headline_metrics([e.label3 for e in test], pred3, [e.label5 for e in test], pred5),
            **extra,
        }
        curve.append(point)
        log(
            f"labels {k:>4}: 3-class macro-F1 {point['macro_f1_3']:.3f}  acc {point['acc3']:.3f}  "
            f"negative recall {point['negative_recall']:.3f}"
            + (f"  5-class macro-F1 {point['macro_f1_5']:.3f}" if "macro_f1_5" in point else "")
            + (f"  (epoch {extra['epoch']})" if "epoch" in extra else "")
            + f"  (n test {len(test)}, {method})"
        )
    return curve


def _served(test: Sequence[Example], probs: Any, cfg: TrainConfig) -> tuple[list[int], list[int]]:
    from pipelines.sentiment.metrics import served_labels

    return served_labels(test, probs, cfg.mixed_threshold, cfg.noncontent)


def _predict(model: Any, tok: Any, examples: Sequence[Example], max_len: int, rating_input: bool = False) -> Any:
    # Text-only models (cfg.rating_input false, the default) never see the rating in their input.
    from pipelines.sentiment.train import predict_torch

    return predict_torch(model, tok, examples, max_len, rating_input)


def _finetune_step(
    build: Path,
    labelled: list[Example],
    test: list[Example],
    cfg: TrainConfig,
    replay_pool: Sequence[Example],
    replay_ratio: float,
    seed: int,
    tune: dict[str, Any],
) -> tuple[Any, dict[str, Any]]:
    # Continued fine-tuning on 80% of the labels, epoch chosen on the other 20%; test probabilities.
    from pipelines.sentiment.data import split_examples
    from pipelines.sentiment.organisation import ORG_SPLIT_SALT, TUNE_EPOCHS, TUNE_LR_SCALE, continue_finetuning

    org = [replace(e, weight=cfg.org_weight, source="organisation") for e in labelled]
    org_train, org_held = split_examples(org, SIM_HELDOUT, ORG_SPLIT_SALT)
    n_replay = min(round(len(org_train) * replay_ratio), len(replay_pool))
    replay = random.Random(seed).sample(list(replay_pool), n_replay)
    tuned = continue_finetuning(
        build / "hf",
        org_train,
        org_held,
        replay,
        cfg,
        epochs=tune.get("epochs") or TUNE_EPOCHS,
        lr_scale=tune.get("lr_scale") or TUNE_LR_SCALE,
        log=lambda _m: None,
    )
    extra = {"epoch": tuned.epoch, "n_train": len(org_train), "n_heldout": len(org_held), "n_replay": n_replay}
    return _predict(tuned.model, tuned.tokenizer, test, cfg.max_len, cfg.rating_input), extra


def _pooled(model: Any, tok: Any, examples: Sequence[Example], max_len: int) -> Any:
    # The frozen pooled embedding the classification layer reads (n x hidden).
    import numpy as np
    import torch

    from pipelines.sentiment.backends import encode, length_batches, pad_batch
    from pipelines.sentiment.data import model_inputs

    tok.enable_truncation(max_length=max_len, strategy="longest_first")
    encs = encode(tok, *model_inputs(examples, rating_input=False))
    out = np.zeros((len(examples), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for batch in length_batches([len(e.ids) for e in encs]):
            arrays = pad_batch([encs[i] for i in batch])
            hidden = model.base_model(**{k: torch.from_numpy(v) for k, v in arrays.items()})
            out[batch] = hidden.pooler_output.numpy()
    return out


def head_features(pooled: Any, probs: Any) -> Any:
    """Features of the per-organisation head: pooled embedding and the model's 3-class log-probabilities."""
    import numpy as np

    side = np.stack([probs[:, 0] + probs[:, 1], probs[:, 2], probs[:, 3] + probs[:, 4]], 1)
    return np.hstack([pooled, np.log(np.clip(side, 1e-6, 1.0))])


def reweight_sides(probs5: Any, probs3: Any) -> Any:
    """5-class distribution whose side masses are ``probs3``, keeping the shape within each side."""
    import numpy as np

    out = np.array(probs5, dtype=np.float64, copy=True)
    for side, cols in enumerate(([0, 1], [2], [3, 4])):
        mass = out[:, cols].sum(1, keepdims=True)
        out[:, cols] = np.where(mass > 0, out[:, cols] / np.clip(mass, 1e-12, None), 1.0 / len(cols))
        out[:, cols] *= probs3[:, [side]]
    return out


def _head_step(model: Any, tok: Any, labelled: list[Example], test_features: Any, test_probs: Any, max_len: int) -> Any:
    # Logistic-regression head on frozen features of the labelled rows; test probabilities.
    import numpy as np
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train = head_features(_pooled(model, tok, labelled, max_len), _predict(model, tok, labelled, max_len))
    y = np.array([e.label3 for e in labelled])
    if len(set(y.tolist())) < 2:
        return test_probs
    # C chosen by 5-fold cross-validated macro-F1 when every class has 5 labels, else a strong prior.
    counts = np.bincount(y, minlength=3)
    if counts[counts > 0].min() >= 5:
        clf: Any = LogisticRegressionCV(Cs=[0.01, 0.03, 0.1, 0.3, 1.0], cv=5, scoring="f1_macro", max_iter=2000)
    else:
        clf = LogisticRegression(C=0.03, max_iter=2000)
    head = make_pipeline(StandardScaler(), clf)
    head.fit(x_train, y)
    p3 = np.zeros((len(test_probs), 3))
    p3[:, head.classes_] = head.predict_proba(test_features)
    return reweight_sides(test_probs, p3)


def _data_dir(build: Path) -> Path:
    # Shipped data live next to the build folder: models/sentiment/{build/<version>, data}.
    return build.resolve().parents[1] / "data"


def _load_build_model(build: Path, max_len: int) -> tuple[Any, Any]:
    # The build's own weights in torch, with its tokenizer (step 0 of the curve).
    from transformers import AutoModelForSequenceClassification

    from pipelines.sentiment.backends import load_tokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(build / "hf"))
    model.eval()
    return model, load_tokenizer(build / "hf" / "tokenizer.json", max_len)
