"""Embeddings in a dataset: storing, searching, typicality, similarity metadata, projection.

Vectors with known geometry (unit vectors at given angles in one plane, so the cosine
similarity of two samples is the cosine of their angle difference) make every score exact.
"""

from __future__ import annotations

import uuid

import numpy as np
import polars as pl
import pytest
from PIL import Image

from lightly_studio import embed
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.db import get_connection
from lightly_studio.embed._api import EmbeddingsUnavailableWarning
from lightly_studio.embed.models import register_embedding_model, unregister_embedding_model
from lightly_studio.errors import EmbeddingError, QueryError
from tests.embed.conftest import RANDOM_SPEC
from tests.embed.test_vectors import cos, on_circle

ANGLES = [0, 10, 25, 90, 170, 200]


def make_dataset(folder, n: int, name: str = "emb") -> tuple[ImageDataset, list[uuid.UUID]]:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (24 + i, 16), (40 * i % 256, 90, 150)).save(folder / f"{i:02d}.png")
    ds = ImageDataset.create(name)
    ds.add_images_from_path(str(folder), embed=False)
    samples = sorted(ds.query().to_list(), key=lambda s: s.file_name)
    return ds, [s.sample_id for s in samples]


@pytest.fixture
def circle(db, tmp_path):
    """Six samples whose 'circle' vectors sit at ANGLES degrees."""
    ds, ids = make_dataset(tmp_path / "imgs", len(ANGLES))
    embed.add_embeddings(ds, "circle", ids, on_circle(*ANGLES))
    return ds, ids


def test_added_vectors_are_listed_under_their_model_and_read_back(circle):
    ds, ids = circle
    assert ds.embedding_models == ["circle"]
    got_ids, vectors = embed.get_embeddings(ds)
    by_id = dict(zip(got_ids, vectors, strict=True))
    np.testing.assert_allclose(by_id[ids[1]], on_circle(10)[0], atol=1e-6)
    sub_ids, sub = embed.get_embeddings(
        ds, ds.match(ImageSampleField.file_name == "03.png").sample_ids_subquery()
    )
    assert sub_ids == [ids[3]] and sub.shape == (1, 4)


def test_added_vectors_are_normalised_and_validated(circle):
    ds, ids = circle
    embed.add_embeddings(ds, "raw", ids[:2], np.array([[3.0, 4.0], [0.0, 5.0]]))
    _, vectors = embed.get_embeddings(ds, [ids[0]], model_name="raw")
    np.testing.assert_allclose(vectors, [[0.6, 0.8]], rtol=1e-6)
    with pytest.raises(EmbeddingError, match="2 sample ids but 1 vectors"):
        embed.add_embeddings(ds, "raw", ids[:2], np.ones((1, 2)))
    with pytest.raises(EmbeddingError, match="not in dataset 'emb'"):
        embed.add_embeddings(ds, "raw", [uuid.uuid4()], np.ones((1, 2)))
    with pytest.raises(EmbeddingError, match="stores 2-d vectors"):
        embed.add_embeddings(ds, "raw", ids[:1], np.ones((1, 3)))


def test_search_by_example_sample_ranks_by_cosine_similarity(circle):
    ds, ids = circle
    ranked = ds.query().sort_by_similarity(samples=[ids[0]]).to_list()
    assert [s.sample_id for s in ranked] == [ids[i] for i in (0, 1, 2, 3, 5, 4)]
    np.testing.assert_allclose(
        [s.similarity for s in ranked], [1, cos(10), cos(25), 0, cos(200), cos(170)], atol=1e-6
    )


def test_search_filters_first_then_ranks_and_k_keeps_the_best(circle):
    ds, ids = circle
    ds.query()[2:].add_tag("later")  # samples at 25, 90, 170, 200 degrees
    query = ds.match(ImageSampleField.tags.contains("later"))
    ranked = query.sort_by_similarity(samples=[ds.get_sample(ids[1])], k=2).to_list()
    assert [s.sample_id for s in ranked] == [ids[2], ids[3]]
    assert ranked[0].similarity == pytest.approx(cos(15), abs=1e-6)


