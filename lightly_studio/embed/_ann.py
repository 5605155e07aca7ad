"""Approximate nearest-neighbour search for large embedding tables (faiss IVF-SQ8).

Below ``ANN_MIN_VECTORS`` vectors an exact scan is fast enough (one matrix-vector product:
about 20 ms at 200k x 512 on the build machine) and exact results are free, so search stays
exact. Above it, each embedding model gets an inverted-file index of 8-bit scalar-quantised
vectors with inner-product metric (faiss ``IndexIVFScalarQuantizer``):

- 8-bit codes are a quarter of the float32 matrix, and the saved index is memory-mapped when
  read back, so the index itself need not fit in RAM;
- vectors are added and removed by id, so the index follows the embedding table as vectors
  arrive without a rebuild (it is retrained when the table has grown 4x since training);
- the number of lists probed per query (``nprobe``) is chosen when the index is built, by
  measuring recall@100 against exact search on the dataset's own vectors, as the smallest
  power of two that reaches ``RECALL_TARGET``.

Why IVF-SQ8 and not HNSW or a flat IVF: see benchmarks/bench_ann.py and docs/scaling.md
(recall, query time, build time and memory of each at 1M x 512).

Ids are DuckDB's 64-bit ``hash(sample_id)`` (``store.embeddings.Matrix.hashes``) viewed as
int64, so a search answers with matrix rows through ``Matrix.rows_of_hashes`` without any
text id. The index lives in ``<database file>.ann/<model_id>.faiss`` with a small JSON beside
it; an in-memory database keeps it in this process only.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ANN_MIN_VECTORS = 200_000
RECALL_TARGET = 0.97
_CALIBRATION_QUERIES = 64
_RECALL_AT = 100
_REBUILD_GROWTH = 4
_FORMAT = 1


def _faiss() -> Any:
    import faiss

    return faiss


@dataclass
class AnnIndex:
    """An IVF-SQ8 index over unit vectors whose ids are int64 views of sample-id hashes."""

    index: Any
    ids: np.ndarray  # sorted int64 ids held by the index
    # The first component of each id's vector (aligned with ``ids``): a vector replaced
    # under the same id is found by it and re-added.
    first: np.ndarray
    nprobe: int
    trained_on: int
    read_only: bool = False  # memory-mapped from disk; load a full copy to change it

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(similarities, hashes)`` of the k best per query, best first; missing ones are
        -inf / 0 (a hash no sample has: rows_of_hashes ignores it)."""
        self.index.nprobe = self.nprobe
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        sims, ids = self.index.search(queries, min(k, max(1, len(self.ids))))
        missing = ids == -1  # faiss's "no neighbour"; other negative ids are hashes
        sims[missing] = -np.inf
        ids[missing] = 0
        return sims, ids.view(np.uint64)

    def range_pairs(self, vectors: np.ndarray, min_similarity: float) -> np.ndarray:
        """Pairs (i, j), i < j, of ``vectors`` rows (the ids of this index are their row
        numbers) with inner product >= ``min_similarity``."""
        self.index.nprobe = self.nprobe
        lims, _, ids = self.index.range_search(
            np.ascontiguousarray(vectors, dtype=np.float32), float(min_similarity)
        )
        rows = np.repeat(np.arange(len(vectors), dtype=np.int64), np.diff(lims).astype(np.int64))
        keep = rows < ids
        return np.stack([rows[keep], ids[keep]], axis=1)


