"""The approximate index that serves similarity search on large embedding tables.

Below ``ANN_MIN_VECTORS`` search is exact; above it a faiss IVF-SQ8 index stored beside the
database gives the candidates, which are then rescored exactly. The threshold is lowered here
so that a few thousand vectors exercise the approximate path.
"""

from __future__ import annotations

import threading

import numpy as np
import polars as pl
import pytest

from lightly_studio import embed
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.db import transaction
from lightly_studio.embed import _ann
from lightly_studio.store.samples import insert_samples


def clustered(n: int, dim: int = 64, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around random cluster centres, the shape real image embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.6, size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(x: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ x.T), axis=1, kind="stable")[:, :k]


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])
    )


def test_index_calibrates_its_probes_to_the_recall_target():
    x = clustered(6000)
    ids = np.arange(len(x), dtype=np.uint64)
    ann = _ann.build(x, ids)
    queries = x[np.random.default_rng(1).choice(len(x), 50, replace=False)]
    _, found = ann.search(queries, 100)
    assert recall(found.astype(np.int64), exact_top(x, queries, 100)) >= 0.95
    assert 1 <= ann.nprobe <= ann.index.nlist


def _sync(ann, vectors: np.ndarray, ids: np.ndarray):
    """sync() against an in-memory table of (ids, vectors)."""
    by_id = dict(zip(ids.tolist(), vectors, strict=True))

    def fetch(wanted):
        return wanted, np.stack([by_id[int(h)] for h in wanted])

    return _ann.sync(ann, ids, vectors[:, 0], fetch)


def test_sync_adds_new_vectors_removes_gone_ones_and_replaces_changed_ones():
    x = clustered(3000)
    ids = np.arange(len(x), dtype=np.uint64)
    ann = _ann.build(x[:2000], ids[:2000])
    trained = ann.trained_on

    # 1000 arrive, 500 go, and row 10 gets a new vector (a copy of row 2500's).
    keep = np.r_[0:10, 11:1500, 2000:3000]
    vectors = np.concatenate([x[keep], x[2500:2501]])
    now = np.concatenate([ids[keep], ids[10:11]])
    synced = _sync(ann, vectors, now)
    assert synced is not None and synced.trained_on == trained  # updated, not retrained
    assert synced.index.ntotal == len(now)
    _, found = synced.search(x[2500:2501], 2)
    assert set(found[0].tolist()) == {2500, 10}
    _, found = synced.search(x[1700:1701], 100)
    assert 1700 not in found[0].tolist()


def test_sync_asks_for_a_rebuild_once_the_table_outgrew_the_training_sample():
    x = clustered(1200)
    ids = np.arange(len(x), dtype=np.uint64)
    ann = _ann.build(x[:200], ids[:200])
    assert _sync(ann, x, ids) is None


def test_an_index_built_in_batches_matches_one_built_at_once():
    x = clustered(5000)
    ids = np.arange(len(x), dtype=np.uint64)

    def batches():
        for start in range(0, len(x), 700):
            yield ids[start : start + 700], x[start : start + 700]

    ann = _ann.build_from_batches(batches, len(x), x.shape[1])
    assert ann.index.ntotal == len(x) and ann.trained_on == len(x)
    queries = x[np.random.default_rng(3).choice(len(x), 50, replace=False)]
    _, found = ann.search(queries, 100)
    assert recall(found.astype(np.int64), exact_top(x, queries, 100)) >= 0.95


def test_saved_index_reads_back_memory_mapped_and_damaged_files_are_not_trusted(tmp_path):
    x = clustered(3000)
    ids = np.arange(len(x), dtype=np.uint64)
    ann = _ann.build(x, ids)
    path = _ann.index_path(str(tmp_path / "lightly_studio.db"), "model")
    _ann.save(ann, path)
    loaded = _ann.load(path)
    assert loaded is not None and loaded.read_only and loaded.nprobe == ann.nprobe
    np.testing.assert_array_equal(loaded.search(x[:5], 20)[1], ann.search(x[:5], 20)[1])

    # A new file under the name (as save() does), so the mapped one stays valid.
    damaged = path.with_name("damaged")
    damaged.write_bytes(b"not an index")
    damaged.replace(path)
    assert _ann.load(path) is None
    assert _ann.index_path(":memory:", "model") is None


def samples_without_files(n: int) -> tuple[ImageDataset, list]:
    """A dataset of ``n`` samples (no files), and their ids in file name order."""
    ds = ImageDataset.create("large")
    frame = pl.DataFrame(
        {
            "file_path_abs": [f"/data/{i:05d}.jpg" for i in range(n)],
            "file_name": [f"{i:05d}.jpg" for i in range(n)],
            "width": 64,
            "height": 64,
        }
    )
    with transaction() as con:
        stored = insert_samples(con, ds.dataset_id, frame)
    return ds, stored.sort("file_path_abs")["sample_id"].to_list()


