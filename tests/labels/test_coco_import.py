"""COCO import: boxes, polygons and RLE masks kept pixel-exact, captions, bad input."""

from __future__ import annotations

import json
import sys
import uuid

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio.core.annotation import AnnotationType, InstanceSegmentationAnnotation
from lightly_studio.db import get_connection
from lightly_studio.errors import IngestError
from tests.conftest import make_images
from tests.labels.helpers import COCO_IMAGE_SIZES, coco_dict, write_coco

COCO = "coco_subset_128_images"


def _table_counts() -> tuple:
    con = get_connection()
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("sample", "annotation", "annotation_label", "caption", "tag")
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools under numpy 2
def test_example_instance_masks_all_900_pixel_exact(db, examples):
    from pycocotools.coco import COCO as PyCOCO

    from lightly_studio.core import rle
    from lightly_studio.store.annotations import annotations_frame

    json_path = examples / COCO / "instances_train2017.json"
    ds = ls.ImageDataset.create()
    ds.add_samples_from_coco(
        annotations_json=str(json_path),
        images_path=str(examples / COCO / "images"),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    reference = PyCOCO(str(json_path))
    by_file = {img["file_name"]: img["id"] for img in reference.dataset["images"]}
    cats = {c["id"]: c["name"] for c in reference.dataset["categories"]}
    samples = {s.sample_id: s for s in ds}
    stored = annotations_frame(get_connection(), ds.dataset_id)
    assert stored.height == 900 and len(samples) == 128
    seen = 0
    for sample_id, rows in stored.group_by("sample_id", maintain_order=True):
        sample = samples[uuid.UUID(sample_id[0])]
        refs = reference.loadAnns(reference.getAnnIds(imgIds=[by_file[sample.file_name]]))
        assert rows.height == len(refs)
        for a, ref in zip(rows.iter_rows(named=True), refs, strict=True):  # file order kept
            assert a["annotation_type"] == "instance_segmentation"
            assert a["label"] == cats[ref["category_id"]]
            assert [a["x"], a["y"], a["width"], a["height"]] == ref["bbox"]
            mask = rle.decode(a["segmentation_mask"], sample.width, sample.height)
            assert np.array_equal(mask, reference.annToMask(ref).astype(bool))
            if isinstance(ref["segmentation"], list):
                assert a["polygon"] == ref["segmentation"]
            assert a["iscrowd"] == bool(ref["iscrowd"])
            seen += 1
    assert seen == 900
    # The public objects carry the same mask.
    first = next(iter(ds)).annotations[0]
    assert isinstance(first, InstanceSegmentationAnnotation) and first.to_binary_mask().any()


def test_example_as_object_detection_keeps_boxes_only(db, examples):
    ds = ls.ImageDataset.create()
    ds.add_samples_from_coco(
        annotations_json=str(examples / COCO / "instances_train2017.json"),
        images_path=str(examples / COCO / "images"),
        embed=False,
    )
    types = {type(a).__name__ for s in ds for a in s.annotations}
    assert types == {"ObjectDetectionAnnotation"}
    assert _table_counts()[:3] == (128, 900, 80)


@pytest.fixture
def tiny(tmp_path):
    """Two images (40x30, 20x20) under images/ and a matching COCO dict."""
    make_images(tmp_path / "images", COCO_IMAGE_SIZES)
    return tmp_path, coco_dict()


def _write(tmp_path, coco, name="ann.json"):
    return write_coco(tmp_path / name, coco["images"], coco["annotations"], coco.get("categories"))


def test_uncompressed_and_compressed_rle_and_scores(db, tiny):
    from lightly_studio.core import rle

    tmp_path, coco = tiny
    mask = np.zeros((20, 20), bool)
    mask[:2, :4] = True
    compressed = rle.mask_to_coco_rle(mask, compressed=True)
    coco["annotations"].append(
        {
            "id": 12,
            "image_id": 2,
            "category_id": 5,
            "bbox": [0, 0, 4, 2],
            "segmentation": compressed,
            "score": 0.75,
        }
    )
    ds = ls.ImageDataset.create()
    ds.add_samples_from_coco(
        str(_write(tmp_path, coco)),
        str(tmp_path / "images"),
        annotation_type="instance_segmentation",
        embed=False,
    )
    b = ds.get_sample(next(s.sample_id for s in ds if s.file_name == "b.png"))
    crowd, scored = b.annotations
    assert crowd.iscrowd and np.array_equal(crowd.to_binary_mask(), mask)
    assert np.array_equal(scored.to_binary_mask(), mask) and scored.confidence == 0.75


def test_captions_import(db, tiny):
    tmp_path, coco = tiny
    captions = {
        "images": coco["images"],
        "annotations": [
            {"id": 1, "image_id": 1, "caption": "A cat."},
            {"id": 2, "image_id": 1, "caption": "Sleeping."},
            {"id": 3, "image_id": 2, "caption": "A dog."},
        ],
    }
    path = tmp_path / "captions.json"
    path.write_text(json.dumps(captions))
    ds = ls.ImageDataset.create()
    ds.add_samples_from_coco_caption(
        annotations_json=str(path), images_path=str(tmp_path / "images"), embed=False
    )
    assert {s.file_name: s.captions for s in ds} == {
        "a.jpg": ["A cat.", "Sleeping."],
        "b.png": ["A dog."],
    }


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c.pop("categories"), "missing top-level key 'categories'"),
        (
            lambda c: c["annotations"][0].pop("image_id"),
            "annotation #0 \\(id 10\\) has no 'image_id'",
        ),
        (
            lambda c: c["annotations"][1].update(category_id=77),
            "annotation id 11 has category_id 77",
        ),
        (
            lambda c: c["annotations"][0].update(bbox=[1, 2, 3]),
            "annotation id 10 has an invalid 'bbox'",
        ),
        (lambda c: c["images"][1].pop("width"), "image #1 \\(id 2\\) has no 'width'"),
        (
            # wholly outside: nothing is left after clipping to the image
            lambda c: c["annotations"][0].update(bbox=[45, 2, 20, 8]),
            "annotation id 10: the box .* lies wholly outside",
        ),
        (lambda c: c["annotations"][0].update(score=3), "annotation id 10: confidence"),
    ],
)
def test_bad_input_is_a_clear_error_and_leaves_the_dataset_as_it_was(db, tiny, mutate, message):
    tmp_path, coco = tiny
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(tmp_path / "images" / "sub"), embed=False)
    ds.get_sample(next(iter(ds)).sample_id).add_tag("keep")
    before = _table_counts()
    mutate(coco)
    path = _write(tmp_path, coco)
    with pytest.raises(IngestError, match=message) as info:
        ds.add_samples_from_coco(str(path), str(tmp_path / "images"), embed=False)
    assert isinstance(info.value, IngestError)
    assert str(path) in str(info.value)
    assert _table_counts() == before


