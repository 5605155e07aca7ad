"""The annotation API of the docs: reading, adding, editing, deleting; invalid values."""

from __future__ import annotations

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio.core.annotation import (
    ClassificationAnnotation,
    CreateClassification,
    CreateInstanceSegmentation,
    CreateObjectDetection,
    CreateSemanticSegmentation,
    InstanceSegmentationAnnotation,
    ObjectDetectionAnnotation,
    SemanticSegmentationAnnotation,
)
from lightly_studio.db import get_connection
from lightly_studio.errors import AnnotationError
from lightly_studio.store.labels import list_labels
from tests.labels.helpers import image_dataset_with


def _count(table: str) -> int:
    return get_connection().execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def sample(db, tmp_path):
    ds, _ = image_dataset_with(tmp_path, {"img.jpg": (100, 80)})
    return next(iter(ds))


def test_docs_adding_an_object_detection(sample):
    sample.add_annotation(
        CreateObjectDetection(
            label="car",
            confidence=0.9,  # optional
            x=10,
            y=20,
            width=30,
            height=40,
        )
    )
    (a,) = sample.annotations
    assert isinstance(a, ObjectDetectionAnnotation)
    assert (a.label, a.confidence, a.x, a.y, a.width, a.height) == ("car", 0.9, 10, 20, 30, 40)
    assert a.source == a.annotation_source == "ground_truth"


def test_docs_semantic_segmentation_from_binary_mask(db, tmp_path):
    ds, _ = image_dataset_with(tmp_path, {"tiny.png": (4, 4)})
    sample = next(iter(ds))
    mask = np.array(
        [
            [0, 0, 0, 0],
            [0, 1, 1, 0],
            [0, 1, 1, 0],
            [0, 0, 0, 0],
        ]
    )
    sample.add_annotation(
        CreateSemanticSegmentation.from_binary_mask(
            label="car",
            binary_mask=mask,
            confidence=0.85,
        )
    )
    (a,) = sample.annotations
    assert isinstance(a, SemanticSegmentationAnnotation)
    assert (a.x, a.y, a.width, a.height) == (1, 1, 2, 2)
    assert a.segmentation_mask == [5, 2, 2, 2, 5]
    assert np.array_equal(a.to_binary_mask(), mask.astype(bool))


def test_docs_segmentation_with_manual_box_and_rle(db, tmp_path):
    ds, _ = image_dataset_with(tmp_path, {"five.png": (5, 5)})
    sample = next(iter(ds))
    sample.add_annotation(
        CreateSemanticSegmentation(
            label="car",
            confidence=0.85,
            x=2,
            y=3,
            width=3,
            height=2,
            segmentation_mask=[17, 2, 3, 1, 2],
        )
    )
    assert sample.annotations[0].segmentation_mask == [17, 2, 3, 1, 2]


def test_docs_accessing_annotations_by_type(sample):
    sample.add_annotations(
        [
            CreateClassification(label="daytime"),
            CreateObjectDetection(label="car", x=1, y=2, width=3, height=4),
            CreateInstanceSegmentation.from_binary_mask(
                label="person", binary_mask=np.pad(np.ones((10, 20)), ((5, 65), (7, 73)))
            ),
        ]
    )
    kinds = [type(a) for a in sample.annotations]
    assert kinds == [
        ClassificationAnnotation,
        ObjectDetectionAnnotation,
        InstanceSegmentationAnnotation,
    ]
    boxes = [
        (a.x, a.y, a.width, a.height)
        for a in sample.annotations
        if isinstance(a, ObjectDetectionAnnotation)
    ]
    assert boxes == [(1, 2, 3, 4)]
    seg = sample.annotations[2]
    assert (seg.x, seg.y, seg.width, seg.height) == (7, 5, 20, 10)
    assert seg.to_binary_mask().sum() == 200


def test_docs_indexing_with_predictions(db, tmp_path):
    ds, _ = image_dataset_with(tmp_path, {"img1.jpg": (400, 500), "img2.jpg": (300, 400)})
    predictions = {
        "img1.jpg": {"x": 100, "y": 150, "w": 200, "h": 300, "conf": 0.95},
        "img2.jpg": {"x": 50, "y": 80, "w": 120, "h": 250, "conf": 0.87},
    }
    for image_sample in ds:
        pred = predictions[image_sample.file_name]
        image_sample.add_annotation(
            CreateObjectDetection(
                label="person",
                confidence=pred["conf"],
                x=pred["x"],
                y=pred["y"],
                width=pred["w"],
                height=pred["h"],
            )
        )
    got = {s.file_name: [(a.label, a.confidence, a.width) for a in s.annotations] for s in ds}
    assert got == {"img1.jpg": [("person", 0.95, 200)], "img2.jpg": [("person", 0.87, 120)]}


def test_annotation_type_enum_is_public():
    assert {t.name for t in ls.AnnotationType} == {
        "OBJECT_DETECTION",
        "INSTANCE_SEGMENTATION",
        "SEMANTIC_SEGMENTATION",
        "CLASSIFICATION",
    }