def test_several_example_samples_score_the_best_match_of_each(circle):
    ds, ids = circle
    frame = embed.similarity_scores(ds.query(), samples=[ids[0], ids[3]])
    scores = dict(zip(frame["sample_id"], frame["similarity"], strict=True))
    assert scores[str(ids[2])] == pytest.approx(cos(25), abs=1e-6)  # closer to 0 than to 90
    assert scores[str(ids[4])] == pytest.approx(cos(80), abs=1e-6)  # 170 is 80 from 90
    assert frame["similarity"].is_sorted(descending=True)


def test_search_needs_exactly_one_query_and_embedded_examples(circle, tmp_path):
    ds, ids = circle
    with pytest.raises(QueryError, match="exactly one"):
        embed.similarity_scores(ds.query())
    extra = ImageDataset.create("other")
    with pytest.raises(EmbeddingError, match="has no embeddings yet"):
        embed.similarity_scores(extra.query(), samples=[ids[0]])
    embed.add_embeddings(ds, "partial", ids[:1], np.ones((1, 2)))
    with pytest.raises(EmbeddingError, match=f"Sample {ids[1]} has no embedding"):
        embed.similarity_scores(ds.query(), samples=[ids[1]], model_name="partial")
    with pytest.raises(EmbeddingError, match="no embeddings of model 'nope'"):
        embed.similarity_scores(ds.query(), samples=[ids[0]], model_name="nope")


class CircleText:
    """Text encoder for the 'circle' vectors: 'deg:15' points at 15 degrees."""

    name = "circle"

    def embed_images(self, images):
        raise NotImplementedError

    def embed_texts(self, texts):
        return on_circle(*[float(t.split(":")[1]) for t in texts])


def test_text_search_uses_the_registered_encoder_of_the_model(circle):
    ds, ids = circle
    with pytest.raises(EmbeddingError, match="no text encoder"):
        ds.query().sort_by_similarity(text="deg:15")
    register_embedding_model(CircleText())
    try:
        ranked = ds.query().sort_by_similarity(text="deg:180", k=3).to_list()
    finally:
        unregister_embedding_model("circle")
    assert [s.sample_id for s in ranked] == [ids[4], ids[5], ids[3]]
    assert ranked[0].similarity == pytest.approx(cos(10), abs=1e-6)


def test_replaced_vectors_are_searched_at_once(circle):
    ds, ids = circle
    before = embed.similarity_scores(ds.query(), samples=[ids[0]], k=2)
    assert before["sample_id"].to_list() == [str(ids[0]), str(ids[1])]
    embed.add_embeddings(ds, "circle", [ids[4]], on_circle(1))  # 170 degrees -> 1 degree
    after = embed.similarity_scores(ds.query(), samples=[ids[0]], k=2)
    assert after["sample_id"].to_list() == [str(ids[0]), str(ids[4])]


def test_typicality_is_stored_as_metadata(db, tmp_path):
    ds, ids = make_dataset(tmp_path / "t", 4)
    embed.add_embeddings(ds, "circle", ids, on_circle(0, 10, 20, 90))
    assert ds.compute_typicality_metadata(k=2) == "typicality"
    values = [ds.get_sample(i).metadata["typicality"] for i in ids]
    np.testing.assert_allclose(
        values,
        [(cos(10) + cos(20)) / 2, cos(10), (cos(10) + cos(20)) / 2, (cos(70) + cos(80)) / 2],
        atol=1e-6,
    )


def test_similarity_to_tagged_samples_is_stored_as_metadata(circle):
    ds, ids = circle
    ds.get_sample(ids[0]).add_tag("query")
    ds.get_sample(ids[3]).add_tag("query")
    key = ds.compute_similarity_metadata("query", metadata_name="sim")
    assert key == "sim"
    values = [ds.get_sample(i).metadata["sim"] for i in ids]
    np.testing.assert_allclose(values, [1, cos(10), cos(25), 1, cos(80), cos(110)], atol=1e-6)
    default_key = ds.compute_similarity_metadata("query")
    assert default_key.startswith("similarity_query_20")
    with pytest.raises(QueryError, match="no tag 'nope'"):
        ds.compute_similarity_metadata("nope")


