"""Approximate nearest-neighbour search for large embedding tables (faiss IVF-Flat).

Below ``ANN_MIN_VECTORS`` vectors an exact scan is fast enough (one matrix-vector product:
about 20 ms at 200k x 512 on the build machine) and exact results are free, so search stays
exact. Above it, each embedding model gets an inverted-file index of its float vectors with
inner-product metric (faiss ``IndexIVFFlat``):

- the index stores the float32 vectors themselves, so the similarities it returns are exact
  and no float matrix is needed to rescore them; the saved index is memory-mapped when read
  back, and a query reads only the lists it probes, so neither index nor matrix need fit in
  RAM;
- vectors are added and removed by id, so the index follows the embedding table as vectors
  arrive without a rebuild (it is retrained when the table has grown 4x since training);
- the number of lists probed per query (``nprobe``) is chosen when the index is built, by
  measuring recall@100 against exact search on the dataset's own vectors, as the smallest
  power of two that reaches ``RECALL_TARGET``.

Why IVF-Flat and not IVF-SQ8 or HNSW: see benchmarks/bench_ann.py and docs/scaling.md
(recall, query time, build time and memory of each at 1M x 512). IVF-SQ8 is a quarter of the
size on disk, but its approximate scores would need the float vectors from DuckDB to rescore,
which costs more than the search itself.

Ids are DuckDB's 64-bit ``hash(sample_id)`` viewed as int64; DuckDB maps the hashes of the
candidates back to sample ids. The index lives in ``<database file>.ann/<model_id>.faiss``
with its ids and a small JSON beside it; an in-memory database keeps it in this process only.
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

from lightly_studio.store import embeddings as store

ANN_MIN_VECTORS = 200_000
RECALL_TARGET = 0.97
_CALIBRATION_QUERIES = 64
_RECALL_AT = 100
_REBUILD_GROWTH = 4
_FORMAT = 2  # 1 was IVF-SQ8: such files are rebuilt


def _faiss() -> Any:
    import faiss

    return faiss


@dataclass
class AnnIndex:
    """An IVF-Flat index over unit vectors whose ids are int64 views of sample-id hashes."""

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

    def ids_distinct(self) -> bool:
        """Whether no two vectors share an id hash (then every hash names one sample)."""
        return bool(len(self.ids) < 2 or np.all(self.ids[1:] != self.ids[:-1]))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(similarities, hashes)`` of the k best per query, best first; missing ones are
        -inf / 0 (callers drop them by the infinite similarity)."""
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
    n_lists = _n_lists(n)
    index = _empty_index(faiss, dim, n_lists, seed)
    rng = np.random.default_rng(seed)
    train = vectors if n <= 40 * n_lists else vectors[np.sort(rng.choice(n, 40 * n_lists, False))]
    index.train(np.ascontiguousarray(train, dtype=np.float32))
    ids = np.asarray(ids).view(np.int64)
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
    order = np.argsort(ids)
    ann = AnnIndex(index, ids[order], vectors[order, 0].copy(), nprobe=1, trained_on=n)
    ann.nprobe = _calibrate(ann, vectors, ids, rng)
    return ann