def test_malformed_json_names_file_and_line(db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"images": [],\n "annotations": [,]}')
    ds = ls.ImageDataset.create()
    with pytest.raises(IngestError, match=r"broken.json: malformed JSON at line 2"):
        ds.add_samples_from_coco(str(path), str(tmp_path), embed=False)


def test_missing_image_files_and_unknown_images_are_counted_warnings(db, tiny):
    tmp_path, coco = tiny
    coco["images"].append({"id": 3, "file_name": "gone.jpg", "width": 10, "height": 10})
    coco["annotations"].append({"id": 13, "image_id": 3, "category_id": 5, "bbox": [0, 0, 1, 1]})
    coco["annotations"].append({"id": 14, "image_id": 99, "category_id": 5, "bbox": [0, 0, 1, 1]})
    ds = ls.ImageDataset.create()
    with pytest.warns(UserWarning) as record:
        result = ds.add_samples_from_coco(
            str(_write(tmp_path, coco)), str(tmp_path / "images"), embed=False
        )
    text = " ".join(str(w.message) for w in record)
    assert "1 image files are missing" in text and "gone.jpg" in text
    assert "2 annotations point at images not imported" in text and "[13, 14]" in text
    assert (result.samples_added, result.annotations_added) == (2, 2)


def test_wrong_images_path_is_an_error(db, tiny):
    tmp_path, coco = tiny
    with pytest.raises(IngestError, match="none of the 2 images"):
        ls.ImageDataset.create().add_samples_from_coco(
            str(_write(tmp_path, coco)), str(tmp_path / "nowhere"), embed=False
        )