@pytest.mark.parametrize(
    "create, message",
    [
        (
            CreateObjectDetection(label="car", confidence=1.5, x=0, y=0, width=1, height=1),
            "confidence must be between 0 and 1",
        ),
        (
            CreateObjectDetection(label="car", confidence=-0.1, x=0, y=0, width=1, height=1),
            "confidence must be between 0 and 1",
        ),
        (CreateObjectDetection(label="car", x=-1, y=0, width=5, height=5), "negative"),
        (CreateObjectDetection(label="car", x=0, y=0, width=-5, height=5), "negative"),
        (CreateObjectDetection(label="car", x=90, y=0, width=20, height=5), "outside the image"),
        (CreateObjectDetection(label="car", x=0, y=70, width=5, height=20), "outside the image"),
        (CreateObjectDetection(label="", x=0, y=0, width=5, height=5), "label"),
        (CreateObjectDetection(label="   ", x=0, y=0, width=5, height=5), "label"),
        (CreateClassification(label=None), "label"),
        (
            CreateInstanceSegmentation(
                label="car", x=0, y=0, width=1, height=1, segmentation_mask=[17, 2, 3, 1, 2]
            ),
            "sum to 25",
        ),
        (CreateObjectDetection(label="car", x="1", y=0, width=5, height=5), "must be a number"),
    ],
)
def test_invalid_values_raise_and_store_nothing(sample, create, message):
    with pytest.raises(AnnotationError, match=message):
        sample.add_annotation(create)
    assert sample.annotations == []
    assert _count("annotation") == 0 and _count("annotation_label") == 0


def test_add_annotations_is_all_or_nothing(sample):
    good = CreateObjectDetection(label="car", x=0, y=0, width=5, height=5)
    bad = CreateObjectDetection(label="truck", x=0, y=0, width=500, height=5)
    with pytest.raises(AnnotationError, match=r"annotation 1.*outside the image"):
        sample.add_annotations([good, bad])
    assert sample.annotations == [] and _count("annotation_label") == 0


def test_from_binary_mask_needs_foreground_and_a_2d_mask():
    with pytest.raises(AnnotationError, match="no foreground"):
        CreateInstanceSegmentation.from_binary_mask(label="x", binary_mask=np.zeros((3, 3)))
    with pytest.raises(AnnotationError, match="2-D"):
        CreateInstanceSegmentation.from_binary_mask(label="x", binary_mask=np.ones(9))


def test_mask_of_another_size_than_the_image_is_rejected(sample):
    with pytest.raises(AnnotationError, match="100x80"):
        sample.add_annotation(
            CreateInstanceSegmentation.from_binary_mask(label="x", binary_mask=np.ones((4, 4)))
        )


def test_setting_box_fields_persists_and_is_validated(sample):
    a = sample.add_annotation(CreateObjectDetection(label="car", x=1, y=2, width=3, height=4))
    a.x = 50
    a.height = 60.5
    a.confidence = 0.25
    a.label = "truck"
    (stored,) = sample.annotations
    assert (stored.x, stored.y, stored.width, stored.height) == (50, 2, 3, 60.5)
    assert (stored.confidence, stored.label) == (0.25, "truck")
    with pytest.raises(AnnotationError, match="outside the image"):
        stored.width = 60  # 50 + 60 > 100
    with pytest.raises(AnnotationError, match="confidence"):
        stored.confidence = 2
    (again,) = sample.annotations
    assert (again.width, again.confidence) == (3, 0.25)


def test_delete_annotation(sample):
    a, b = sample.add_annotations(
        [
            CreateObjectDetection(label="car", x=0, y=0, width=1, height=1),
            CreateClassification(label="day"),
        ]
    )
    sample.delete_annotation(a)
    assert sample.annotations == [b]
    with pytest.raises(AnnotationError, match="has no annotation"):
        sample.delete_annotation(a)


def test_predictions_sit_beside_ground_truth_and_labels_are_counted(sample):
    sample.add_annotations(
        [
            CreateObjectDetection(label="car", x=0, y=0, width=1, height=1),
            CreateObjectDetection(
                label="car", x=0, y=0, width=2, height=2, confidence=0.4, annotation_source="yolov8"
            ),
            CreateClassification(label="day"),
        ]
    )
    assert sorted(a.source for a in sample.annotations) == [
        "ground_truth",
        "ground_truth",
        "yolov8",
    ]
    labels = list_labels(get_connection(), sample.dataset_id)
    assert dict(zip(labels["name"], labels["count"], strict=True)) == {"car": 2, "day": 1}
    gt = list_labels(get_connection(), sample.dataset_id, source="ground_truth")
    assert dict(zip(gt["name"], gt["count"], strict=True)) == {"car": 1, "day": 1}


def test_captions(sample):
    sample.add_caption("a red car")
    sample.add_caption("parked")
    assert sample.captions == ["a red car", "parked"]