def test_projection_is_cached_and_new_samples_are_placed_by_their_neighbours(
    db, tmp_path, monkeypatch
):
    ds, ids = make_dataset(tmp_path / "p", 8)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(8, 16)).astype(np.float32)
    embed.add_embeddings(ds, "m", ids[:6], vectors[:6])
    first = ds.compute_projection()
    assert first.columns == ["sample_id", "x", "y"] and first.height == 6

    from lightly_studio.embed import _projection

    def no_refit(*args, **kwargs):
        raise AssertionError("the cached projection must be reused")

    monkeypatch.setattr(_projection, "project", no_refit)
    assert ds.compute_projection().sort("sample_id").equals(first.sort("sample_id"))
    # Nothing new and nothing gone: the stored points are the answer, no vector is read
    # (at 1,000,000 x 512 that is 2 GB).
    from lightly_studio.store import embeddings as _store

    def no_vectors(*args, **kwargs):
        raise AssertionError("the vectors must not be loaded")

    with monkeypatch.context() as m:
        m.setattr(_store, "load_matrix", no_vectors)
        assert ds.compute_projection().sort("sample_id").equals(first.sort("sample_id"))

    # Sample 6 is a twin of sample 2: it lands on its twin. Both are placed, not fitted.
    embed.add_embeddings(ds, "m", ids[6:], np.stack([vectors[2], vectors[6]]))
    placed = ds.compute_projection()
    assert placed.height == 8
    xy = {r["sample_id"]: (r["x"], r["y"]) for r in placed.iter_rows(named=True)}
    assert xy[str(ids[6])] == pytest.approx(xy[str(ids[2])], abs=1e-3)
    fitted = dict(
        get_connection()
        .execute("SELECT CAST(sample_id AS VARCHAR), fitted FROM projection")
        .fetchall()
    )
    assert fitted[str(ids[6])] is False and fitted[str(ids[0])] is True

    monkeypatch.undo()
    ds.compute_projection(recompute=True)
    assert (
        get_connection().execute("SELECT count(*) FROM projection WHERE NOT fitted").fetchone()[0]
        == 0
    )


def test_compute_embeddings_with_open_clip_fills_only_the_missing(db, tmp_path, random_model):
    ds, ids = make_dataset(tmp_path / "c", 3)
    assert ds.compute_embeddings(embedding_model=RANDOM_SPEC) == 3
    assert ds.compute_embeddings(embedding_model=RANDOM_SPEC) == 0
    assert ds.embedding_models == [RANDOM_SPEC]
    got_ids, vectors = embed.get_embeddings(ds)
    assert sorted(got_ids) == sorted(ids) and vectors.shape == (3, random_model.dim)
    # A sample is most similar to itself.
    frame = embed.similarity_scores(ds.query(), samples=[ids[1]], k=1)
    assert frame["sample_id"].to_list() == [str(ids[1])]


def test_offline_ingest_indexes_samples_and_warns_once(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("LIGHTLY_STUDIO_EMBEDDING_MODEL", "open_clip:ViT-B-32:laion2b_s34b_b79k")
    # A fresh process: nothing warned about yet (the warning is shown once per process).
    monkeypatch.setattr("lightly_studio.embed._api._WARNED_UNAVAILABLE", set())
    folder = tmp_path / "o"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8)).save(folder / f"{i}.png")
    ds = ImageDataset.create("offline")
    with pytest.warns(EmbeddingsUnavailableWarning) as record:
        assert ds.add_images_from_path(str(folder)) == 3
    assert len(record) == 1 and "HF_HUB_OFFLINE" in str(record[0].message)
    assert len(ds) == 3 and ds.embedding_models == []


class Flaky:
    """A custom encoder that dies in its second batch: the first batch must stay stored."""

    name = "flaky"

    def __init__(self, fail_on_call: int | None):
        self.calls = 0
        self.fail_on_call = fail_on_call

    def embed_images(self, images):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        return np.stack([np.asarray(img, dtype=np.float32).mean(axis=(0, 1)) + 1 for img in images])

    def embed_texts(self, texts):
        raise NotImplementedError