@pytest.fixture
def large(db, tmp_path, monkeypatch):
    """3,000 samples with clustered vectors, over a lowered approximate-search threshold."""
    monkeypatch.setattr(_ann, "ANN_MIN_VECTORS", 1000)
    _ann.forget()
    ds, ids = samples_without_files(3000)
    x = clustered(3000)
    embed.add_embeddings(ds, "m", ids[:2500], x[:2500])
    yield ds, ids, x, db
    _ann.forget()


def test_search_on_a_large_table_uses_the_stored_index_and_returns_exact_scores(large):
    ds, ids, x, db_path = large
    ranked = embed.similarity_scores(ds.query(), samples=[ids[7]], k=20)
    truth = exact_top(x[:2500], x[7:8], 20)[0]
    assert len(set(ranked["sample_id"]) & {str(ids[i]) for i in truth}) >= 19
    by_id = {str(ids[i]): i for i in range(2500)}
    expected = [float(x[by_id[s]] @ x[7]) for s in ranked["sample_id"]]
    np.testing.assert_allclose(ranked["similarity"], expected, atol=1e-5)
    assert ranked["similarity"].is_sorted(descending=True)
    assert list(db_path.parent.glob("lightly_studio.db.ann/*.faiss"))


def test_a_grid_page_of_a_search_ranks_only_up_to_its_end_from_the_index(large, monkeypatch):
    """The grid asks for rows [offset, offset+limit) of a search: those come from the index
    (the float matrix is never read), pages continue each other, and the count is the
    query's embedded samples, counted without scoring. The first search does not wait for
    the index: the exact scan answers it while a background thread builds the index."""
    from lightly_studio.api import dispatch
    from lightly_studio.store import embeddings as emb_store

    ds, ids, x, db_path = large
    spec = {"dataset_id": str(ds.dataset_id), "similar_to": str(ids[7])}

    def page(offset: int, limit: int) -> list[str]:
        result, _ = dispatch("samples_page", {"spec": spec, "offset": offset, "limit": limit})
        return [r["sample_id"] for r in result["rows"]]

    exact = [str(ids[i]) for i in exact_top(x[:2500], x[7:8], 100)[0]]
    assert page(0, 100) == exact  # no index yet: the exact scan
    _ann.wait_for_builds(timeout=60)
    assert list(db_path.parent.glob("lightly_studio.db.ann/*.faiss"))

    def no_matrix(*args, **kwargs):
        raise AssertionError("a grid page of a search read the whole float matrix")

    monkeypatch.setattr(emb_store, "load_matrix", no_matrix)
    first, second, both = page(0, 50), page(50, 50), page(0, 100)
    assert first + second == both
    assert both[0] == str(ids[7])  # the example itself, similarity 1
    assert len(set(both) & set(exact)) >= 95
    assert dispatch("count", {"spec": spec})[0]["count"] == 2500  # 500 have no vector

    # Re-sorted by another field, every match is ranked: the exact path, same count.
    monkeypatch.undo()
    resorted = {**spec, "sort": {"field": "file_name", "desc": False}}
    assert dispatch("count", {"spec": resorted})[0]["count"] == 2500
    result, _ = dispatch("samples_page", {"spec": resorted, "limit": 3})
    assert [r["file_name"] for r in result["rows"]] == ["00000.jpg", "00001.jpg", "00002.jpg"]