def test_reimport_does_not_duplicate_annotations(db, tiny):
    tmp_path, coco = tiny
    ds = ls.ImageDataset.create()
    path = str(_write(tmp_path, coco))
    ds.add_samples_from_coco(path, str(tmp_path / "images"), embed=False)
    with pytest.warns(UserWarning, match="2 images were already in the dataset"):
        ds.add_samples_from_coco(path, str(tmp_path / "images"), embed=False)
    assert _table_counts()[:2] == (2, 2)


def test_predictions_attach_to_existing_images_by_file_name(db, tiny):
    tmp_path, coco = tiny
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(tmp_path / "images"), embed=False)
    preds = {
        **coco,
        "annotations": [
            {"id": 1, "image_id": 2, "category_id": 9, "bbox": [1, 1, 5, 5], "score": 0.6}
        ],
    }
    ds.add_annotations_from_coco(
        str(_write(tmp_path, preds, "preds.json")), annotation_source="detector-v1"
    )
    ds.add_annotations_from_coco(str(_write(tmp_path, coco)), images_path=str(tmp_path / "images"))
    got = sorted((s.file_name, a.source, a.label, a.confidence) for s in ds for a in s.annotations)
    assert got == [
        ("a.jpg", "ground_truth", "cat", None),
        ("b.png", "detector-v1", "dog", 0.6),
        ("b.png", "ground_truth", "dog", None),
    ]


def test_embed_false_touches_no_model(tmp_path, tiny, examples):
    """A fresh interpreter imports with embed=False: torch and open_clip are never loaded."""
    import subprocess
    import textwrap

    tmp_path, coco = tiny
    path = _write(tmp_path, coco)
    script = textwrap.dedent(f"""
        import sys
        import lightly_studio as ls
        from lightly_studio import db_manager
        db_manager.connect({str(tmp_path / "x.db")!r})
        ds = ls.ImageDataset.create()
        ds.add_samples_from_coco({str(path)!r}, {str(tmp_path / "images")!r}, embed=False)
        ds.add_samples_from_yolo({str(examples / "road_signs_yolo" / "data.yaml")!r},
                                 input_split='test', embed=False)
        loaded = [m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules]
        print('LOADED', loaded, len(ds))
    """)
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env={
            "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2]),
            "PATH": "/usr/bin:/bin",
        },
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "LOADED [] 130" in out.stdout


def test_annotation_type_enum_value_or_name_is_accepted(db, tiny):
    tmp_path, coco = tiny
    ds = ls.ImageDataset.create()
    ds.add_samples_from_coco(
        str(_write(tmp_path, coco)),
        str(tmp_path / "images"),
        annotation_type=AnnotationType.SEMANTIC_SEGMENTATION,
        embed=False,
    )
    assert {type(a).__name__ for s in ds for a in s.annotations} == {
        "SemanticSegmentationAnnotation"
    }
    with pytest.raises(IngestError, match="Unknown annotation_type"):
        ds.add_samples_from_coco(
            str(_write(tmp_path, coco)),
            str(tmp_path / "images"),
            annotation_type="boxes",
            embed=False,
        )