def test_interrupted_runs_keep_finished_batches_and_resume(db, tmp_path):
    ds, _ids = make_dataset(tmp_path / "r", 5)
    with pytest.raises(KeyboardInterrupt):
        embed.compute_embeddings(
            ds, embedding_model=Flaky(fail_on_call=2), batch_size=2, progress=False
        )
    assert len(embed.get_embeddings(ds, model_name="flaky")[0]) == 2
    resumed = Flaky(fail_on_call=None)
    assert embed.compute_embeddings(ds, embedding_model=resumed, batch_size=2, progress=False) == 3
    assert resumed.calls == 2  # three images in batches of two; the first two were not redone
    assert ds.embedding_models == ["flaky"]


def test_importing_the_package_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys, lightly_studio, lightly_studio.embed as e; e.compute_embeddings; "
        "print(any(m in sys.modules for m in ('torch', 'open_clip', 'pacmap')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_similarity_frames_have_string_ids_and_float_scores(circle):
    ds, ids = circle
    frame = embed.similarity_scores(ds.query(), samples=[ids[0]])
    assert frame.schema == pl.Schema({"sample_id": pl.Utf8, "similarity": pl.Float64})


def test_top_k_of_a_broad_query_whose_best_samples_rank_low_overall(db):
    """The ranked candidates must widen until k samples of the query are found."""
    from lightly_studio.db import transaction
    from lightly_studio.store.samples import insert_samples

    n = 1200
    ds = ImageDataset.create("broad")
    frame = pl.DataFrame(
        {
            "file_path_abs": [f"/x/{i:05d}.jpg" for i in range(n)],
            "file_name": [f"{i:05d}.jpg" for i in range(n)],
            "width": 8,
            "height": 8,
        }
    )
    with transaction() as con:
        ids = insert_samples(con, ds.dataset_id, frame).sort("file_path_abs")["sample_id"]
    vectors = np.random.default_rng(0).normal(size=(n, 8)).astype(np.float32)
    embed.add_embeddings(ds, "m", ids, vectors)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    truth = unit @ unit[0]
    worst = np.argsort(truth)[:400]  # a third of the samples, all far from sample 0
    ds.query().add_tag("all")
    from lightly_studio.store.tags import tag_sample_ids

    tag_sample_ids(get_connection(), ds.dataset_id, "far", ids.gather(worst))
    query = ds.match(ImageSampleField.tags.contains("far"))
    frame = embed.similarity_scores(query, samples=[ids[0]], k=5)
    expected = worst[np.argsort(-truth[worst])[:5]]
    assert frame["sample_id"].to_list() == ids.gather(expected).to_list()
    np.testing.assert_allclose(frame["similarity"], truth[expected], atol=1e-5)


class MeanColour:
    name = "mean-colour-test"

    def embed_images(self, images):
        return np.stack(
            [
                np.asarray(im.convert("RGB"), dtype=np.float32).mean(axis=(0, 1)) + 1.0
                for im in images
            ]
        )


def test_embed_decoded_images_stores_given_pixels_and_skips_embedded_samples(db, tmp_path):
    ds, ids = make_dataset(tmp_path / "imgs", 4)
    colours = {str(ids[0]): (200, 10, 10), str(ids[1]): (10, 200, 10), str(ids[2]): (10, 10, 200)}
    asked: list[list[str]] = []

    def read(todo, side):
        asked.append(list(todo))
        for sample_id in todo:
            rgb = colours.get(sample_id)
            if rgb is None:
                yield sample_id, None  # unreadable: no vector
            elif sample_id == str(ids[0]):
                yield sample_id, np.full((side, side, 3), rgb, dtype=np.uint8)  # an array
            else:
                yield sample_id, Image.new("RGB", (8, 8), rgb)  # or a PIL image

    model = MeanColour()
    assert embed.embed_decoded_images(ds, ids[:2], read, model, batch_size=1, progress=False) == 2
    assert embed.embed_decoded_images(ds, ids, read, model, progress=False) == 1

    assert asked == [[str(i) for i in ids[:2]], [str(ids[2]), str(ids[3])]]
    got_ids, vectors = embed.get_embeddings(ds, model_name="mean-colour-test")
    by_id = {str(i): v for i, v in zip(got_ids, vectors, strict=True)}
    assert set(by_id) == set(colours)
    for sample_id, rgb in colours.items():
        expected = np.array(rgb, dtype=np.float32) + 1.0
        np.testing.assert_allclose(by_id[sample_id], expected / np.linalg.norm(expected), atol=1e-6)
    unregister_embedding_model("mean-colour-test")
