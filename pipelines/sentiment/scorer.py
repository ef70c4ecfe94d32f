"""Question-aware sentiment for patient feedback: 5-point label, mixed flag, clauses.

The shipped default is all-MiniLM-L6-v2 fine-tuned as a **sentence-pair classifier on
(question, answer)**: "Nothing" answering "What could we improve?" is praise, answering
"What was good?" it is criticism. ``make models`` builds it from ``models/sentiment/``
(see its MODEL_CARD.md) into ``models/sentiment/build/<version>/``; the file
``build/current`` names the version :func:`load_scorer` serves (``feedback train sentiment``
moves it to an organisation-tuned version, ``build/default`` keeps the shipped one; see
:mod:`pipelines.sentiment.pointers`).

Backends (``FEEDBACK_SENTIMENT_BACKEND``, :mod:`pipelines.sentiment.backends`): ``onnx``
serves the build with ONNX Runtime, int8 when the build accepted it (3-class agreement with
fp32 >= 97% on held-out data) and fp32 otherwise; ``onnx-fp32``; ``torch``. ONNX serving
needs neither torch nor transformers. ``FEEDBACK_SENTIMENT_MODEL`` may instead name any local
Hugging Face sequence-classification directory or, on a machine that is online, a hub id.

Non-informative answers ("nothing", "n/a", ...) are labelled by the no-content rule of
:mod:`pipelines.sentiment.noncontent`, not by the model; the mixed flag asks whether one
clause (:mod:`pipelines.sentiment.clauses`) is positive and another negative.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.config import Settings
from pipelines.sentiment.backends import BATCHED_MAX, OnnxPredictor, Predictor, TorchPredictor
from pipelines.sentiment.base import (
    DEFAULT_MIXED_THRESHOLD,
    LABELS5,
    SCORE_WEIGHTS,
    Sentiment,
    SentimentModelError,
    SentimentScorer,
    label3_of,
    sentiment_from_probs,
    side3,
)
from pipelines.sentiment.clauses import split_clauses
from pipelines.sentiment.noncontent import is_informative, noncontent_label
from pipelines.sentiment.pointers import current_build, read_manifest
from pipelines.sentiment.rating import apply_rating, with_rating

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# Bumped whenever the rules around the model change (no-content rule, clauses, mixed flag):
# part of every scorer version, so the pipeline re-scores when they change.
RULES_VERSION = "r3"
# Comments per call of the predictor (bounds memory; one progress step each).
_CHUNK = 2048
MEMO_SIZE = 200_000  # (question, text) probability rows a scorer keeps (~5 floats and two strings each)


def sentiment_from_rule(text: str, question: str | None) -> Sentiment:
    """Sentiment of a non-informative answer by the no-content rule."""
    label5 = noncontent_label(text, question)
    return Sentiment(
        label5=label5,
        label3=label3_of(label5),
        score=SCORE_WEIGHTS[LABELS5.index(label5)],
        confidence=1.0,
        is_mixed=False,
        is_informative=False,
    )


class ModelSentimentScorer(SentimentScorer):
    """A scorer around any function mapping (texts, questions) to 5-class probabilities.

    Non-informative answers are labelled by the no-content rule (``noncontent="rule"``)
    or by the model (``"model"``); either way ``is_informative`` is False for them.
    ``rating_input`` (from the build's manifest) makes whole comments read the respondent's
    rating as ``[rating: <band>]`` after the question; ``rating_likelihoods`` (a 5 labels x 5
    bands table from the manifest) instead combines the text model's probabilities of whole
    comments with their rating band by naive Bayes (:mod:`pipelines.sentiment.rating`).
    """

    def __init__(
        self,
        predict: Predictor,
        version: str,
        *,
        mixed_threshold: float = DEFAULT_MIXED_THRESHOLD,
        noncontent: str = "rule",
        pair_input: bool = True,
        mixed_rule: str = "clauses",
        rating_input: bool = False,
        rating_likelihoods: Sequence[Sequence[float]] | None = None,
    ) -> None:
        if noncontent not in ("rule", "model"):
            raise ValueError("noncontent must be 'rule' or 'model'")
        if mixed_rule not in ("clauses", "probability"):
            raise ValueError("mixed_rule must be 'clauses' or 'probability'")
        self._predict = predict
        # Model probabilities by (question segment, text): a multi-clause comment's clauses are
        # asked for twice (its mixed flag, then the aspects) and short answers repeat ("Very good"
        # under the same question); the served predictors are batch-independent, so a repeat
        # costs nothing and gives the same row. Cleared when it reaches MEMO_SIZE entries.
        self._memo: dict[tuple[str, str], np.ndarray] = {}
        self.version = version
        self.mixed_threshold = mixed_threshold
        self.noncontent = noncontent
        self.pair_input = pair_input
        self.mixed_rule = mixed_rule
        self.rating_input = rating_input and pair_input
        self.rating_likelihoods = rating_likelihoods

    def probabilities(self, texts: Sequence[str], questions: Sequence[str | None] | None = None) -> np.ndarray:
        """Raw 5-class probabilities (n x 5), model only (no rule)."""
        qs = _questions(texts, questions) if self.pair_input else None
        return self._predict([t or "" for t in texts], qs)

    def score(
        self,
        texts: Sequence[str],
        questions: Sequence[str | None] | None = None,
        progress: bool = False,
        ratings: Sequence[float | None] | None = None,
    ) -> list[Sentiment]:
        """Score ``texts``; see :class:`SentimentScorer`.

        Ratings reach the model only for whole comments, and only when the build was trained
        with them (``rating_input``): clauses are scored on their own words (the mixed flag
        asks what each clause says), and the no-content rule reads the question alone.
        """
        texts = [t or "" for t in texts]
        qs = _questions(texts, questions)
        firsts = self._first_segments(qs, ratings)
        informative = [is_informative(t) for t in texts]
        by_rule = self.noncontent == "rule"
        out: dict[int, Sentiment] = {
            i: sentiment_from_rule(texts[i], qs[i]) for i, inf in enumerate(informative) if not inf and by_rule
        }
        todo = [i for i, inf in enumerate(informative) if inf or not by_rule]
        if not todo:
            return [out[i] for i in range(len(texts))]
        # Mixed by clauses: comments with several clauses also have each clause scored, in
        # the same length-sorted batches; mixed = one clause positive and another negative.
        clause_texts, clause_owner = self._clauses_to_score(texts, [i for i in todo if informative[i]])
        all_qs = [firsts[i] for i in todo] + [qs[i] for i in clause_owner]
        probs = self._memoised([texts[i] for i in todo] + clause_texts, all_qs if self.pair_input else None, progress)
        if ratings is not None and self.rating_likelihoods is not None:
            # The rating as a feature: whole comments only (a clause is judged on its own words).
            import numpy as np

            if len(ratings) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(ratings)} ratings")
            whole = apply_rating(
                probs[: len(todo)], [_rating_or_none(ratings[i]) for i in todo], self.rating_likelihoods
            )
            probs = np.concatenate([whole, probs[len(todo) :]], axis=0)
        sides: dict[int, set[int]] = {}
        for row, i in zip(probs[len(todo) :], clause_owner, strict=True):
            sides.setdefault(i, set()).add(side3(row))
        for row, i in zip(probs[: len(todo)], todo, strict=True):
            s = sentiment_from_probs(row, self.mixed_threshold, informative[i])
            out[i] = replace(s, is_mixed={0, 2} <= sides.get(i, set())) if self.mixed_rule == "clauses" else s
        return [out[i] for i in range(len(texts))]

    def _memoised(self, texts: list[str], questions: list[str] | None, progress: bool) -> np.ndarray:
        # Probabilities of each (question, text), predicting only the pairs not seen before.
        import numpy as np

        keys = list(zip(questions if questions is not None else [""] * len(texts), texts, strict=True))
        new = list(dict.fromkeys(k for k in keys if k not in self._memo))
        fresh = {}
        if new:
            qs = [q for q, _ in new] if questions is not None else None
            fresh = dict(zip(new, _chunked(self._predict, [t for _, t in new], qs, progress), strict=True))
        rows = [fresh[k] if k in fresh else self._memo[k] for k in keys]
        if len(self._memo) + len(fresh) > MEMO_SIZE:
            self._memo.clear()
        if len(fresh) <= MEMO_SIZE:
            self._memo.update(fresh)
        return np.stack(rows) if rows else np.zeros((0, len(LABELS5)), dtype=np.float32)

    def _first_segments(self, qs: list[str], ratings: Sequence[float | None] | None) -> list[str]:
        # The question segment of each whole comment: with "[rating: ...]" when the model reads ratings.
        if ratings is None or not self.rating_input:
            return qs
        if len(ratings) != len(qs):
            raise ValueError(f"{len(qs)} texts but {len(ratings)} ratings")
        return [with_rating(q, _rating_or_none(r)) for q, r in zip(qs, ratings, strict=True)]

    def _clauses_to_score(self, texts: list[str], candidates: list[int]) -> tuple[list[str], list[int]]:
        # The clauses of multi-clause comments, and the comment each belongs to.
        clause_texts: list[str] = []
        owner: list[int] = []
        if self.mixed_rule != "clauses":
            return clause_texts, owner
        for i in candidates:
            clauses = split_clauses(texts[i])
            if len(clauses) > 1:
                clause_texts.extend(clauses)
                owner.extend([i] * len(clauses))
        return clause_texts, owner


def _rating_or_none(value: object) -> float | None:
    # DuckDB/pandas hand back a missing rating as None, NaN or pd.NA.
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if v != v else v


def _questions(texts: Sequence[str], questions: Sequence[str | None] | None) -> list[str]:
    if questions is None:
        return [""] * len(texts)
    if len(questions) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(questions)} questions")
    return [q or "" for q in questions]


def _chunked(predict: Predictor, texts: list[str], questions: list[str] | None, progress: bool) -> np.ndarray:
    import numpy as np
    from rich.console import Console
    from rich.progress import Progress

    parts = []
    with Progress(console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("sentiment", total=len(texts))
        for start in range(0, len(texts), _CHUNK):
            qs = questions[start : start + _CHUNK] if questions is not None else None
            parts.append(predict(texts[start : start + _CHUNK], qs))
            bar.advance(task, len(parts[-1]))
    return np.concatenate(parts, axis=0)


# --------------------------------------------------------------------------------------
# Builds and loading
# --------------------------------------------------------------------------------------
def build_scorer(build: Path, backend: str = "onnx") -> ModelSentimentScorer:
    """Scorer for one of our build folders (``models/sentiment/build/<version>``).

    Raises:
        SentimentModelError: for an unknown backend or missing files.
    """
    manifest = read_manifest(build)
    serving = manifest.get("serving", {})
    max_len = int(manifest.get("config", {}).get("max_len", 128))
    tok_json = build / "hf" / "tokenizer.json"
    if backend == "onnx":
        int8 = build / "model.int8.onnx"
        quant = manifest.get("quantization", {})
        if quant.get("accepted") and int8.is_file():
            # Static int8 (fixed activation scales) and per-token int8 (a scale per token) are served
            # in batches; dynamic int8 scales activations per batch, so it runs one comment per run.
            mode = quant.get("settings", {}).get("mode", "dynamic")
            variant, path, batch = {
                "static": ("onnx-int8s", int8, BATCHED_MAX),
                "per_token": ("onnx-int8t", int8, BATCHED_MAX),
            }.get(mode, ("onnx-int8", int8, 1))
        else:
            variant, path, batch = "onnx-fp32", build / "model.onnx", BATCHED_MAX
        predict: Predictor = OnnxPredictor(path, tok_json, max_len, max_batch=batch)
    elif backend == "onnx-fp32":
        variant = "onnx-fp32"
        predict = OnnxPredictor(build / "model.onnx", tok_json, max_len, max_batch=BATCHED_MAX)
    elif backend == "torch":
        variant = "torch"
        predict = TorchPredictor(str(build / "hf"), max_len, tokenizer_json=tok_json)
    else:
        raise SentimentModelError(f"unknown sentiment backend {backend!r}: use onnx, onnx-fp32 or torch")
    return ModelSentimentScorer(
        predict,
        f"{manifest['version']}:{variant}:{RULES_VERSION}",
        mixed_threshold=float(serving.get("mixed_threshold", DEFAULT_MIXED_THRESHOLD)),
        noncontent=str(serving.get("noncontent", "rule")),
        pair_input=True,
        mixed_rule=str(serving.get("mixed_rule", "clauses")),
        rating_input=bool(serving.get("rating_input", False)),
        rating_likelihoods=serving.get("rating_likelihoods") if serving.get("rating_feature") else None,
    )


def _hf_version(ref: str) -> str:
    path = Path(ref)
    if not path.is_dir():
        return f"hub:{ref}"
    h = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".onnx", ".txt"}:
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return f"hf:{path.name}:{h.hexdigest()[:10]}"


def load_scorer(settings: Settings) -> SentimentScorer:
    """The scorer chosen by ``settings.sentiment_model`` / ``settings.sentiment_backend``.

    * ``default``: the build named by ``<sentiment_build_dir>/current`` (``make models``);
    * a folder with ``manifest.json``: that build of ours;
    * any other local folder: a Hugging Face sequence-classification model (torch, text
      only, classes mapped by :func:`~pipelines.sentiment.backends.label_matrix`);
    * anything else: a hub id (needs a machine that is online).

    Raises:
        SentimentModelError: when the model is missing (with what to run) or cannot load.
    """
    ref = settings.sentiment_model
    backend = settings.sentiment_backend
    if ref == "default":
        build = current_build(settings.sentiment_build_dir)
        if build is None:
            raise SentimentModelError(
                f"no sentiment model is built in {settings.sentiment_build_dir}: run `make models` "
                "(or `python models/sentiment/train.py`), or set FEEDBACK_SENTIMENT_MODEL to a local "
                "Hugging Face model directory"
            )
        return build_scorer(build, backend)
    path = Path(ref).expanduser()
    if path.is_dir() and (path / "manifest.json").is_file():
        return build_scorer(path, backend)
    if path.is_dir():
        return ModelSentimentScorer(
            TorchPredictor(str(path)), f"{_hf_version(str(path))}:{RULES_VERSION}", pair_input=False
        )
    if ref.startswith(("/", ".", "~")) or "\\" in ref:
        raise SentimentModelError(f"FEEDBACK_SENTIMENT_MODEL={ref!r}: no such model directory")
    # A hub id: only works on a machine that can reach the hub.
    return ModelSentimentScorer(TorchPredictor(ref), f"{_hf_version(ref)}:{RULES_VERSION}", pair_input=False)