def build(vectors: np.ndarray, ids: np.ndarray, *, seed: int = 0) -> AnnIndex:
    """Train an index on ``vectors`` (unit rows), add them under ``ids`` and calibrate nprobe."""
    faiss = _faiss()
    n, dim = vectors.shape
    # ~4 sqrt(n) lists, each trained on at least 40 points (faiss's k-means needs 39).
    n_lists = int(max(1, min(16_384, 4 * math.sqrt(n), n // 40)))
    quantiser = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantiser, dim, n_lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = 10
    index.cp.seed = seed
    rng = np.random.default_rng(seed)
    train = vectors if n <= 40 * n_lists else vectors[np.sort(rng.choice(n, 40 * n_lists, False))]
    index.train(np.ascontiguousarray(train, dtype=np.float32))
    ids = np.asarray(ids).view(np.int64)
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    order = np.argsort(ids)
    ann = AnnIndex(index, ids[order], vectors[order, 0].copy(), nprobe=1, trained_on=n)
    ann.nprobe = _calibrate(ann, vectors, ids, rng)
    return ann


def _calibrate(ann: AnnIndex, vectors: np.ndarray, ids: np.ndarray, rng) -> int:
    """Smallest power-of-two nprobe whose recall@100 on sample queries reaches the target."""
    n = len(vectors)
    k = min(_RECALL_AT, n)
    rows = rng.choice(n, min(_CALIBRATION_QUERIES, n), replace=False)
    queries = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    exact_scores = queries @ vectors.T
    exact = np.argpartition(-exact_scores, k - 1, axis=1)[:, :k]
    exact_ids = [set(ids[r].tolist()) for r in exact]
    n_lists = ann.index.nlist
    nprobe = 1
    while True:
        ann.nprobe = nprobe
        _, found = ann.search(queries, k)
        found = found.view(np.int64)
        recall = np.mean([len(exact_ids[i] & set(found[i].tolist())) / k for i in range(len(rows))])
        if recall >= RECALL_TARGET or nprobe >= n_lists:
            return min(nprobe, n_lists)
        nprobe *= 2


def sync(ann: AnnIndex, vectors: np.ndarray, ids: np.ndarray) -> AnnIndex | None:
    """Bring ``ann`` in line with (vectors, ids): add the new ids, remove the gone ones.

    Returns None when the table has outgrown the training sample (the caller rebuilds)."""
    ids = np.asarray(ids).view(np.int64)
    if len(ids) > _REBUILD_GROWTH * ann.trained_on:
        return None
    order = np.argsort(ids)
    ids, first = ids[order], vectors[order, 0]
    pos = np.minimum(np.searchsorted(ann.ids, ids), max(len(ann.ids) - 1, 0))
    kept = (
        (ann.ids[pos] == ids) & (ann.first[pos] == first)
        if len(ann.ids)
        else np.zeros(len(ids), dtype=bool)
    )
    stale = np.ones(len(ann.ids), dtype=bool)
    stale[pos[kept]] = False
    if stale.any():
        ann.index.remove_ids(_faiss().IDSelectorBatch(ann.ids[stale]))
    if not kept.all():
        rows = order[~kept]
        ann.index.add_with_ids(np.ascontiguousarray(vectors[rows], dtype=np.float32), ids[~kept])
    ann.ids, ann.first = ids, first.copy()
    return ann


# -- where the index of a model lives ----------------------------------------------------------
def index_path(db_file: str, model_id: str) -> Path | None:
    """``<db>.ann/<model_id>.faiss``, or None for an in-memory database."""
    if not db_file or db_file == ":memory:":
        return None
    return Path(f"{db_file}.ann") / f"{model_id}.faiss"


def save(ann: AnnIndex, path: Path) -> None:
    """Write index and ids next to each other; a crash mid-write leaves the old pair."""
    faiss = _faiss()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_index = path.with_suffix(".faiss.tmp")
    tmp_ids = path.with_suffix(".ids.npy.tmp")
    faiss.write_index(ann.index, str(tmp_index))
    with open(tmp_ids, "wb") as f:
        np.save(f, np.stack([ann.ids, ann.first.astype(np.float64).view(np.int64)]))
    meta = {"format": _FORMAT, "nprobe": ann.nprobe, "trained_on": ann.trained_on}
    os.replace(tmp_ids, path.with_suffix(".ids.npy"))
    os.replace(tmp_index, path)
    path.with_suffix(".json").write_text(json.dumps(meta))


def load(path: Path, *, mmap: bool = True) -> AnnIndex | None:
    """The saved index, memory-mapped; None when absent, unreadable or of another format."""
    faiss = _faiss()
    meta_path, ids_path = path.with_suffix(".json"), path.with_suffix(".ids.npy")
    if not (path.exists() and meta_path.exists() and ids_path.exists()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != _FORMAT:
            return None
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(path), flags)
        ids, first = np.load(ids_path)
    except (OSError, ValueError, RuntimeError):
        return None  # a damaged index is rebuilt, never trusted
    if index.ntotal != len(ids):
        return None
    first = first.view(np.float64).astype(np.float32)
    return AnnIndex(index, ids, first, int(meta["nprobe"]), int(meta["trained_on"]), mmap)


# -- the per-process cache, kept in step with the embedding table -------------------------------
_cache: dict[str, tuple[tuple, AnnIndex]] = {}
_lock = threading.Lock()


def index_for(db_file: str, model_id: str, key: tuple, vectors: np.ndarray, hashes: np.ndarray):
    """The index of ``model_id`` for the table state ``key`` (None below ``ANN_MIN_VECTORS``).

    Loaded from disk when saved, updated with what arrived or went since, rebuilt when the
    table outgrew it, and saved again after any change.
    """
    if len(vectors) < ANN_MIN_VECTORS:
        return None
    with _lock:
        hit = _cache.get(model_id)
        if hit is not None and hit[0] == key:
            return hit[1]
        path = index_path(db_file, model_id)
        ann = hit[1] if hit is not None else (load(path) if path is not None else None)
        if ann is not None and not _same_rows(ann, vectors, hashes):
            if ann.read_only and path is not None:
                ann = load(path, mmap=False)
            ann = sync(ann, vectors, hashes) if ann is not None else None
            if ann is not None and path is not None:
                save(ann, path)
        if ann is None:
            ann = build(vectors, hashes)
            if path is not None:
                save(ann, path)
        _cache[model_id] = (key, ann)
        return ann


def _same_rows(ann: AnnIndex, vectors: np.ndarray, hashes: np.ndarray) -> bool:
    ids = np.asarray(hashes).view(np.int64)
    if len(ids) != len(ann.ids):
        return False
    order = np.argsort(ids)
    return bool(
        np.array_equal(ids[order], ann.ids) and np.array_equal(vectors[order, 0], ann.first)
    )


def forget(model_id: str | None = None) -> None:
    """Drop cached indexes (all, or one model's), e.g. when the database is switched."""
    with _lock:
        if model_id is None:
            _cache.clear()
        else:
            _cache.pop(model_id, None)
