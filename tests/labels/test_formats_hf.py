"""Hugging Face datasets in and out: Dataset, DatasetDict, save_to_disk folders, Parquet."""

from __future__ import annotations

import io

import pytest

import lightly_studio as ls
from lightly_studio.errors import IngestError
from tests.labels.formats_helpers import assert_same, label_names, snapshot

datasets = pytest.importorskip("datasets")

COCO = "coco_subset_128_images"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _png(w: int, h: int, colour: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (colour, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def _hub_like() -> datasets.DatasetDict:
    """Two splits in the Hub's detection layout, with a ClassLabel column too."""
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "objects": {
                "bbox": datasets.List(datasets.List(datasets.Value("float32"), length=4)),
                "category": datasets.List(datasets.ClassLabel(names=["car", "bike"])),
            },
            "scene": datasets.ClassLabel(names=["city", "road"]),
        }
    )

    def split(n: int, offset: int):
        return datasets.Dataset.from_dict(
            {
                "image": [{"bytes": _png(32, 24, offset + i), "path": None} for i in range(n)],
                "objects": [
                    {"bbox": [[1.5, 2.0, 10.0, 8.0]] * (i + 1), "category": [i % 2] * (i + 1)}
                    for i in range(n)
                ],
                "scene": [i % 2 for i in range(n)],
            },
            features=features,
        )

    return datasets.DatasetDict({"train": split(3, 0), "test": split(2, 100)})


def test_a_dataset_dict_with_objects_and_a_class_label(db, tmp_path):
    ds = ls.ImageDataset.create("hf")
    r = ds.add_samples_from_hf_dataset(
        _hub_like(), images_cache_path=str(tmp_path / "cache"), embed=False
    )
    assert (r.samples_added, r.annotations_added) == (5, 1 + 2 + 3 + 1 + 2 + 5)
    assert label_names(ds) == ["car", "bike", "city", "road"]
    from lightly_studio.db import get_connection
    from lightly_studio.store.tags import tagged_count

    con = get_connection()
    assert (
        tagged_count(con, ds.dataset_id, "train"),
        tagged_count(con, ds.dataset_id, "test"),
    ) == (3, 2)
    # Each split's images in their own folder of the cache.
    assert sorted(p.name for p in (tmp_path / "cache" / "test").iterdir()) == [
        "00000000.png",
        "00000001.png",
    ]
    # Written once: a second import finds the same files and adds nothing.
    again = ds.add_samples_from_hf_dataset(
        _hub_like(), images_cache_path=str(tmp_path / "cache"), embed=False
    )
    assert again.samples_added == 0


def test_images_inside_arrow_need_a_cache_folder(db):
    ds = ls.ImageDataset.create("hf")
    with pytest.raises(IngestError, match="pass images_cache_path"):
        ds.add_samples_from_hf_dataset(_hub_like(), embed=False)


def test_unknown_class_id_names_split_row_and_object(db, tmp_path):
    bad = _hub_like()["train"].cast_column(
        "objects",
        datasets.Features(
            {
                "bbox": datasets.List(datasets.List(datasets.Value("float32"), length=4)),
                "category": datasets.List(datasets.Value("int64")),
            }
        ),
    )
    ds = ls.ImageDataset.create("hf")
    with pytest.raises(IngestError, match=r"dataset, row 0: object 0: unknown class id 0"):
        ds.add_samples_from_hf_dataset(bad, images_cache_path=str(tmp_path / "c"), embed=False)
    assert ds.query().count() == 0


@pytest.fixture
def coco_boxes(db, examples):
    ds = ls.ImageDataset.create("coco")
    ds.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"),
        str(examples / COCO / "images"),
        embed=False,
    )
    return ds


def test_round_trip_through_a_dataset_save_to_disk_and_parquet(coco_boxes, tmp_path):
    hf = coco_boxes.export().to_hf_dataset()
    assert hf.num_rows == 128 and sum(len(o["bbox"]) for o in hf["objects"]) == 900
    expected = snapshot(coco_boxes)

    first = ls.ImageDataset.create("first")
    first.add_samples_from_hf_dataset(hf, images_cache_path=str(tmp_path / "c1"), embed=False)
    assert_same(expected, snapshot(first))
    assert label_names(first) == label_names(coco_boxes)

    folder = coco_boxes.export().to_hf_dataset(tmp_path / "disk")
    second = ls.ImageDataset.create("second")
    second.add_samples_from_hf_dataset(
        str(folder), images_cache_path=str(tmp_path / "c2"), embed=False
    )
    assert_same(expected, snapshot(second))

    hf.to_parquet(str(tmp_path / "p" / "data.parquet"))
    third = ls.ImageDataset.create("third")
    third.add_samples_from_hf_dataset(
        str(tmp_path / "p"), images_cache_path=str(tmp_path / "c3"), embed=False
    )
    assert_same(expected, snapshot(third))


def test_export_of_a_query_and_one_source(coco_boxes):
    from lightly_studio.core.dataset_query import ImageSampleField

    query = coco_boxes.match(ImageSampleField.width > 600)
    hf = coco_boxes.export(query).to_hf_dataset(annotation_source="nobody")
    assert hf.num_rows == query.count() and all(not o["bbox"] for o in hf["objects"])


def test_instance_and_semantic_masks_round_trip_pixel_exact(db, examples, tmp_path):
    """Instance masks go out per object (objects.mask), semantic masks as one class-id image
    (semantic_mask); both come back pixel for pixel, instance boxes to the bit."""
    coco = ls.ImageDataset.create("coco")
    coco.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"),
        str(examples / COCO / "images"),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    hf = coco.export().to_hf_dataset()
    assert sum(m is not None for o in hf["objects"] for m in o["mask"]) == 900
    first = ls.ImageDataset.create("first")
    first.add_samples_from_hf_dataset(hf, images_cache_path=str(tmp_path / "c1"), embed=False)
    # Masks pixel-exact, boxes as stored; polygons are not an HF column (their masks are).
    assert_same(snapshot(coco), snapshot(first), polygons=False)

    names = label_names(coco)
    coco.export().to_pascal_voc_segmentations(tmp_path / "seg", images="none")
    semantic = ls.ImageDataset.create("semantic")
    semantic.add_samples_from_pascal_voc_segmentations(
        str(examples / COCO / "images"),
        str(tmp_path / "seg/SegmentationClass"),
        {i + 1: n for i, n in enumerate(names)},
        embed=False,
    )
    folder = semantic.export().to_hf_dataset(tmp_path / "disk")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_hf_dataset(
        str(folder), images_cache_path=str(tmp_path / "c2"), embed=False
    )
    before, after = snapshot(semantic), snapshot(again)
    assert sum(len(s["annotations"]) for s in after.values()) > 128
    assert_same(before, after)
