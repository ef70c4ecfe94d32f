"""UMAP as the theme stage runs it: exact small-data distances from BLAS, compilations cached."""

from __future__ import annotations

import numpy as np


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 32))
    x = centres[rng.integers(0, 6, n)] + 0.3 * rng.normal(size=(n, 32))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_small_data_umap_builds_umap_learns_own_neighbour_graph():
    # The exact path's distances come from scikit-learn's cosine instead of umap-learn's numba
    # cosine called per pair: the fuzzy neighbour graph (what the layout is fitted to) is the same.
    from umap import UMAP

    from pipelines.themes.model import umap_class

    x = _clustered(400)
    y = np.where(np.arange(400) % 3 == 0, np.arange(400) % 6, -1)
    params = dict(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=7, target_weight=0.5)
    ours, theirs = umap_class()(**params).fit(x, y=y), UMAP(**params).fit(x, y=y)
    assert ours.metric == "precomputed" and theirs.metric == "cosine"
    diff = abs(ours.graph_ - theirs.graph_)
    assert diff.max() < 1e-4
    assert (ours.graph_ != 0).sum() == (theirs.graph_ != 0).sum()
    assert ours.embedding_.shape == (400, 5) and np.isfinite(ours.embedding_).all()


def test_large_data_takes_umap_learns_approximate_path_unchanged():
    from pipelines.themes.model import UMAP_EXACT_ROWS, umap_class

    cls = umap_class()
    model = cls(n_neighbors=5, n_components=2, metric="cosine", random_state=1, n_epochs=5)
    x = _clustered(UMAP_EXACT_ROWS + 10)
    model.fit(x)
    assert model.metric == "cosine" and not model._small_data


def test_umap_and_pynndescent_compilations_are_cached_between_processes():
    from numba.core.dispatcher import Dispatcher

    from pipelines.heavy import cache_numba_compilations
    from pipelines.themes.model import umap_class

    umap_class()  # imports umap-learn and turns the caches on
    import pynndescent.utils
    import umap.umap_

    # neither declares cache=True
    for jitted in (umap.umap_.smooth_knn_dist, pynndescent.utils.deheap_sort):
        assert isinstance(jitted, Dispatcher)
        assert type(jitted._cache).__name__ == "FunctionCache"
    assert cache_numba_compilations("umap", "pynndescent") == 0  # already on: nothing left to do


def test_no_writable_cache_folder_means_compiling_as_before(monkeypatch):
    # numba raises when it finds no folder to cache in (a read-only image and home): the theme
    # stage must then run as it did, compiling each time, not stop.
    import sys
    import types

    import numba
    from numba.core.dispatcher import Dispatcher

    from pipelines.heavy import cache_numba_compilations

    module = types.ModuleType("readonly_pkg")
    module.double = numba.njit(lambda x: 2 * x)
    monkeypatch.setitem(sys.modules, "readonly_pkg", module)

    def no_locator(self):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(Dispatcher, "enable_caching", no_locator)
    assert cache_numba_compilations("readonly_pkg") == 0
    assert module.double(21) == 42
