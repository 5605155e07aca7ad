"""2-D coordinates for the embedding plot: PCA to ~50 dims, then PaCMAP.

PaCMAP runs on one numba thread by default: measured on the 2-core build machine, two
threads help at most 1.3x and collapse when the other core is busy (the GUI, an ingest).
``LIGHTLY_STUDIO_PROJECTION_THREADS`` overrides it. Sets larger than ``max_fit`` are fitted
on a random sample and the rest placed by neighbour interpolation.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from lightly_studio.embed._vectors import knn

PCA_DIMS = 50
MAX_FIT = 100_000
SMALL = 30  # below this PaCMAP's neighbour graph is degenerate; PCA to 2-D is the plot


def pca(x: np.ndarray, dims: int = PCA_DIMS) -> np.ndarray:
    """Project onto the top ``dims`` principal components (eigh of the d x d covariance)."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[1] <= dims:
        return x - x.mean(axis=0)
    centred = x - x.mean(axis=0)
    cov = (centred.T @ centred).astype(np.float64) / max(1, len(x) - 1)
    _, vecs = np.linalg.eigh(cov)
    comps = vecs[:, ::-1][:, :dims].astype(np.float32)
    # eigh's signs are arbitrary; fix them so the same data always gives the same plot.
    signs = np.sign(comps[np.abs(comps).argmax(axis=0), np.arange(dims)])
    return centred @ (comps * signs)


def _threads() -> int:
    return max(1, int(os.environ.get("LIGHTLY_STUDIO_PROJECTION_THREADS", "1")))


def fit_2d(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """float32[n, 2] coordinates for normalised vectors ``x``."""
    n = len(x)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    if n < SMALL:
        y = pca(x, 2)
        if y.shape[1] < 2:
            y = np.pad(y, ((0, 0), (0, 2 - y.shape[1])))
        return y.astype(np.float32)
    reduced = pca(x, PCA_DIMS)
    import numba
    import pacmap

    previous = numba.get_num_threads()
    # numba.config fills its settings in at import time, so they are invisible to mypy.
    numba.set_num_threads(min(_threads(), numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    # PaCMAP logs a warning for every fit with a seed or without its own PCA; both are ours.
    pm_log = logging.getLogger("pacmap")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)
    try:
        reducer = pacmap.PaCMAP(
            n_components=2,
            n_neighbors=min(10, n - 2),
            random_state=seed,
            apply_pca=False,  # done above, once, with a deterministic sign
            verbose=False,
        )
        y = reducer.fit_transform(reduced, init="pca")
    finally:
        numba.set_num_threads(previous)
        pm_log.setLevel(level)
    return np.asarray(y, dtype=np.float32)


def place(new: np.ndarray, fitted: np.ndarray, fitted_xy: np.ndarray, k: int = 5) -> np.ndarray:
    """Coordinates for ``new`` vectors: similarity-weighted mean of their k nearest fitted points."""
    if len(new) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    k = min(k, len(fitted))
    sims, idx = knn(fitted, k, queries=new)
    valid = idx >= 0
    # Sharp weights: an exact duplicate lands on its twin, a point between two clusters between.
    dist = np.clip(1.0 - np.where(valid, sims, -1.0), 1e-6, None)
    w = np.where(valid, 1.0 / dist**2, 0.0)
    xy = fitted_xy[np.where(valid, idx, 0)]
    return ((w[..., None] * xy).sum(axis=1) / w.sum(axis=1, keepdims=True)).astype(np.float32)


def project(x: np.ndarray, max_fit: int = MAX_FIT, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, fitted_mask)`` for all rows; above ``max_fit`` rows only a sample is fitted."""
    n = len(x)
    if n <= max_fit:
        return fit_2d(x, seed), np.ones(n, dtype=bool)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, max_fit, replace=False))
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    xy = np.empty((n, 2), dtype=np.float32)
    xy[chosen] = fit_2d(x[chosen], seed)
    xy[~mask] = place(x[~mask], x[chosen], xy[chosen])
    return xy, mask
