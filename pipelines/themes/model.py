"""Theme discovery internals: taxonomy, embeddings, BERTopic fit, labels, quotes, registry matching.

Pure functions on arrays and lists (no warehouse access) so that they can be unit-tested with
small inputs; the other modules of :mod:`pipelines.themes` (stage, refit, assignment, registry,
context) wire them to DuckDB. Heavy libraries (torch, sentence-transformers, BERTopic, UMAP,
HDBSCAN) are imported inside the functions that need them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.heavy import cache_numba_compilations, gc_paused
from pipelines.provenance import deep_merge

log = logging.getLogger(__name__)

NEW_CATEGORY_ID = "new"
NEW_CATEGORY_NAME = "New (not in taxonomy)"

# Defaults for every key of models/themes/config.yaml; the YAML overrides them.
DEFAULT_CONFIG: dict[str, Any] = {
    "refit_days": 28,
    "embedding": {"batch_size": 64},
    "min_fit_docs": 60,
    "umap": {
        "n_neighbors": 15,
        "n_components": 5,
        "min_dist": 0.0,
        "metric": "cosine",
        "low_memory": True,
        "target_weight": 0.5,
    },
    "hdbscan": {
        "min_cluster_size_fraction": 0.004,
        "min_cluster_size_min": 8,
        "min_cluster_size_max": 200,
        "min_samples": 5,
        "cluster_selection_method": "eom",
    },
    "vectorizer": {"ngram_range": [1, 2], "min_df": 1, "max_features": 30000, "extra_stop_words": []},
    "representation": {
        "candidate_words": 40,
        "samples": 200,
        "keybert_top_n_words": 12,
        "mmr_diversity": 0.4,
        "top_n_words": 8,
    },
    "taxonomy": {
        "example_weight": 0.7,
        "description_weight": 0.3,
        "seed_term_boost": 0.05,
        "label_min_score": 0.45,
        "label_min_margin": 0.03,
        "clause_min_score": 0.30,
        "new_share": 0.5,
        "map_threshold": 0.40,
    },
    "outliers": {"reduce_threshold": 0.30, "taxonomy_threshold": 0.25, "assign_threshold": 0.30},
    "multi_label": {"enabled": True, "margin": 0.05, "min_score": 0.30},
    "registry": {
        "match_threshold": 0.80,
        "absorb_threshold": 0.88,
        "dissolve_threshold": 0.80,
        "min_theme_size_fraction": 0.5,
        "sticky_margin": 0.03,
        "refit_sticky_margin": 0.06,
        "new_topic_max_previous": 0.5,
        "overlap_share": 0.5,
        "overlap_first": True,
        "lloyd_iterations": 2,
    },
    "quotes": {"n": 5, "candidates": 40, "diversity": 0.5, "min_words": 4, "max_words": 60},
    "classifier": {
        "enabled": True,
        "encoder": "minilm",
        "training": [
            {"data": "eval/themes_labelled.jsonl", "map": "eval/category_map.yaml"},
            {"data": "eval/framework_coded.jsonl", "map": "eval/framework_map.yaml"},
            *({"data": f"data/writer_t{n}/coded.jsonl"} for n in (1, 2, 3, 4)),
        ],
        "c": 4.0,
        "folds": 5,
        "default_threshold": 0.5,
        "fallback_score": 0.3,
    },
    "noncontent": {"placeholders": [], "max_tokens": 8, "stock_words": []},
    "dominance": {"max_share": 0.5},
}

# Contractions split by the token pattern ("didn't" -> "didn"), plus one-letter leftovers.
_CONTRACTION_STEMS = [
    "didn",
    "wasn",
    "weren",
    "couldn",
    "wouldn",
    "shouldn",
    "don",
    "doesn",
    "isn",
    "aren",
    "haven",
    "hasn",
    "hadn",
    "won",
    "ve",
    "ll",
    "re",
]
# Keeps "a&e" as one token; otherwise words of two or more letters (no numbers).
TOKEN_PATTERN = r"(?u)\ba&e\b|\b[a-zA-Z][a-zA-Z]+\b"
# Redaction placeholders ("[NAME]", "[PHONE]") must not become keywords.
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
# Phrases never span punctuation.
_SEGMENT = re.compile(r"[.,;:!?()\[\]\"/]+|\s[-\u2013\u2014]\s")


def preprocess(text: str) -> str:
    """Vectorizer preprocessor: redaction placeholders become phrase boundaries, lower-case.

    A placeholder is a boundary, not a space: "Dr [NAME] dealt with it" must not give the phrase
    "dr dealt" (the final privacy scan reads that keyword as a doctor's name).
    """
    return _PLACEHOLDER.sub(" . ", text).lower()


class PhraseAnalyzer:
    """CountVectorizer analyzer: content words plus two-word phrases that occur contiguously.

    scikit-learn forms n-grams after removing stop words, which glues words across gaps
    ("was terrible, good" -> "terrible good"); here a phrase never spans a stop word.
    """

    def __init__(self, stop: Sequence[str], ngram_max: int = 2) -> None:
        self.stop = frozenset(stop)
        self.ngram_max = ngram_max
        self._token = re.compile(TOKEN_PATTERN)

    def __call__(self, text: str) -> list[str]:
        """Tokens and contiguous content-word n-grams of ``text``."""
        out: list[str] = []
        for segment in _SEGMENT.split(preprocess(text)):
            tokens = self._token.findall(segment)
            out.extend(t for t in tokens if t not in self.stop)
            for n in range(2, self.ngram_max + 1):
                for i in range(len(tokens) - n + 1):
                    gram = tokens[i : i + n]
                    if not any(t in self.stop for t in gram):
                        out.append(" ".join(gram))
        return out


class ThemesError(RuntimeError):
    """The theme stage cannot run (bad taxonomy, missing model, ...)."""


# --------------------------------------------------------------------------------------
# Configuration and taxonomy
# --------------------------------------------------------------------------------------
def load_config(path: Path | None) -> dict[str, Any]:
    """Theme-stage configuration: defaults overridden by the YAML file at ``path`` (if any)."""
    import yaml

    if path is None or not Path(path).is_file():
        return copy.deepcopy(DEFAULT_CONFIG)
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return deep_merge(DEFAULT_CONFIG, data)


def config_hash(cfg: dict[str, Any]) -> str:
    """Short stable hash of a configuration (for model versions)."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Category:
    """One taxonomy category (see models/themes/taxonomy.yaml)."""

    id: str
    name: str
    group: str = ""
    description: str = ""
    seed_terms: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    #: an overall verdict category (general praise / criticism): a clause carries it only when
    #: no specific category fits ("specific beats general", the coders' rule)
    general: bool = False


def load_taxonomy(path: Path) -> list[Category]:
    """Read and validate the taxonomy YAML.

    Raises:
        ThemesError: if the file is missing, has no categories, repeats an id or uses the
            reserved id ``new``.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ThemesError(f"taxonomy file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = data.get("categories") if isinstance(data, dict) else None
    if not raw:
        raise ThemesError(f"{path}: no 'categories' list")
    categories: list[Category] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("id") or not item.get("name"):
            raise ThemesError(f"{path}: category #{i + 1} needs an 'id' and a 'name'")
        cid = str(item["id"]).strip()
        if cid in seen:
            raise ThemesError(f"{path}: duplicate category id {cid!r}")
        if cid == NEW_CATEGORY_ID:
            raise ThemesError(f"{path}: category id {NEW_CATEGORY_ID!r} is reserved for unmapped themes")
        seen.add(cid)
        categories.append(
            Category(
                id=cid,
                name=str(item["name"]).strip(),
                group=str(item.get("group") or "").strip(),
                description=" ".join(str(item.get("description") or "").split()),
                seed_terms=tuple(str(t).strip() for t in item.get("seed_terms") or [] if str(t).strip()),
                examples=tuple(str(t).strip() for t in item.get("examples") or [] if str(t).strip()),
                general=bool(item.get("general", False)),
            )
        )
    return categories


def taxonomy_hash(categories: Sequence[Category]) -> str:
    """Short hash of the taxonomy content (changes when a user edits it)."""
    payload = [
        [c.id, c.name, c.group, c.description, list(c.seed_terms), list(c.examples)]
        + (["general"] if c.general else [])
        for c in categories
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------
# Embeddings
# --------------------------------------------------------------------------------------
class Embedder:
    """Sentence-embedding backend: texts -> L2-normalised float32 rows (swap in tests)."""

    name: str = "base"
    dim: int = 0
    #: local folder of the model (saved as BERTopic's embedding model reference)
    path: str = ""
    #: the object BERTopic uses to embed candidate keywords (a SentenceTransformer or None)
    model: Any = None

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed ``texts``; rows are L2-normalised."""
        raise NotImplementedError


def model_fingerprint(path: str) -> str:
    """Cache key of a local sentence-transformers folder: name plus a hash of its config and weights size."""
    p = Path(path)
    h = hashlib.sha256()
    for fname in ("config.json", "modules.json", "sentence_bert_config.json"):
        if (p / fname).is_file():
            h.update((p / fname).read_bytes())
    for weights in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    name = p.parent.name if p.name in {"model", "models"} else p.name
    return f"{name}:{h.hexdigest()[:10]}"


class SentenceTransformerEmbedder(Embedder):
    """MiniLM (or any local sentence-transformers folder) on CPU, loaded by path only."""

    backend = "sentence-transformers-torch"

    def __init__(self, path: str, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            with gc_paused():  # a heavy import: see pipelines.heavy
                from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on install
            raise ThemesError("the theme stage needs sentence-transformers: scripts/install.sh") from exc
        if not Path(path).is_dir():
            raise ThemesError(f"embedding model folder not found: {path}")
        self.path = str(path)
        self.batch_size = batch_size
        with gc_paused():  # loading imports the model's transformers modules
            self.model = SentenceTransformer(self.path, device="cpu")
        self.name = model_fingerprint(self.path)
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed in length-sorted batches (sentence-transformers sorts internally)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(out, dtype=np.float32)


def bertopic_backend(embedder: Embedder) -> Any:
    """A BERTopic embedding backend over ``embedder`` that remembers what it embedded.

    KeyBERTInspired and MMR embed candidate keywords and representative clauses; the same words
    recur across topics and refits, so one in-process cache saves most of that work.
    """
    with gc_paused():  # a heavy import: see pipelines.heavy
        from bertopic.backend import BaseEmbedder

    cache: dict[str, np.ndarray] = embedder.__dict__.setdefault("_bertopic_cache", {})

    class _CachedBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            missing = [d for d in dict.fromkeys(documents) if d not in cache]
            if missing:
                cache.update(zip(missing, embedder.encode(missing), strict=True))
            if len(documents) == 0:
                return np.zeros((0, embedder.dim), dtype=np.float32)
            return np.stack([cache[d] for d in documents])

    return _CachedBackend()


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


# --------------------------------------------------------------------------------------
# Taxonomy scoring
# --------------------------------------------------------------------------------------
class TaxonomyScorer:
    """Scores texts against taxonomy categories by embedding similarity (zero-shot).

    score(x, k) = example_weight * max_j cos(x, example_kj) + description_weight * cos(x, desc_k)
    + seed_term_boost when one of the category's seed terms occurs in the text.
    """

    def __init__(self, categories: Sequence[Category], embedder: Embedder, cfg: dict[str, Any]) -> None:
        if not categories:
            raise ThemesError("empty taxonomy")
        self.categories = list(categories)
        self.ids = [c.id for c in self.categories]
        tcfg = cfg["taxonomy"]
        self.example_weight = float(tcfg["example_weight"])
        self.description_weight = float(tcfg["description_weight"])
        self.seed_term_boost = float(tcfg["seed_term_boost"])
        desc_texts = [f"{c.name}: {c.description}" if c.description else c.name for c in self.categories]
        ex_texts: list[str] = []
        self.ex_owner: list[int] = []
        for k, c in enumerate(self.categories):
            for t in (c.name, *c.examples):
                ex_texts.append(t)
                self.ex_owner.append(k)
        emb = embedder.encode(desc_texts + ex_texts)
        self.desc = emb[: len(desc_texts)]
        self.examples = emb[len(desc_texts) :]
        self.ex_owner_arr = np.asarray(self.ex_owner)
        self._seed_res = [self._seed_regex(c.seed_terms) for c in self.categories]

    @staticmethod
    def _seed_regex(terms: Sequence[str]) -> re.Pattern[str] | None:
        terms = [t.lower() for t in terms if t.strip()]
        if not terms:
            return None
        alts = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        return re.compile(rf"(?<![a-z0-9])(?:{alts})(?![a-z0-9])")

    def scores(self, embeddings: np.ndarray, texts: Sequence[str] | None = None, chunk: int = 20000) -> np.ndarray:
        """(n, K) category scores for L2-normalised ``embeddings`` (and their texts for seed terms)."""
        n, k = len(embeddings), len(self.categories)
        out = np.empty((n, k), dtype=np.float32)
        for start in range(0, n, chunk):
            e = embeddings[start : start + chunk]
            ex_sim = e @ self.examples.T
            ex_max = np.full((len(e), k), -1.0, dtype=np.float32)
            for j in range(k):
                cols = self.ex_owner_arr == j
                if cols.any():
                    ex_max[:, j] = ex_sim[:, cols].max(axis=1)
            out[start : start + chunk] = self.example_weight * ex_max + self.description_weight * (e @ self.desc.T)
        if texts is not None and self.seed_term_boost:
            lowered = [t.lower() for t in texts]
            for j, rx in enumerate(self._seed_res):
                if rx is None:
                    continue
                hits = np.fromiter((rx.search(t) is not None for t in lowered), dtype=bool, count=n)
                out[hits, j] += self.seed_term_boost
        return out


def best_categories(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best category index, its score and the margin over the runner-up, per row."""
    if scores.shape[1] == 1:
        return np.zeros(len(scores), dtype=int), scores[:, 0], scores[:, 0]
    top2 = np.argsort(-scores, axis=1)[:, :2]
    best = top2[:, 0]
    rows = np.arange(len(scores))
    s1 = scores[rows, best]
    s2 = scores[rows, top2[:, 1]]
    return best, s1, s1 - s2


# --------------------------------------------------------------------------------------
# Topic fitting
# --------------------------------------------------------------------------------------
@dataclass
class Topic:
    """One discovered topic (before registry matching)."""

    topic: int
    members: np.ndarray  # indices into the unique-text arrays
    keywords: list[str] = field(default_factory=list)
    label: str = ""
    centroid: np.ndarray | None = None


@dataclass
class FitResult:
    """Outcome of a fit on unique clause texts."""

    topic_of_doc: np.ndarray  # per unique text: topic number or -1
    method_of_doc: np.ndarray  # bertopic | reduce_outliers | taxonomy | outlier
    topics: dict[int, Topic]
    model: Any = None  # the fitted BERTopic (None for the taxonomy-only path)
    params: dict[str, Any] = field(default_factory=dict)


def stop_words(cfg: dict[str, Any]) -> list[str]:
    """English stop words plus the domain list from the config and contraction stems."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    extra = [str(w).lower() for w in cfg["vectorizer"].get("extra_stop_words") or []]
    return sorted(set(ENGLISH_STOP_WORDS) | set(extra) | set(_CONTRACTION_STEMS))


def min_cluster_size(cfg: dict[str, Any], n_docs: int) -> int:
    """HDBSCAN min_cluster_size scaled with the number of unique texts."""
    h = cfg["hdbscan"]
    value = round(float(h["min_cluster_size_fraction"]) * n_docs)
    return int(np.clip(value, int(h["min_cluster_size_min"]), int(h["min_cluster_size_max"])))


def fit_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    cfg: dict[str, Any],
    seed: int,
    embedder: Embedder,
    category_scores: np.ndarray | None = None,
    progress: bool = False,
) -> FitResult:
    """Fit BERTopic on unique clause texts with precomputed embeddings (fixed seeds).

    ``category_scores`` (from :class:`TaxonomyScorer`) guide UMAP semi-supervised: clauses
    that clearly belong to a taxonomy category carry its label, the rest are unlabelled.
    Outliers are then reduced to their nearest topic by embedding (``reduce_outliers``).
    """
    n = len(texts)
    mcs = min_cluster_size(cfg, n)
    y = _semi_supervised_labels(cfg, category_scores)
    model = _bertopic_model(cfg, n, mcs, seed, embedder, y is not None, progress)
    docs = list(texts)
    # BERTopic may modify the array it is given (guided modelling): pass a copy.
    topics, _ = model.fit_transform(docs, embeddings=embeddings.copy(), y=None if y is None else y.tolist())
    topic_arr = np.asarray(topics, dtype=int)
    method = np.where(topic_arr >= 0, "bertopic", "outlier").astype(object)
    if (topic_arr == -1).any() and (topic_arr >= 0).any():
        reduced = np.asarray(
            model.reduce_outliers(
                docs,
                topic_arr.tolist(),
                strategy="embeddings",
                embeddings=embeddings,
                threshold=float(cfg["outliers"]["reduce_threshold"]),
            ),
            dtype=int,
        )
        method[(topic_arr == -1) & (reduced >= 0)] = "reduce_outliers"
        topic_arr = reduced
    result = FitResult(
        topic_of_doc=topic_arr,
        method_of_doc=method,
        topics={},
        model=model,
        params={
            "min_cluster_size": mcs,
            "n_docs": n,
            "semi_supervised_labels": int((y >= 0).sum()) if y is not None else 0,
        },
    )
    for t in sorted(set(topic_arr.tolist()) - {-1}):
        words = [w for w, _ in (model.get_topic(t) or []) if w]
        result.topics[t] = Topic(topic=t, members=np.flatnonzero(topic_arr == t), keywords=words)
    return result


def _semi_supervised_labels(cfg: dict[str, Any], category_scores: np.ndarray | None) -> np.ndarray | None:
    """Category index of each confidently categorised text (-1: unlabelled); None when UMAP is unsupervised."""
    tcfg = cfg["taxonomy"]
    if category_scores is None or float(cfg["umap"].get("target_weight", 0.0)) <= 0:
        return None
    best, s1, margin = best_categories(category_scores)
    return np.where((s1 >= float(tcfg["label_min_score"])) & (margin >= float(tcfg["label_min_margin"])), best, -1)


#: umap-learn computes every pairwise distance (exact neighbours) below this many rows
UMAP_EXACT_ROWS = 4096


def umap_class() -> type:
    """umap-learn's ``UMAP``, with its exact small-data path's distances computed by BLAS.

    Below 4,096 rows umap-learn finds exact neighbours from the full distance matrix, and it hands
    its numba distance function to scikit-learn's ``pairwise_distances``, which then calls it from
    Python once per pair: 16 million calls at ~4,000 texts (``python -m cProfile -m
    benchmarks.themes scale --n 3000``; unprofiled, this change took that fit from 71.8 s to
    63.4 s on 2 cores, and caching the compilations took it to 28.6 s). For the cosine metric
    this class computes the same matrix with scikit-learn's vectorised cosine and fits on it as
    ``metric="precomputed"`` (with cosine's disconnection distance, 2): the same exact
    neighbours, up to float rounding. Larger inputs take umap-learn's approximate path unchanged.
    After such a fit ``transform`` would expect distances; the stage never calls it (themes are
    assigned by centroid).
    """
    with gc_paused():  # a heavy import: see pipelines.heavy
        from scipy import sparse
        from sklearn.metrics import pairwise_distances
        from umap import UMAP
    cache_numba_compilations("umap", "pynndescent")

    class ExactCosineUMAP(UMAP):
        def fit(self, X: Any, y: Any = None, ensure_all_finite: bool = True, **kwargs: Any) -> Any:
            small = (
                self.metric == "cosine"
                and not self.force_approximation_algorithm
                and not sparse.issparse(X)
                and len(X) < UMAP_EXACT_ROWS
            )
            if not small:
                return super().fit(X, y, ensure_all_finite, **kwargs)
            dmat = pairwise_distances(np.asarray(X, dtype=np.float32), metric="cosine").astype(np.float64)
            np.fill_diagonal(dmat, 0.0)
            self.metric, self.disconnection_distance = "precomputed", 2.0
            return super().fit(dmat, y, ensure_all_finite, **kwargs)

    return ExactCosineUMAP


def _bertopic_model(
    cfg: dict[str, Any], n: int, mcs: int, seed: int, embedder: Embedder, supervised: bool, progress: bool
) -> Any:
    """An unfitted BERTopic: seeded UMAP, HDBSCAN, phrase c-TF-IDF, KeyBERTInspired then MMR keywords."""
    with gc_paused():  # heavy imports: see pipelines.heavy
        from bertopic import BERTopic
        from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
        from bertopic.vectorizers import ClassTfidfTransformer
        from hdbscan import HDBSCAN
        from sklearn.feature_extraction.text import CountVectorizer

    ucfg, hcfg, vcfg, rcfg = cfg["umap"], cfg["hdbscan"], cfg["vectorizer"], cfg["representation"]
    umap_model = umap_class()(
        n_neighbors=int(min(int(ucfg["n_neighbors"]), max(2, n - 1))),
        n_components=int(ucfg["n_components"]),
        min_dist=float(ucfg["min_dist"]),
        metric=str(ucfg["metric"]),
        low_memory=bool(ucfg["low_memory"]),
        random_state=seed,
        n_jobs=1,
        target_weight=float(ucfg.get("target_weight", 0.0)) if supervised else 0.5,
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=mcs,
        min_samples=int(min(int(hcfg["min_samples"]), mcs)),
        metric="euclidean",
        cluster_selection_method=str(hcfg["cluster_selection_method"]),
        prediction_data=False,
    )
    vectorizer = CountVectorizer(
        analyzer=PhraseAnalyzer(stop_words(cfg), int(vcfg["ngram_range"][1])),
        min_df=int(vcfg["min_df"]),
        max_features=int(vcfg["max_features"]),
    )
    representation = [
        KeyBERTInspired(
            top_n_words=int(rcfg["keybert_top_n_words"]),
            nr_candidate_words=int(rcfg["candidate_words"]),
            nr_samples=int(rcfg["samples"]),
            random_state=seed,
        ),
        MaximalMarginalRelevance(diversity=float(rcfg["mmr_diversity"]), top_n_words=int(rcfg["top_n_words"])),
    ]
    model = BERTopic(
        embedding_model=bertopic_backend(embedder),
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation,
        calculate_probabilities=False,
        top_n_words=10,
        verbose=progress,
    )
    # With language "english" BERTopic deletes punctuation before c-TF-IDF without leaving a
    # space ("Nothing.thank you" -> "Nothingthank", "a&e" -> "ae"); our analyzer does its own.
    model.language = None
    return model


def fit_taxonomy_only(
    texts: Sequence[str],
    embeddings: np.ndarray,
    category_scores: np.ndarray,
    categories: Sequence[Category],
    cfg: dict[str, Any],
) -> FitResult:
    """Small-data path: one topic per taxonomy category that has clauses (no BERTopic)."""
    best, s1, _ = best_categories(category_scores)
    ok = s1 >= float(cfg["outliers"]["taxonomy_threshold"])
    topic_arr = np.where(ok, best, -1).astype(int)
    method = np.where(ok, "taxonomy", "outlier").astype(object)
    result = FitResult(
        topic_of_doc=topic_arr, method_of_doc=method, topics={}, model=None, params={"n_docs": len(texts)}
    )
    for t in sorted(set(topic_arr.tolist()) - {-1}):
        members = np.flatnonzero(topic_arr == t)
        cat = categories[t]
        words = _seed_terms_present(cat.seed_terms, [texts[i] for i in members]) or [cat.name.lower()]
        result.topics[t] = Topic(topic=t, members=members, keywords=words, label=cat.name)
    return result


def _seed_terms_present(terms: Sequence[str], texts: Sequence[str], top: int = 8) -> list[str]:
    counts = []
    lowered = [t.lower() for t in texts]
    for term in terms:
        rx = re.compile(rf"(?<![a-z0-9]){re.escape(term.lower())}(?![a-z0-9])")
        c = sum(1 for t in lowered if rx.search(t))
        if c:
            counts.append((c, term))
    counts.sort(key=lambda x: (-x[0], x[1]))
    return [t for _, t in counts[:top]]


class KeywordExtractor:
    """Class-based TF-IDF keywords for any set of texts (topics made outside BERTopic)."""

    def __init__(self, texts: Sequence[str], cfg: dict[str, Any]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        vcfg = cfg["vectorizer"]
        self.vectorizer = CountVectorizer(
            analyzer=PhraseAnalyzer(stop_words(cfg), int(vcfg["ngram_range"][1])),
            min_df=1,
            max_features=int(vcfg["max_features"]),
        )
        try:
            self.matrix = self.vectorizer.fit_transform(list(texts))
        except ValueError:  # empty vocabulary
            self.matrix = None
            return
        df = np.asarray((self.matrix > 0).sum(axis=0)).ravel()
        self.idf = np.log(1 + len(texts) / np.maximum(df, 1))
        self.terms = self.vectorizer.get_feature_names_out()

    def label_phrases(self, members: np.ndarray, top: int = 4, min_coverage: float = 0.08) -> list[str]:
        """Phrases that many member texts share and that are rare elsewhere (label material).

        score = share of members containing the phrase x idf, two-word phrases preferred.
        """
        if self.matrix is None or len(members) == 0:
            return []
        present = np.asarray((self.matrix[members] > 0).sum(axis=0)).ravel()
        coverage = present / len(members)
        bigram = np.char.count(self.terms.astype(str), " ") > 0
        score = coverage * self.idf * np.where(bigram, 2.0, 1.0)
        score[(coverage < min_coverage) | (present < min(2, len(members)))] = 0.0
        order = [i for i in np.argsort(-score, kind="stable")[:top] if score[i] > 0]
        # Only the best phrase may be rare-ish; a second one must be common in the theme.
        return [str(self.terms[i]) for n, i in enumerate(order) if n == 0 or coverage[i] >= 2 * min_coverage]

    def keywords(self, members: np.ndarray, top: int = 8) -> list[str]:
        """Top terms of the member rows by tf x idf (a term must occur at least twice)."""
        if self.matrix is None or len(members) == 0:
            return []
        tf = np.asarray(self.matrix[members].sum(axis=0)).ravel()
        score = np.where(tf >= min(2, len(members)), np.sqrt(tf) * self.idf, 0.0)
        order = np.argsort(-score, kind="stable")[:top]
        return [str(self.terms[i]) for i in order if score[i] > 0]


def clause_categories(category_scores: np.ndarray, min_score: float) -> np.ndarray:
    """Best category index per clause, or -1 when no category scores at least ``min_score``."""
    best, s1, _ = best_categories(category_scores)
    return np.where(s1 >= min_score, best, -1)


def vote_categories(
    topic_of_doc: np.ndarray, clause_cat: np.ndarray, topics: Sequence[int], new_share: float
) -> dict[int, int]:
    """Category of each topic by member vote; -1 ('new') when most members fit no category."""
    out: dict[int, int] = {}
    for t in topics:
        cats = clause_cat[topic_of_doc == t]
        known = cats[cats >= 0]
        if len(cats) == 0 or len(known) < (1 - new_share) * len(cats) or len(known) == 0:
            out[int(t)] = -1
        else:
            out[int(t)] = int(np.bincount(known).argmax())
    return out


def enforce_categories(
    fit: FitResult,
    embeddings: np.ndarray,
    clause_cat: np.ndarray,
    categories: Sequence[Category],
    keywords: KeywordExtractor,
    new_share: float,
) -> dict[int, int]:
    """Make every topic category-pure, in place; returns topic -> category index (-1 = new).

    A topic takes the category most of its members belong to (clause-level taxonomy scores).
    Members that clearly belong to another category move to the nearest topic of their own
    category (method ``taxonomy``); a category with clauses but no topic gets a topic of its
    own, labelled with the category name. Outliers with a category are placed the same way.
    Clauses that fit no category stay where BERTopic put them (or remain outliers).
    """
    topic_of, method = fit.topic_of_doc, fit.method_of_doc
    topics = sorted(set(topic_of.tolist()) - {-1})
    topic_cat = vote_categories(topic_of, clause_cat, topics, new_share)
    cents = centroids_for(topic_of, embeddings, topics)
    cent_of = {t: cents[i] for i, t in enumerate(topics)}
    doc_topic_cat = np.array([topic_cat.get(int(t), -2) if t >= 0 else -2 for t in topic_of])
    next_topic = max(topics, default=-1) + 1
    for k in sorted(set(clause_cat.tolist()) - {-1}):
        move = np.flatnonzero((clause_cat == k) & (doc_topic_cat != k))
        if len(move) == 0:
            continue
        candidates = [t for t in topics if topic_cat[t] == k]
        if candidates:
            sims = embeddings[move] @ np.stack([cent_of[t] for t in candidates]).T
            topic_of[move] = np.asarray(candidates)[sims.argmax(axis=1)]
        else:
            topic_of[move] = next_topic
            topic_cat[next_topic] = k
            fit.topics[next_topic] = Topic(topic=next_topic, members=move, label=categories[k].name)
            next_topic += 1
        method[move] = "taxonomy"
    # Refresh members, drop emptied topics, fill keywords of taxonomy-made topics.
    for t in list(fit.topics):
        members = np.flatnonzero(topic_of == t)
        if len(members) == 0:
            del fit.topics[t]
            topic_cat.pop(t, None)
            continue
        fit.topics[t].members = members
        if not fit.topics[t].keywords:
            fit.topics[t].keywords = keywords.keywords(members) or [categories[topic_cat[t]].name.lower()]
    return {t: topic_cat[t] for t in fit.topics}


def centroids_for(topic_of_doc: np.ndarray, embeddings: np.ndarray, topics: Sequence[int]) -> np.ndarray:
    """L2-normalised mean embedding of each topic's members, in the order of ``topics``."""
    out = np.zeros((len(topics), embeddings.shape[1]), dtype=np.float32)
    for i, t in enumerate(topics):
        members = topic_of_doc == t
        if members.any():
            out[i] = embeddings[members].mean(axis=0)
    return normalize_rows(out)


def map_to_categories(centroid_scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category index per theme (-1 = 'new' when the best score is below ``threshold``).

    Returns (category index or -1, best score, runner-up index).
    """
    if len(centroid_scores) == 0:
        empty = np.zeros(0, dtype=int)
        return empty, np.zeros(0, dtype=np.float32), empty
    order = np.argsort(-centroid_scores, axis=1)
    best = order[:, 0]
    runner = order[:, 1] if centroid_scores.shape[1] > 1 else order[:, 0]
    score = centroid_scores[np.arange(len(best)), best]
    return np.where(score >= threshold, best, -1), score, runner


# --------------------------------------------------------------------------------------
# Labels and quotes
# --------------------------------------------------------------------------------------
def _tokens(phrase: str) -> set[str]:
    return {w[:4] for w in re.findall(r"[a-z&]+", phrase.lower())}


def clean_keywords(keywords: Sequence[str], stop: set[str] | None = None, top: int = 8) -> list[str]:
    """Drop empty, stop-word-only and near-duplicate keywords, keeping their order."""
    out: list[str] = []
    seen: set[str] = set()
    for kw in keywords:
        kw = " ".join(str(kw).split()).strip().lower()
        if not kw or kw in seen:
            continue
        words = kw.split()
        if stop and all(w in stop for w in words):
            continue
        if stop and (words[0] in stop or words[-1] in stop):
            continue
        seen.add(kw)
        out.append(kw)
        if len(out) >= top:
            break
    return out


def make_label(keywords: Sequence[str], max_words: int = 5) -> str:
    """Short phrase label from ranked keywords: the best phrase plus one that adds new words.

    ``["car park", "parking", "spaces", "pay machine"]`` -> ``"Car park, spaces"``.
    """
    kws = [k for k in keywords if k]
    if not kws:
        return "Unlabelled theme"
    # Prefer a two-word phrase among the top three: they read best as labels.
    first = next((k for k in kws[:3] if len(k.split()) >= 2), kws[0])
    used = _tokens(first)
    parts = [first]
    for k in kws:
        if k == first:
            continue
        toks = _tokens(k)
        if toks and not (toks & used) and len(" ".join(parts + [k]).split()) <= max_words:
            parts.append(k)
            break
    label = ", ".join(parts)
    return label[0].upper() + label[1:]


def mmr_select(
    centroid: np.ndarray,
    embeddings: np.ndarray,
    n: int,
    diversity: float,
    candidates: int,
) -> list[int]:
    """Maximal marginal relevance: indices of ``n`` rows close to ``centroid`` yet unlike each other."""
    if len(embeddings) == 0 or n <= 0:
        return []
    rel = embeddings @ centroid
    pool = np.argsort(-rel, kind="stable")[: max(candidates, n)]
    chosen = [int(pool[0])]
    rest = [int(i) for i in pool[1:]]
    while rest and len(chosen) < n:
        sims = embeddings[rest] @ embeddings[chosen].T
        score = (1 - diversity) * rel[rest] - diversity * sims.max(axis=1)
        pick = rest.pop(int(np.argmax(score)))
        chosen.append(pick)
    return chosen


def pick_quotes(texts: Sequence[str], embeddings: np.ndarray, centroid: np.ndarray, cfg: dict[str, Any]) -> list[str]:
    """3-5 representative, mutually diverse redacted quotes (MMR on embeddings)."""
    qcfg = cfg["quotes"]
    lengths = np.array([len(t.split()) for t in texts])
    ok = np.flatnonzero((lengths >= int(qcfg["min_words"])) & (lengths <= int(qcfg["max_words"])))
    if len(ok) < int(qcfg["n"]):
        ok = np.arange(len(texts))
    idx = mmr_select(centroid, embeddings[ok], int(qcfg["n"]), float(qcfg["diversity"]), int(qcfg["candidates"]))
    seen: set[str] = set()
    out: list[str] = []
    for i in idx:
        t = texts[ok[i]].strip()
        if t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
    return out


# --------------------------------------------------------------------------------------
# Registry matching
# --------------------------------------------------------------------------------------
def match_registry(
    old_centroids: np.ndarray,
    new_centroids: np.ndarray,
    match_threshold: float,
    absorb_threshold: float,
    absorb_ok: np.ndarray | None = None,
) -> list[int | None]:
    """Match new topics to registry themes by centroid cosine similarity.

    One-to-one Hungarian matching above ``match_threshold``; then an unmatched new topic whose
    best registry theme is at least ``absorb_threshold`` similar (and allowed by ``absorb_ok``,
    e.g. same category) joins that theme: a split of an existing theme keeps its id. Returns,
    per new topic, the index of its registry theme or None (a new theme).
    """
    from scipy.optimize import linear_sum_assignment

    k = len(new_centroids)
    out: list[int | None] = [None] * k
    if k == 0 or len(old_centroids) == 0:
        return out
    sim = new_centroids @ old_centroids.T
    rows, cols = linear_sum_assignment(-sim)
    for r, c in zip(rows, cols, strict=True):
        if sim[r, c] >= match_threshold:
            out[r] = int(c)
    for r in range(k):
        if out[r] is None:
            allowed = sim[r] if absorb_ok is None else np.where(absorb_ok[r], sim[r], -np.inf)
            c = int(np.argmax(allowed))
            if allowed[c] >= absorb_threshold:
                out[r] = c
    return out


def assign_within_categories(
    embeddings: np.ndarray,
    clause_cat: np.ndarray,
    centroids: np.ndarray,
    theme_cat: np.ndarray,
    threshold: float,
    previous: np.ndarray | None = None,
    sticky_margin: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest theme centroid per clause, among the themes of the clause's category.

    The rule used both after a refit and for daily assignment, so a clause gets the same theme
    whenever it arrives. Clauses of a category that has no theme, and clauses without a
    category, take the nearest theme overall when its similarity reaches ``threshold`` (else
    -1). With ``previous`` (theme index per clause or -1) a clause keeps its previous theme
    when that is still allowed and within ``sticky_margin`` of the best (hysteresis).

    Returns (theme index or -1, cosine similarity) per clause.
    """
    n = len(embeddings)
    best = np.full(n, -1, dtype=int)
    score = np.zeros(n, dtype=np.float32)
    if n == 0 or len(centroids) == 0:
        return best, score
    sims = embeddings @ centroids.T
    allowed = np.zeros_like(sims, dtype=bool)
    has_theme = np.zeros(n, dtype=bool)
    for k in sorted(set(clause_cat.tolist()) - {-1}):
        rows = clause_cat == k
        cols = theme_cat == k
        if cols.any():
            allowed[np.ix_(rows, cols)] = True
            has_theme |= rows
    masked = np.where(allowed, sims, -np.inf)
    cand = masked.argmax(axis=1)
    best[has_theme] = cand[has_theme]
    rest = ~has_theme
    if rest.any():
        cand_all = sims.argmax(axis=1)
        ok = rest & (sims[np.arange(n), cand_all] >= threshold)
        best[ok] = cand_all[ok]
        allowed[rest] = True
    if previous is not None and sticky_margin > 0:
        prev = np.asarray(previous)
        rows = np.flatnonzero((prev >= 0) & (best >= 0))
        keep = rows[allowed[rows, prev[rows]] & (sims[rows, prev[rows]] >= sims[rows, best[rows]] - sticky_margin)]
        best[keep] = prev[keep]
    assigned = best >= 0
    score[assigned] = sims[np.flatnonzero(assigned), best[assigned]]
    return best, score


def secondary_themes(
    embeddings: np.ndarray,
    category_scores: np.ndarray,
    primary: np.ndarray,
    centroids: np.ndarray,
    theme_cat: np.ndarray,
    margin: float,
    min_score: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A second theme for clauses that speak about two taxonomy categories.

    "seen within the hour and the nurse was lovely": when the best category other than the
    primary theme's scores within ``margin`` of the clause's best score (and at least
    ``min_score``), the clause also gets the nearest theme of that category.

    Returns (theme index or -1, cosine similarity) per clause.
    """
    n = len(embeddings)
    out = np.full(n, -1, dtype=int)
    sim = np.zeros(n, dtype=np.float32)
    if n == 0 or len(centroids) == 0:
        return out, sim
    scores = category_scores.copy()
    has = primary >= 0
    pcat = np.where(has, theme_cat[np.maximum(primary, 0)], -1)
    rows = np.flatnonzero(has & (pcat >= 0))
    scores[rows, pcat[rows]] = -np.inf
    second = scores.argmax(axis=1)
    s2 = scores[np.arange(n), second]
    ok = has & (s2 >= category_scores.max(axis=1) - margin) & (s2 >= min_score)
    for k in sorted(set(second[ok].tolist())):
        cols = np.flatnonzero(theme_cat == k)
        r = np.flatnonzero(ok & (second == k))
        if len(cols) == 0 or len(r) == 0:
            continue
        sims = embeddings[r] @ centroids[cols].T
        pick = cols[sims.argmax(axis=1)]
        keep = pick != primary[r]
        out[r[keep]] = pick[keep]
        sim[r[keep]] = sims.max(axis=1)[keep]
    return out, sim


def assign_nearest(
    embeddings: np.ndarray,
    centroids: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid per row (-1 when below ``threshold``) and its cosine similarity."""
    if len(centroids) == 0 or len(embeddings) == 0:
        return np.full(len(embeddings), -1, dtype=int), np.zeros(len(embeddings), dtype=np.float32)
    sims = embeddings @ centroids.T
    best = sims.argmax(axis=1)
    score = sims[np.arange(len(best)), best]
    return np.where(score >= threshold, best, -1), score
