"""Publishing a dataset as Parquet + manifest and opening it read-only elsewhere.

A published dataset is what a team shares on object storage: the database file stays with
whoever curates it, readers open the Parquet files through DuckDB from any process.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio import db_manager, embed
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.errors import PublishedDatasetError, ReadOnlyDatabaseError
from tests.conftest import make_images

SIZES = {"a.jpg": (64, 48), "b.jpg": (32, 24), "c.jpg": (40, 40)}


@pytest.fixture
def curated(db, tmp_path):
    """Three images with a tag, metadata, two boxes and embeddings, plus a second dataset."""
    make_images(tmp_path / "imgs", SIZES)
    coco = {
        "images": [
            {"id": i + 1, "file_name": n, "width": w, "height": h}
            for i, (n, (w, h)) in enumerate(SIZES.items())
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 12], "area": 120},
            {"id": 2, "image_id": 2, "category_id": 2, "bbox": [3, 4, 5, 6], "area": 30},
        ],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    ds = ls.ImageDataset.create("pets")
    ds.add_samples_from_coco(
        annotations_json=tmp_path / "coco.json", images_path=tmp_path / "imgs", embed=False
    )
    ds.query().match(ImageSampleField.width >= 40).add_tag("big")
    for sample in ds.query().to_list():
        sample.metadata["score"] = sample.width / 100
    ids = [s.sample_id for s in sorted(ds.query().to_list(), key=lambda s: s.file_name)]
    embed.add_embeddings(ds, "m", ids, np.eye(3, 4))
    other = ls.ImageDataset.create("other")
    other.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    return ds, ids


def summary(ds) -> dict:
    frame = ds.query().to_polars().sort("file_name")
    return {
        "names": frame["file_name"].to_list(),
        "big": sorted(s.file_name for s in ds.match(ImageSampleField.tags.contains("big"))),
        "score": sorted(s.metadata["score"] for s in ds.query().to_list()),
        "boxes": sorted(
            (a.label, a.x, a.y, a.width, a.height)
            for s in ds.query().to_list()
            for a in s.annotations
        ),
    }


def test_a_published_dataset_opens_read_only_with_its_rows_annotations_and_embeddings(
    curated, tmp_path
):
    ds, ids = curated
    expected = summary(ds)
    source_db = tmp_path / "lightly_studio.db"
    url = str(tmp_path / "shared" / "pets")
    assert ds.publish(url) == url
    db_manager.close()
    before = hashlib.sha256(source_db.read_bytes()).hexdigest()

    opened = ls.open_published(url)
    assert opened.name == "pets" and len(opened) == 3
    assert summary(opened) == expected
    ranked = embed.similarity_scores(opened.query(), samples=[ids[0]])
    assert ranked["sample_id"][0] == str(ids[0])
    opened.export().to_coco_object_detections(tmp_path / "out.json")
    exported = json.loads((tmp_path / "out.json").read_text())
    assert len(exported["annotations"]) == 2

    with pytest.raises(ReadOnlyDatabaseError, match="read-only"):
        opened.query().add_tag("nope")
    assert hashlib.sha256(source_db.read_bytes()).hexdigest() == before
    # Only the published dataset's rows travelled, not the other dataset of the file.
    with pytest.raises(ls.errors.DatasetNotFoundError):
        ls.ImageDataset.load("other")


def test_publish_and_open_through_s3(curated, s3_server):
    import fsspec

    ds, _ = curated
    expected = summary(ds)
    fsspec.filesystem("s3").mkdir("team-bucket")
    ds.publish("s3://team-bucket/datasets/pets")
    opened = ls.open_published("s3://team-bucket/datasets/pets")
    assert summary(opened) == expected


def test_a_folder_without_manifest_or_from_a_newer_version_is_refused(curated, tmp_path):
    ds, _ = curated
    with pytest.raises(PublishedDatasetError, match=r"manifest\.json is missing"):
        ls.open_published(str(tmp_path / "nothing-here"))

    url = tmp_path / "pets"
    ds.publish(str(url))
    manifest = json.loads((url / "manifest.json").read_text())
    manifest["schema_version"] += 1
    (url / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PublishedDatasetError, match="newer lightly_studio"):
        ls.open_published(str(url))


def test_publishing_where_it_cannot_write_says_so_and_keeps_the_database(curated, tmp_path):
    ds, _ = curated
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    with pytest.raises(PublishedDatasetError, match="blocked"):
        ds.publish(str(blocked / "pets"))
    assert len(ls.ImageDataset.load("pets")) == 3
    assert uuid.UUID(str(ds.dataset_id))


def test_the_views_read_a_published_dataset(curated, tmp_path):
    from lightly_studio.api import dispatch

    ds, _ = curated
    ds.publish(str(tmp_path / "pets"))
    opened = ls.open_published(str(tmp_path / "pets"))
    (row,) = dispatch("list_datasets", {})[0]["datasets"]
    assert row["name"] == "pets" and row["count"] == 3 and row["has_embeddings"]
    spec = {"dataset_id": str(opened.dataset_id), "tags": ["big"]}
    page, _ = dispatch("samples_page", {"spec": spec, "offset": 0, "limit": 10})
    assert sorted(r["file_name"] for r in page["rows"]) == ["a.jpg", "c.jpg"]
