"""Vector math on L2-normalised float32 matrices: scores, top-k, k-NN, typicality.

Everything is a few large matrix products (torch uses all cores for them and its topk is
much faster than numpy's argpartition on wide rows; one query's scan goes to numpy, see
max_scores); memory stays bounded by chunking.
Exact k-NN costs n^2*d; above ``EXACT_LIMIT`` query x base pairs an inverted-file search
(spherical k-means, each cluster compared with its ``nprobe`` nearest clusters) is used,
which keeps 100k samples in seconds at a small, measured loss (benchmarks/bench_search.py).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from lightly_studio.errors import EmbeddingError

EXACT_LIMIT = 20_000 * 20_000
_CHUNK_BYTES = 64 * 2**20


def as_float32_matrix(vectors: Any) -> np.ndarray:
    """numpy / torch / nested lists -> contiguous float32[n, d]."""
    if hasattr(vectors, "detach") and hasattr(
        vectors, "cpu"
    ):  # torch.Tensor, without importing torch
        vectors = vectors.detach().float().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if arr.ndim != 2:
        raise EmbeddingError(
            f"Embedding vectors must be a 2-D array [n, dim]; got shape {arr.shape}."
        )
    if arr.size and not np.isfinite(arr).all():
        row = int(np.where(~np.isfinite(arr).all(axis=1))[0][0])
        raise EmbeddingError(f"Embedding vector at row {row} contains NaN or infinity.")
    return arr


def l2_normalise(arr: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if arr.size and (norms == 0).any():
        row = int(np.where(norms[:, 0] == 0)[0][0])
        raise EmbeddingError(f"Embedding vector at row {row} is all zeros and has no direction.")
    return np.ascontiguousarray(arr / norms, dtype=np.float32) if arr.size else arr


def _t(a: np.ndarray):
    """A zero-copy tensor view; arrays read from Arrow are read-only, and we never write."""
    import torch

    a = np.ascontiguousarray(a, dtype=np.float32)
    if a.flags.writeable:
        return torch.from_numpy(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(a)


def max_scores(matrix: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each row of ``matrix``: the highest cosine similarity to any query (float32[n])."""
    import torch

    if len(queries) == 1:
        # One query is a matrix-vector product that only has to stream the matrix through
        # memory. numpy's OpenBLAS sgemv does that at ~2x the speed of torch's MKL sgemv on
        # the AMD build machine (1M x 512: ~100 vs ~180 ms p50, interleaved in one process;
        # benchmarks/bench_search.py search). With several queries torch's sgemm is faster.
        return np.ascontiguousarray(matrix, dtype=np.float32) @ np.asarray(queries[0], np.float32)

    m, q = _t(matrix), _t(queries)
    out = torch.full((len(matrix),), -math.inf)
    step = max(1, _CHUNK_BYTES // (4 * max(1, len(matrix))))
    for start in range(0, len(queries), step):
        out = torch.maximum(out, (m @ q[start : start + step].T).amax(dim=1))
    return out.numpy()


def top_k(scores: np.ndarray, k: int | None) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first (all, sorted, when k is None)."""
    if k is None or k >= len(scores):
        return np.argsort(-scores, kind="stable")
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    # Measured against torch.topk on 1M scores: argpartition 4.9 ms p50, topk 6.4 ms; either
    # is small next to the scan itself (~160 ms: 2 GB of float32 read at memory bandwidth).
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def knn(
    base: np.ndarray,
    k: int,
    queries: np.ndarray | None = None,
    *,
    exact_limit: int = EXACT_LIMIT,
    nprobe: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine k nearest neighbours: ``(similarities, indices)``, each ``[n_queries, k]``, best first.

    Without ``queries`` every row of ``base`` is a query and is not its own neighbour.
    Missing neighbours (fewer than k candidates) have similarity -inf and index -1.
    """
    self_mode = queries is None
    q = base if queries is None else queries
    if len(q) == 0 or k <= 0:
        return np.zeros((len(q), max(k, 0)), np.float32), np.zeros((len(q), max(k, 0)), np.int64)
    if len(q) * len(base) <= exact_limit or len(base) < 64:
        return _exact_knn(base, q, k, self_mode)
    return _ivf_knn(base, q, k, self_mode, nprobe=nprobe, seed=seed)


def _exact_knn(base, q, k, self_mode):
    import torch

    b, qt = _t(base), _t(q)
    kk = min(k, len(base) - (1 if self_mode else 0))
    sims = np.full((len(q), k), -np.inf, dtype=np.float32)
    idx = np.full((len(q), k), -1, dtype=np.int64)
    if kk <= 0:
        return sims, idx
    step = max(1, _CHUNK_BYTES // (4 * len(base)))
    for start in range(0, len(q), step):
        s = qt[start : start + step] @ b.T
        if self_mode:
            rows = torch.arange(s.shape[0])
            s[rows, rows + start] = -math.inf
        v, i = torch.topk(s, kk, dim=1)
        sims[start : start + step, :kk] = v.numpy()
        idx[start : start + step, :kk] = i.numpy()
    return sims, idx


def _assign(x, centroids):
    import torch

    out = torch.empty(len(x), dtype=torch.int64)
    step = max(1, _CHUNK_BYTES // (4 * len(centroids)))
    for start in range(0, len(x), step):
        out[start : start + step] = (x[start : start + step] @ centroids.T).argmax(dim=1)
    return out


def spherical_kmeans(
    x: np.ndarray, n_clusters: int, iters: int = 8, sample: int | None = None, seed: int = 0
) -> np.ndarray:
    """Unit-norm centroids of ``x`` (fit on a random sample for speed)."""
    import torch

    rng = np.random.default_rng(seed)
    xs = x if sample is None or sample >= len(x) else x[rng.choice(len(x), sample, replace=False)]
    xt = _t(xs)
    cent = xt[torch.from_numpy(rng.choice(len(xs), n_clusters, replace=False))].clone()
    for _ in range(iters):
        a = _assign(xt, cent)
        sums = torch.zeros_like(cent).index_add_(0, a, xt)
        counts = torch.bincount(a, minlength=n_clusters)
        empty = counts == 0
        if empty.any():  # re-seed empty clusters with random points
            sums[empty] = xt[torch.from_numpy(rng.choice(len(xs), int(empty.sum()), replace=False))]
        cent = torch.nn.functional.normalize(sums, dim=1)
    return cent.numpy()


def _ivf_knn(base, q, k, self_mode, *, nprobe, seed):
    import torch

    n = len(base)
    n_clusters = int(min(4096, max(8, math.sqrt(n))))
    cent = _t(spherical_kmeans(base, n_clusters, sample=min(n, 64 * n_clusters), seed=seed))
    b = _t(base)
    qt = b if self_mode else _t(q)
    assign_b = _assign(b, cent)
    assign_q = assign_b if self_mode else _assign(qt, cent)
    probes = torch.topk(cent @ cent.T, min(nprobe, n_clusters), dim=1).indices
    order_b = torch.argsort(assign_b)
    bounds_b = torch.cumsum(torch.bincount(assign_b, minlength=n_clusters), 0).tolist()
    order_q = torch.argsort(assign_q)
    bounds_q = torch.cumsum(torch.bincount(assign_q, minlength=n_clusters), 0).tolist()

    def members(bounds, order, c):
        lo = bounds[c - 1] if c else 0
        return order[lo : bounds[c]]

    sims = torch.full((len(q), k), -math.inf)
    idx = torch.full((len(q), k), -1, dtype=torch.int64)
    for c in range(n_clusters):
        q_idx = members(bounds_q, order_q, c)
        if len(q_idx) == 0:
            continue
        cand = torch.cat([members(bounds_b, order_b, int(p)) for p in probes[c]])
        s = qt[q_idx] @ b[cand].T
        if self_mode:
            s[q_idx[:, None] == cand[None, :]] = -math.inf
        kk = min(k, len(cand))
        v, i = torch.topk(s, kk, dim=1)
        sims[q_idx, :kk] = v
        idx[q_idx, :kk] = torch.where(torch.isfinite(v), cand[i], torch.full_like(i, -1))
    return sims.numpy(), idx.numpy()


def typicality(base: np.ndarray, k: int = 20, **knn_kwargs: Any) -> np.ndarray:
    """Mean cosine similarity of each row to its k nearest other rows (float32[n]).

    With fewer than k other rows, all of them are used; a lone row has typicality 0.
    """
    n = len(base)
    if n <= 1:
        return np.zeros(n, dtype=np.float32)
    k = min(k, n - 1)
    sims, _ = knn(base, k, **knn_kwargs)
    sims = np.where(np.isfinite(sims), sims, np.nan)
    return np.nan_to_num(np.nanmean(sims, axis=1), nan=0.0).astype(np.float32)