def test_a_saved_index_the_table_outgrew_is_retrained_in_the_background(db, monkeypatch):
    """A restarted process finds a saved index trained on 600 vectors while the table now
    holds 3,000 (more than 4x): bringing it up to date means training it anew, a minute at
    a million vectors. A grid's search does not wait for that: the exact scan answers it
    and a background thread retrains."""
    from lightly_studio.api import dispatch

    monkeypatch.setattr(_ann, "ANN_MIN_VECTORS", 500)
    _ann.forget()
    ds, ids = samples_without_files(3000)
    x = clustered(3000)
    embed.add_embeddings(ds, "m", ids[:600], x[:600])
    embed.similarity_scores(ds.query(), samples=[ids[0]], k=5)  # builds and saves the index
    embed.add_embeddings(ds, "m", ids[600:], x[600:])
    _ann.forget()  # the restart: only the saved index is left

    trained_in: list[str] = []
    build = _ann.build_from_batches

    def recorded_build(*args, **kwargs):
        trained_in.append(threading.current_thread().name)
        return build(*args, **kwargs)

    monkeypatch.setattr(_ann, "build_from_batches", recorded_build)
    spec = {"dataset_id": str(ds.dataset_id), "similar_to": str(ids[7])}
    page, _ = dispatch("samples_page", {"spec": spec, "limit": 100})
    assert [r["sample_id"] for r in page["rows"]] == [
        str(ids[i]) for i in exact_top(x, x[7:8], 100)[0]
    ]
    _ann.wait_for_builds(timeout=60)
    assert trained_in == ["lightly-studio-ann-build"]
    (cached,) = _ann._cache.values()
    assert cached[1].trained_on == 3000

    # Restarted again: the saved index fits the table, so the search loads it at once.
    _ann.forget()
    dispatch("samples_page", {"spec": spec, "limit": 100})
    (cached,) = _ann._cache.values()
    assert cached[1].trained_on == 3000 and trained_in == ["lightly-studio-ann-build"]
    _ann.forget()


def test_several_query_samples_give_each_result_its_best_exact_similarity(large):
    ds, ids, x, _ = large
    rows = [5, 900, 1800]
    ranked = embed.similarity_scores(ds.query(), samples=[ids[r] for r in rows], k=50)
    exact = (x[:2500] @ x[rows].T).max(axis=1)
    truth = np.argsort(-exact)[:50]
    assert len(set(ranked["sample_id"]) & {str(ids[i]) for i in truth}) >= 48
    by_id = {str(ids[i]): i for i in range(2500)}
    expected = [float(exact[by_id[s]]) for s in ranked["sample_id"]]
    np.testing.assert_allclose(ranked["similarity"], expected, atol=1e-5)


def test_vectors_added_later_are_found_without_retraining_the_index(large):
    ds, ids, x, _ = large
    embed.similarity_scores(ds.query(), samples=[ids[0]], k=5)
    (model_id,) = _ann._cache
    trained = _ann._cache[model_id][1].trained_on

    embed.add_embeddings(ds, "m", ids[2500:], x[2500:])
    ranked = embed.similarity_scores(ds.query(), samples=[ids[2900]], k=1)
    assert ranked["sample_id"].to_list() == [str(ids[2900])]
    assert _ann._cache[model_id][1].trained_on == trained
    assert _ann._cache[model_id][1].index.ntotal == 3000


def test_search_through_the_index_never_loads_the_float_matrix(large, monkeypatch):
    from lightly_studio.store import embeddings as store

    ds, ids, _, _ = large
    monkeypatch.setattr(store, "load_matrix", lambda *a, **k: pytest.fail("loaded the matrix"))
    ranked = embed.similarity_scores(ds.query(), samples=[ids[3]], k=10)
    assert ranked["sample_id"][0] == str(ids[3])


def test_the_index_answers_only_with_samples_of_the_query(large):
    ds, ids, _, _ = large
    ds.query()[:2000].add_tag("first")
    query = ds.match(ImageSampleField.tags.contains("first"))
    ranked = embed.similarity_scores(query, samples=[ids[2100]], k=30)
    assert ranked.height == 30
    assert set(ranked["sample_id"]) <= {str(i) for i in ids[:2000]}


def test_a_restarted_process_reads_the_saved_index_instead_of_rebuilding(large, monkeypatch):
    ds, ids, _, _ = large
    embed.similarity_scores(ds.query(), samples=[ids[0]], k=5)
    _ann.forget()
    monkeypatch.setattr(
        _ann, "build_from_batches", lambda *a, **k: pytest.fail("rebuilt a saved index")
    )
    ranked = embed.similarity_scores(ds.query(), samples=[ids[0]], k=5)
    assert ranked["sample_id"][0] == str(ids[0])


def test_near_duplicate_pairs_above_the_threshold_come_from_a_range_search(monkeypatch):
    from lightly_studio.quality._image_issues import embedding_pairs

    x = clustered(4000)
    rng = np.random.default_rng(2)
    twins = rng.choice(4000, 40, replace=False)
    near = x[twins] + rng.normal(scale=0.01, size=(40, x.shape[1])).astype(np.float32)
    x = np.concatenate([x, near / np.linalg.norm(near, axis=1, keepdims=True)])
    exact = {tuple(p) for p in embedding_pairs(x, 0.01).tolist()}

    monkeypatch.setattr(_ann, "ANN_MIN_VECTORS", 1000)
    approximate = {tuple(p) for p in embedding_pairs(x, 0.01).tolist()}
    assert {(int(t), 4000 + i) for i, t in enumerate(twins)} <= exact
    assert approximate == exact