def build_from_batches(batches: Any, n: int, dim: int, *, seed: int = 0) -> AnnIndex:
    """``build`` without the whole float matrix in memory: ``batches()`` yields
    (ids, unit vectors) chunks and is called twice: for the training sample and the
    calibration queries, then to add every vector and find the queries' exact answers."""
    faiss = _faiss()
    n_lists = _n_lists(n)
    stride = max(1, n // (40 * n_lists))
    query_stride = max(1, n // _CALIBRATION_QUERIES)
    train_parts, query_parts, seen = [], [], 0
    for _, vectors in batches():
        positions = np.arange(seen, seen + len(vectors))
        train_parts.append(vectors[positions % stride == 0])
        query_parts.append(vectors[positions % query_stride == 0])
        seen += len(vectors)
    queries = np.ascontiguousarray(np.concatenate(query_parts)[:_CALIBRATION_QUERIES])
    index = _empty_index(faiss, dim, n_lists, seed)
    index.train(np.ascontiguousarray(np.concatenate(train_parts), dtype=np.float32))
    all_ids, firsts = [], []
    k = min(_RECALL_AT, n)
    best = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), k), dtype=np.int64)
    for ids, vectors in batches():
        ids = np.asarray(ids).view(np.int64)
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        all_ids.append(ids)
        firsts.append(vectors[:, 0].copy())
        scores = queries @ vectors.T
        merged = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argpartition(-merged, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(merged, top, axis=1)
        best_ids = np.take_along_axis(merged_ids, top, axis=1)
    ids = np.concatenate(all_ids)
    order = np.argsort(ids)
    ann = AnnIndex(index, ids[order], np.concatenate(firsts)[order], nprobe=1, trained_on=n)
    ann.nprobe = _nprobe_for(ann, queries, [set(r.tolist()) for r in best_ids], k)
    return ann


def _n_lists(n: int) -> int:
    # ~4 sqrt(n) lists, each trained on at least 40 points (faiss's k-means needs 39).
    return int(max(1, min(16_384, 4 * math.sqrt(n), n // 40)))


def _empty_index(faiss: Any, dim: int, n_lists: int, seed: int) -> Any:
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, n_lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    index.cp.seed = seed
    return index


def _nprobe_for(ann: AnnIndex, queries: np.ndarray, exact_ids: list[set], k: int) -> int:
    """Smallest power-of-two nprobe whose recall@k on ``queries`` reaches the target."""
    nprobe = 1
    while True:
        ann.nprobe = nprobe
        _, found = ann.search(queries, k)
        found = found.view(np.int64)
        recall = np.mean(
            [len(exact_ids[i] & set(found[i].tolist())) / k for i in range(len(queries))]
        )
        if recall >= RECALL_TARGET or nprobe >= ann.index.nlist:
            return min(nprobe, ann.index.nlist)
        nprobe *= 2


def _calibrate(ann: AnnIndex, vectors: np.ndarray, ids: np.ndarray, rng) -> int:
    """Smallest power-of-two nprobe whose recall@100 on sample queries reaches the target."""
    n = len(vectors)
    k = min(_RECALL_AT, n)
    rows = rng.choice(n, min(_CALIBRATION_QUERIES, n), replace=False)
    queries = np.ascontiguousarray(vectors[rows], dtype=np.float32)
    exact = np.argpartition(-(queries @ vectors.T), k - 1, axis=1)[:, :k]
    return _nprobe_for(ann, queries, [set(ids[r].tolist()) for r in exact], k)


def sync(ann: AnnIndex, hashes: np.ndarray, firsts: np.ndarray, fetch: Any) -> AnnIndex | None:
    """Bring ``ann`` in line with a table of vectors known by (id hash, first component):
    remove what went or changed, add what arrived or changed; ``fetch(hashes)`` returns
    (hashes, vectors) of the rows to add. None when the table outgrew the training sample
    (the caller rebuilds)."""
    ids = np.asarray(hashes).view(np.int64)
    if outgrown(ann.trained_on, len(ids)):
        return None
    order = np.argsort(ids)
    ids, firsts = ids[order], np.asarray(firsts, dtype=np.float32)[order]
    pos = np.minimum(np.searchsorted(ann.ids, ids), max(len(ann.ids) - 1, 0))
    if len(ann.ids):
        kept = (ann.ids[pos] == ids) & (ann.first[pos] == firsts)
    else:
        kept = np.zeros(len(ids), dtype=bool)
    stale = np.ones(len(ann.ids), dtype=bool)
    stale[pos[kept]] = False
    if stale.any():
        ann.index.remove_ids(_faiss().IDSelectorBatch(ann.ids[stale]))
    if not kept.all():
        added_hashes, vectors = fetch(ids[~kept].view(np.uint64))
        ann.index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(added_hashes).view(np.int64)
        )
    ann.ids, ann.first = ids, firsts.copy()
    return ann


def outgrown(trained_on: int, n_vectors: int) -> bool:
    """Whether a table of ``n_vectors`` needs the index retrained rather than added to: its
    lists were trained on a sample of ``trained_on`` vectors, and past ``_REBUILD_GROWTH``
    times that they grow long and searches slow down."""
    return n_vectors > _REBUILD_GROWTH * trained_on


def saved_trained_on(path: Path | None) -> int | None:
    """How many vectors the saved index at ``path`` was trained on (its small JSON only);
    None when there is none that ``load`` would accept."""
    if path is None or not (path.exists() and path.with_suffix(".ids.npy").exists()):
        return None
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        return int(meta["trained_on"]) if meta.get("format") == _FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


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


def index_for(con, db_file: str, model: Any, key: tuple) -> AnnIndex:
    """The index of ``model`` (a store ModelRow) for the table state ``key``.

    Loaded from disk when saved, updated with what arrived, went or changed since (read by
    id hash and first component, 12 bytes a vector), rebuilt in batches when the table
    outgrew it, and saved again after any change. The float vectors are never all in memory.
    """
    with _lock:
        hit = _cache.get(model.model_id)
        if hit is not None and hit[0] == key:
            return hit[1]
        path = index_path(db_file, model.model_id)
        ann = hit[1] if hit is not None else (load(path) if path is not None else None)
        hashes, firsts = store.vector_fingerprints(con, model.model_id)
        if ann is not None and not _same_rows(ann, hashes, firsts):
            if ann.read_only and path is not None:
                ann = load(path, mmap=False)
            if ann is not None:
                ann = sync(
                    ann,
                    hashes,
                    firsts,
                    lambda wanted: store.vectors_by_hashes(con, model.model_id, model.dim, wanted)[
                        1:
                    ],
                )
            if ann is not None and path is not None:
                save(ann, path)
        if ann is None:
            ann = build_from_batches(
                lambda: store.vector_batches(con, model.model_id, model.dim), len(hashes), model.dim
            )
            if path is not None:
                save(ann, path)
        _cache[model.model_id] = (key, ann)
        return ann


def _same_rows(ann: AnnIndex, hashes: np.ndarray, firsts: np.ndarray) -> bool:
    ids = np.asarray(hashes).view(np.int64)
    if len(ids) != len(ann.ids):
        return False
    order = np.argsort(ids)
    return bool(np.array_equal(ids[order], ann.ids) and np.array_equal(firsts[order], ann.first))


_builds: dict[str, threading.Thread] = {}


def index_if_ready(con, db_file: str, model: Any, key: tuple, connect: Any) -> AnnIndex | None:
    """The index when one is cached or saved and can be brought up to date without training
    (as ``index_for`` does: load, add and remove vectors); else None, and a background
    thread builds it (trains it anew when the table outgrew it).

    For the views: training an index over 1M vectors takes a minute or more, which a grid's
    search must not wait for; it is answered by the exact scan meanwhile. While a build
    holds the lock, None as well. ``connect()`` gives the build thread its own cursor.
    """
    if not _lock.acquire(blocking=False):
        return None
    try:
        hit = _cache.get(model.model_id)
        if hit is not None and hit[0] == key:
            return hit[1]
        path = index_path(db_file, model.model_id)
        trained_on = hit[1].trained_on if hit is not None else saved_trained_on(path)
    finally:
        _lock.release()
    if trained_on is not None and not outgrown(trained_on, store.vector_count(con, model.model_id)):
        return index_for(con, db_file, model, key)

    def build() -> None:
        try:
            index_for(connect(), db_file, model, key)
        except Exception as exc:  # noqa: BLE001 - the exact scan keeps answering; log why
            import logging

            logging.getLogger(__name__).warning("Building the search index failed: %s", exc)

    with _lock:
        running = _builds.get(model.model_id)
        if running is None or not running.is_alive():
            # Named like the server's workers: whoever closes the database waits for them.
            thread = threading.Thread(target=build, name="lightly-studio-ann-build", daemon=True)
            _builds[model.model_id] = thread
            thread.start()
    return None


def wait_for_builds(timeout: float | None = None) -> None:
    """Wait for background index builds (tests, benchmarks, closing the database)."""
    for thread in list(_builds.values()):
        thread.join(timeout)


def forget(model_id: str | None = None) -> None:
    """Drop cached indexes (all, or one model's), e.g. when the database is switched."""
    with _lock:
        if model_id is None:
            _cache.clear()
        else:
            _cache.pop(model_id, None)
