"""Pascal VOC, CVAT, LabelMe, YOLO segmentation and image folders: import → export → import
keeps samples, classes, boxes (1e-6 px), polygons, masks (pixel-exact) and attributes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from PIL import Image

import lightly_studio as ls
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.errors import IngestError
from tests.conftest import make_images
from tests.labels.formats_helpers import assert_same, label_names, snapshot

COCO = "coco_subset_128_images"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def coco_masks(db, examples):
    """The example COCO subset with its instance masks (887 polygons, 13 RLE crowds)."""
    ds = ls.ImageDataset.create("coco")
    ds.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"),
        str(examples / COCO / "images"),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    return ds, examples / COCO / "images"


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# --- round trips on the example data, converted here ---------------------------------------------


def test_cvat_round_trip_of_the_coco_example(coco_masks, tmp_path):
    coco, images = coco_masks
    coco.export().to_cvat(tmp_path / "a.xml")
    first = ls.ImageDataset.create("first")
    first.add_samples_from_cvat(str(tmp_path / "a.xml"), str(images), embed=False)
    # Every mask survives the trip pixel for pixel, and every polygon ring (multi-ring ones
    # as grouped <polygon>s); crowds go as CVAT RLE.
    assert_same(snapshot(coco), snapshot(first), mask_boxes=False)
    first.export().to_cvat(tmp_path / "b.xml")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_cvat(str(tmp_path / "b.xml"), str(images), embed=False)
    assert_same(snapshot(first), snapshot(again))
    assert label_names(again) == label_names(first)


def test_pascal_voc_detection_round_trip_of_the_coco_example(coco_masks, tmp_path):
    coco, images = coco_masks
    coco.export().to_pascal_voc_object_detections(tmp_path / "voc1", images="none")
    first = ls.ImageDataset.create("first")
    r = first.add_samples_from_pascal_voc(
        str(images), str(tmp_path / "voc1/Annotations"), embed=False
    )
    assert (r.samples_added, r.annotations_added) == (128, 900)
    out = first.export().to_pascal_voc_object_detections(tmp_path / "voc2")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_pascal_voc(
        str(out / "JPEGImages"), str(out / "Annotations"), embed=False
    )
    assert_same(snapshot(first), snapshot(again))


def test_pascal_voc_segmentation_round_trip_of_the_coco_example(coco_masks, tmp_path):
    coco, images = coco_masks
    names = label_names(coco)
    ids = {i + 1: n for i, n in enumerate(names)}
    coco.export().to_pascal_voc_segmentations(tmp_path / "seg1", images="none")
    first = ls.ImageDataset.create("first")
    first.add_samples_from_pascal_voc_segmentations(
        str(images), str(tmp_path / "seg1/SegmentationClass"), ids, embed=False
    )
    snap = snapshot(first)
    assert all(a[1] == "semantic_segmentation" for s in snap.values() for a in s["annotations"])
    out = first.export().to_pascal_voc_segmentations(tmp_path / "seg2", class_id_to_name=ids)
    again = ls.ImageDataset.create("again")
    again.add_samples_from_pascal_voc_segmentations(
        str(out / "JPEGImages"), str(out / "SegmentationClass"), ids, embed=False
    )
    assert_same(snap, snapshot(again))
    lines = (out / "labelmap.txt").read_text().splitlines()
    assert lines[0].startswith(f"{names[0]}:128,0,0")  # VOC colour of class 1


def test_labelme_round_trip_of_the_coco_example(coco_masks, tmp_path):
    coco, _ = coco_masks
    coco.export().to_labelme(tmp_path / "lm1")
    first = ls.ImageDataset.create("first")
    first.add_samples_from_labelme(str(tmp_path / "lm1"), embed=False)
    assert_same(snapshot(coco), snapshot(first), mask_boxes=False)
    first.export().to_labelme(tmp_path / "lm2")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_labelme(str(tmp_path / "lm2"), embed=False)
    assert_same(snapshot(first), snapshot(again))


def test_yolo_segmentation_round_trip_of_the_coco_example(coco_masks, tmp_path):
    coco, _ = coco_masks
    with pytest.warns(UserWarning, match="13 masks have no polygon"):
        coco.export().to_yolo_instance_segmentations(tmp_path / "y1")
    first = ls.ImageDataset.create("first")
    r = first.add_samples_from_yolo(str(tmp_path / "y1/data.yaml"), task="segment", embed=False)
    assert r.annotations_added == 887
    data_yaml = first.export().to_yolo_instance_segmentations(tmp_path / "y2")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_yolo(str(data_yaml), task="segment", embed=False)
    assert_same(snapshot(first), snapshot(again))
    # Single-ring polygons come back as they were, and with them the very same masks.
    before = {
        (name, a[0], a[6]): a[5]
        for name, s in snapshot(coco).items()
        for a in s["annotations"]
        if a[6] is not None and len(a[6]) == 1
    }
    assert len(before) > 700
    first_masks = {(n, a[0], a[5]) for n, s in snapshot(first).items() for a in s["annotations"]}
    assert all((n, label, mask) in first_masks for (n, label, _), mask in before.items())


def test_yolo_task_detect_turns_polygons_into_boxes(coco_masks, tmp_path):
    coco, _ = coco_masks
    _quiet(coco.export().to_yolo_instance_segmentations, tmp_path / "y")
    ds = ls.ImageDataset.create("boxes")
    ds.add_samples_from_yolo(str(tmp_path / "y/data.yaml"), task="detect", embed=False)
    kinds = {a[1] for s in snapshot(ds).values() for a in s["annotations"]}
    assert kinds == {"object_detection"}


# --- small generated sets, with attributes ------------------------------------------------------


def _voc_xml(filename: str, size: tuple[int, int], objects: str) -> str:
    return (
        f"<annotation><filename>{filename}</filename><size><width>{size[0]}</width>"
        f"<height>{size[1]}</height><depth>3</depth></size>{objects}</annotation>"
    )


@pytest.fixture
def voc_set(tmp_path):
    images = tmp_path / "JPEGImages"
    make_images(images, {"a.jpg": (40, 30), "b.jpg": (20, 20)})
    ann = tmp_path / "Annotations"
    ann.mkdir()
    (ann / "a.xml").write_text(
        _voc_xml(
            "a.jpg",
            (40, 30),
            "<object><name>cat</name><pose>Left</pose><truncated>1</truncated>"
            "<difficult>0</difficult><bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>11.25</xmax>"
            "<ymax>10</ymax></bndbox><attributes><attribute><name>color</name>"
            "<value>black &amp; white</value></attribute></attributes></object>"
            "<object><name>dog</name><difficult>1</difficult><bndbox><xmin>0</xmin>"
            "<ymin>0</ymin><xmax>40</xmax><ymax>30</ymax></bndbox></object>",
        )
    )
    (ann / "b.xml").write_text(_voc_xml("b.jpg", (20, 20), ""))
    sets = tmp_path / "ImageSets" / "Main"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("a\n")
    (sets / "val.txt").write_text("b\n")
    return images, ann


def test_pascal_voc_keeps_difficult_truncated_pose_and_attributes(db, voc_set, tmp_path):
    images, ann = voc_set
    first = ls.ImageDataset.create("first")
    first.add_samples_from_pascal_voc(str(images), str(ann), embed=False)
    snap = snapshot(first)
    assert snap["a.jpg"]["tags"] == {"train"} and snap["b.jpg"]["tags"] == {"val"}
    cat = next(a for a in snap["a.jpg"]["annotations"] if a[0] == "cat")
    assert cat[4] == (1.5, 2.0, 9.75, 8.0)
    assert json.loads(cat[8]) == {
        "color": "black & white",
        "difficult": 0,
        "pose": "Left",
        "truncated": 1,
    }
    out = first.export().to_pascal_voc_object_detections(tmp_path / "out")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_pascal_voc(
        str(out / "JPEGImages"), str(out / "Annotations"), embed=False
    )
    assert_same(snap, snapshot(again))


CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<meta><task><labels><label><name>car</name></label><label><name>road</name></label>
<label><name>day</name></label><label><name>unused</name></label></labels></task></meta>
<image id="0" name="a.jpg" width="40" height="30" subset="train">
  <box label="car" source="manual" occluded="1" xtl="1.5" ytl="2" xbr="11" ybr="10" z_order="2">
    <attribute name="color">red</attribute></box>
  <polygon label="road" source="manual" occluded="0" points="0,20;39,20;39,29;0,29" z_order="0"/>
  <mask label="car" source="manual" occluded="0" rle="1, 2, 1, 2" left="3" top="4" width="3" height="2" z_order="0"/>
  <tag label="day" source="manual"><attribute name="light">bright</attribute></tag>
  <polyline label="road" points="0,0;5,5"/>
</image>
<image id="1" name="sub/b.jpg" width="20" height="20"></image>
</annotations>
"""


@pytest.fixture
def cvat_set(tmp_path):
    images = tmp_path / "images"
    make_images(images, {"a.jpg": (40, 30), "sub/b.jpg": (20, 20)})
    xml = tmp_path / "annotations.xml"
    xml.write_text(CVAT_XML)
    return xml, images


def test_cvat_boxes_polygons_masks_tags_and_attributes(db, cvat_set, tmp_path):
    xml, images = cvat_set
    first = ls.ImageDataset.create("first")
    with pytest.warns(UserWarning, match="1 <polyline>"):
        first.add_samples_from_cvat(str(xml), str(images), embed=False)
    snap = snapshot(first)
    assert label_names(first) == ["car", "road", "day", "unused"]
    anns = {(a[0], a[1]): a for a in snap["a.jpg"]["annotations"]}
    assert json.loads(anns["car", "object_detection"][8]) == {
        "color": "red",
        "occluded": 1,
        "z_order": 2,
    }
    assert anns["road", "instance_segmentation"][6] == ((0, 20, 39, 20, 39, 29, 0, 29),)
    mask = np.zeros((30, 40), dtype=bool)
    mask[4:6, 4:6] = True  # rle 1,2,1,2 over the 3x2 crop at (3, 4): 0 1 1 / 0 1 1
    from lightly_studio.shapes import rle

    assert anns["car", "instance_segmentation"][5] == tuple(rle.encode(mask))
    assert json.loads(anns["day", "classification"][8]) == {"light": "bright"}
    assert snap["a.jpg"]["tags"] == {"train"} and snap["b.jpg"]["tags"] == set()

    out = first.export().to_cvat(tmp_path / "out.xml")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_cvat(str(out), str(images), embed=False)
    assert_same(snap, snapshot(again))


def test_cvat_corrections_come_back_as_a_new_annotation_source(db, cvat_set, tmp_path):
    xml, images = cvat_set
    ds = ls.ImageDataset.create("ds")
    _quiet(ds.add_samples_from_cvat, str(xml), str(images), embed=False)
    out = ds.export().to_cvat(tmp_path / "to_cvat.xml")
    corrected = out.read_text().replace('xtl="1.5"', 'xtl="2.5"')
    (tmp_path / "from_cvat.xml").write_text(corrected)
    r = ds.add_annotations_from_cvat(
        str(tmp_path / "from_cvat.xml"), str(images), annotation_source="cvat"
    )
    assert r.annotations_added == 4
    boxes = {
        (a[2], a[4][0]) for a in snapshot(ds)["a.jpg"]["annotations"] if a[1] == "object_detection"
    }
    assert boxes == {("ground_truth", 1.5), ("cvat", 2.5)}


@pytest.fixture
def labelme_set(tmp_path):
    folder = tmp_path / "labelme"
    make_images(folder, {"a.jpg": (40, 30), "b.jpg": (20, 20)})
    (folder / "a.json").write_text(
        json.dumps(
            {
                "version": "5.5.0",
                "flags": {"night": True, "blurry": False},
                "shapes": [
                    {
                        "label": "cat",
                        "points": [[11.25, 10], [1.5, 2]],
                        "shape_type": "rectangle",
                        "group_id": 3,
                        "flags": {"occluded": True},
                        "description": "sleeping",
                    },
                    {
                        "label": "dog",
                        "points": [[0, 20], [39, 20], [39, 29]],
                        "shape_type": "polygon",
                        "flags": {},
                    },
                    {"label": "dot", "points": [[3, 3]], "shape_type": "point"},
                ],
                "imagePath": "a.jpg",
                "imageData": None,
                "imageHeight": 30,
                "imageWidth": 40,
            }
        )
    )
    (folder / "b.json").write_text(
        json.dumps({"shapes": [], "imagePath": "b.jpg", "imageHeight": 20, "imageWidth": 20})
    )
    return folder


def test_labelme_rectangles_polygons_and_flags(db, labelme_set, tmp_path):
    first = ls.ImageDataset.create("first")
    with pytest.warns(UserWarning, match="1 point"):
        first.add_samples_from_labelme(str(labelme_set), embed=False)
    snap = snapshot(first)
    assert snap["a.jpg"]["flags"] == {"night": True, "blurry": False}
    cat = next(a for a in snap["a.jpg"]["annotations"] if a[0] == "cat")
    assert cat[4] == (1.5, 2.0, 9.75, 8.0)
    assert json.loads(cat[8]) == {
        "description": "sleeping",
        "flags": {"occluded": True},
        "group_id": 3,
    }
    out = first.export().to_labelme(tmp_path / "out")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_labelme(str(out), embed=False)
    assert_same(snap, snapshot(again))


def test_image_folders_with_splits_round_trip(db, tmp_path):
    root = tmp_path / "classes"
    make_images(
        root,
        {
            "train/cat/a.jpg": (10, 10),
            "train/dog/b.jpg": (12, 10),
            "val/cat/c.jpg": (10, 12),
            "test/dog/deeper/d.jpg": (8, 8),
        },
    )
    first = ls.ImageDataset.create("first")
    r = first.add_samples_from_image_folders(str(root), embed=False)
    assert (r.samples_added, r.annotations_added) == (4, 4)
    snap = snapshot(first)
    assert snap["d.jpg"]["tags"] == {"test"}
    assert [a[:2] for a in snap["d.jpg"]["annotations"]] == [("dog", "classification")]
    out = first.export().to_image_folders(tmp_path / "out")
    assert (out / "test" / "dog" / "test" / "dog" / "deeper" / "d.jpg").exists() or (
        out / "test" / "dog"
    ).exists()
    again = ls.ImageDataset.create("again")
    again.add_samples_from_image_folders(str(out), embed=False)
    assert_same(snap, snapshot(again))


def test_image_folders_without_splits(db, tmp_path):
    root = tmp_path / "classes"
    make_images(root, {"cat/a.jpg": (10, 10), "dog/b.jpg": (12, 10)})
    ds = ls.ImageDataset.create("ds")
    ds.add_samples_from_image_folders(str(root), embed=False)
    out = ds.export().to_image_folders(tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == ["cat", "dog"]


def test_voc_segmentation_masks_with_background_and_void(db, tmp_path):
    images = tmp_path / "JPEGImages"
    make_images(images, {"a.jpg": (6, 4)})
    masks = tmp_path / "SegmentationClass"
    masks.mkdir()
    arr = np.zeros((4, 6), dtype=np.uint8)
    arr[0:2, 0:3] = 1
    arr[3, :] = 2
    arr[2, 5] = 255  # void: skipped
    Image.fromarray(arr, mode="L").save(masks / "a.png")
    ds = ls.ImageDataset.create("ds")
    r = ds.add_samples_from_pascal_voc_segmentations(
        str(images), str(masks), {1: "cat", 2: "road"}, split="train", embed=False
    )
    assert r.annotations_added == 2
    snap = snapshot(ds)["a.jpg"]
    assert snap["tags"] == {"train"}
    from lightly_studio.shapes import rle

    got = {a[0]: (a[4], a[5]) for a in snap["annotations"]}
    assert got["cat"] == ((0.0, 0.0, 3.0, 2.0), tuple(rle.encode(arr == 1)))
    assert got["road"][1] == tuple(rle.encode(arr == 2))


# --- a query, one annotation source -------------------------------------------------------------


EXPORTS = {
    "cvat": lambda ex, p, **kw: ex.to_cvat(p / "x.xml", **kw),
    "voc": lambda ex, p, **kw: ex.to_pascal_voc_object_detections(p / "voc", images="none", **kw),
    "voc_seg": lambda ex, p, **kw: ex.to_pascal_voc_segmentations(p / "seg", images="none", **kw),
    "labelme": lambda ex, p, **kw: ex.to_labelme(p / "lm", images="none", **kw),
    "yolo_seg": lambda ex, p, **kw: ex.to_yolo_instance_segmentations(p / "ys", **kw),
    "image_folders": lambda ex, p, **kw: ex.to_image_folders(p / "if", **kw),
}

IMPORTS = {
    "cvat": lambda ds, p, images: ds.add_samples_from_cvat(
        str(p / "x.xml"), str(images), embed=False
    ),
    "voc": lambda ds, p, images: ds.add_samples_from_pascal_voc(
        str(images), str(p / "voc/Annotations"), embed=False
    ),
    "voc_seg": lambda ds, p, images: ds.add_samples_from_pascal_voc_segmentations(
        str(images), str(p / "seg/SegmentationClass"), {1: "cat", 2: "dog"}, embed=False
    ),
    "labelme": lambda ds, p, images: ds.add_samples_from_labelme(str(p / "lm"), embed=False),
    "yolo_seg": lambda ds, p, images: ds.add_samples_from_yolo(
        str(p / "ys/data.yaml"), task="segment", embed=False
    ),
    "image_folders": lambda ds, p, images: ds.add_samples_from_image_folders(
        str(p / "if"), embed=False
    ),
}


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_export_of_a_query_and_of_one_source(db, tmp_path, fmt):
    from lightly_studio.core.annotation import (
        CreateClassification,
        CreateInstanceSegmentation,
        CreateObjectDetection,
    )

    images = tmp_path / "imgs"
    make_images(images, {"big.jpg": (120, 80), "small.jpg": (40, 30)})
    ds = ls.ImageDataset.create("ds")
    ds.add_images_from_path(path=str(images), embed=False)
    for s in ds:
        m = np.zeros((s.height, s.width), dtype=bool)
        m[2:9, 3:12] = True
        for source, label in (("ground_truth", "cat"), ("model", "dog")):
            s.add_annotations(
                [
                    CreateObjectDetection(
                        label=label, x=1, y=2, width=6, height=7, annotation_source=source
                    ),
                    CreateInstanceSegmentation(
                        label=label,
                        x=3,
                        y=2,
                        width=9,
                        height=7,
                        segmentation_mask=_rle(m),
                        polygon=[[3, 2, 12, 2, 12, 9, 3, 9]],
                        annotation_source=source,
                    ),
                    CreateClassification(label=label, annotation_source=source),
                ]
            )
    query = ds.match(ImageSampleField.width > 100)
    out = tmp_path / "out"
    _quiet(EXPORTS[fmt], ds.export(query), out, annotation_source="model")
    again = ls.ImageDataset.create("again")
    _quiet(IMPORTS[fmt], again, out, images)
    snap = snapshot(again)
    assert list(snap) == ["big.jpg"]
    assert {a[0] for a in snap["big.jpg"]["annotations"]} == {"dog"}


def _rle(mask):
    from lightly_studio.shapes import rle

    return rle.encode(mask)


def test_voc_segmentation_object_pngs_become_instances_and_round_trip(db, tmp_path):
    """SegmentationObject/ (instance ids) read with SegmentationClass/ (class ids): each
    instance is an instance mask of its pixels' class; class pixels no instance covers stay
    semantic. The export writes both PNGs and reads back pixel for pixel."""
    images = tmp_path / "JPEGImages"
    make_images(images, {"a.jpg": (8, 6)})
    classes, objects = np.zeros((6, 8), np.uint8), np.zeros((6, 8), np.uint8)
    classes[0:2, 0:3], objects[0:2, 0:3] = 1, 1  # cat #1
    classes[3:5, 4:8], objects[3:5, 4:8] = 1, 2  # cat #2
    classes[5, 0:2], objects[5, 0:2] = 2, 3  # dog
    classes[2, 5] = objects[2, 5] = 255  # void border
    classes[0, 7] = 2  # dog pixel in no instance: semantic
    for folder, arr in (("SegmentationClass", classes), ("SegmentationObject", objects)):
        (tmp_path / folder).mkdir()
        Image.fromarray(arr, mode="L").save(tmp_path / folder / "a.png")
    ids = {1: "cat", 2: "dog"}
    first = ls.ImageDataset.create("first")
    first.add_samples_from_pascal_voc_segmentations(
        str(images),
        str(tmp_path / "SegmentationClass"),
        ids,
        instances_path=str(tmp_path / "SegmentationObject"),
        embed=False,
    )
    snap = snapshot(first)
    got = sorted((a[0], a[1], a[5]) for a in snap["a.jpg"]["annotations"])
    assert got == sorted(
        [
            ("cat", "instance_segmentation", tuple(_rle(objects == 1))),
            ("cat", "instance_segmentation", tuple(_rle(objects == 2))),
            ("dog", "instance_segmentation", tuple(_rle(objects == 3))),
            ("dog", "semantic_segmentation", tuple(_rle((classes == 2) & (objects == 0)))),
        ]
    )
    out = first.export().to_pascal_voc_segmentations(tmp_path / "out", class_id_to_name=ids)
    written = np.asarray(Image.open(out / "SegmentationObject" / "a.png"))
    assert sorted(np.unique(written).tolist()) == [0, 1, 2, 3]
    again = ls.ImageDataset.create("again")
    again.add_samples_from_pascal_voc_segmentations(
        str(out / "JPEGImages"),
        str(out / "SegmentationClass"),
        ids,
        instances_path=str(out / "SegmentationObject"),
        embed=False,
    )
    assert_same(snap, snapshot(again))


def test_voc_instance_over_two_classes_is_an_error(db, tmp_path):
    images = tmp_path / "JPEGImages"
    make_images(images, {"a.jpg": (4, 4)})
    classes, objects = np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)
    classes[0, 0:2], classes[1, 0:2], objects[0:2, 0:2] = 1, 2, 1
    for folder, arr in (("cls", classes), ("obj", objects)):
        (tmp_path / folder).mkdir()
        Image.fromarray(arr, mode="L").save(tmp_path / folder / "a.png")
    ds = ls.ImageDataset.create("ds")
    with pytest.raises(IngestError, match=r"obj/a.png: instance id 1: .*several classes"):
        ds.add_samples_from_pascal_voc_segmentations(
            str(images),
            str(tmp_path / "cls"),
            {1: "cat", 2: "dog"},
            instances_path=str(tmp_path / "obj"),
            embed=False,
        )
    assert ds.query().count() == 0


# --- semantic masks, multi-ring polygons and classifications through CVAT and LabelMe -----------


@pytest.fixture
def mixed_shapes(db, tmp_path):
    """A semantic mask (no polygon), a semantic polygon, a two-ring instance polygon and a
    classification on one image."""
    from lightly_studio.core.annotation import (
        CreateClassification,
        CreateInstanceSegmentation,
        CreateSemanticSegmentation,
    )

    images = tmp_path / "imgs"
    make_images(images, {"a.jpg": (40, 30)})
    ds = ls.ImageDataset.create("mixed")
    ds.add_images_from_path(path=str(images), embed=False)
    road = np.zeros((30, 40), dtype=bool)
    road[20:30, :] = True
    road[18, 5:9] = True
    from lightly_studio.store.annotations import polygon_to_rle

    sky = [[0, 0, 40, 0, 40, 6, 0, 6]]
    car = [[2, 8, 10, 8, 10, 14, 2, 14], [20.5, 8, 30, 8, 30, 15.25, 20.5, 15.25]]
    sample = next(iter(ds))
    sample.add_annotations(
        [
            CreateSemanticSegmentation.from_binary_mask("road", road),
            CreateSemanticSegmentation(
                label="sky",
                x=0,
                y=0,
                width=40,
                height=6,
                polygon=sky,
                segmentation_mask=polygon_to_rle(sky, 40, 30),
            ),
            CreateInstanceSegmentation(
                label="car",
                x=2,
                y=8,
                width=28,
                height=7.25,
                polygon=car,
                segmentation_mask=polygon_to_rle(car, 40, 30),
            ),
            CreateClassification(label="street"),
        ]
    )
    return ds, images


def _kinds(snap) -> list[tuple]:
    return sorted((a[0], a[1], len(a[6] or ())) for a in snap["a.jpg"]["annotations"])


EXPECTED_KINDS = [
    ("car", "instance_segmentation", 2),
    ("road", "semantic_segmentation", 0),
    ("sky", "semantic_segmentation", 1),
    ("street", "classification", 0),
]


def test_cvat_keeps_semantic_masks_multi_ring_polygons_and_tags(mixed_shapes, tmp_path):
    ds, images = mixed_shapes
    before = snapshot(ds)
    assert _kinds(before) == EXPECTED_KINDS
    ds.export().to_cvat(tmp_path / "a.xml")
    xml = (tmp_path / "a.xml").read_text()
    assert xml.count('group_id="1"') == 2  # the car's two rings, as polygons
    assert xml.count('<attribute name="semantic_segmentation">true</attribute>') == 2
    again = ls.ImageDataset.create("again")
    again.add_samples_from_cvat(str(tmp_path / "a.xml"), str(images), embed=False)
    assert_same(before, snapshot(again), mask_boxes=False)


def test_labelme_keeps_semantic_masks_multi_ring_polygons_and_classifications(
    mixed_shapes, tmp_path
):
    ds, _ = mixed_shapes
    before = snapshot(ds)
    out = ds.export().to_labelme(tmp_path / "lm")
    doc = json.loads((out / "a.json").read_text())
    cars = [s for s in doc["shapes"] if s["label"] == "car"]
    assert [s["shape_type"] for s in cars] == ["polygon", "polygon"]
    assert cars[0]["group_id"] == cars[1]["group_id"] == 1
    assert doc["flags"] == {"street": True} and doc["classifications"] == ["street"]
    again = ls.ImageDataset.create("again")
    again.add_samples_from_labelme(str(out), embed=False)
    after = snapshot(again)
    assert after["a.jpg"]["flags"] == {}  # the class is a classification, not a flag
    assert_same(before, after, mask_boxes=False)


def test_labelme_unticked_classification_is_dropped_and_plain_flags_stay_flags(db, tmp_path):
    make_images(tmp_path, {"a.jpg": (10, 10)})
    doc = {
        "shapes": [],
        "imagePath": "a.jpg",
        "imageWidth": 10,
        "imageHeight": 10,
        "flags": {"street": False, "indoor": True, "night": True},
        "classifications": ["street", "indoor"],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    ds = ls.ImageDataset.create("ds")
    ds.add_samples_from_labelme(str(tmp_path), embed=False)
    snap = snapshot(ds)["a.jpg"]
    assert snap["flags"] == {"night": True}
    assert [a[:2] for a in snap["annotations"]] == [("indoor", "classification")]


def test_labelme_polygons_of_one_group_are_one_annotation(db, tmp_path):
    make_images(tmp_path, {"a.jpg": (20, 20)})
    ring = lambda x: [[x, 1], [x + 4, 1], [x + 4, 5], [x, 5]]  # noqa: E731
    shapes = [
        {"label": "car", "points": ring(1), "group_id": 7, "shape_type": "polygon"},
        {"label": "car", "points": ring(10), "group_id": 7, "shape_type": "polygon"},
        {"label": "car", "points": ring(1), "group_id": 8, "shape_type": "polygon"},
        {"label": "car", "points": [[1, 8], [5, 12]], "group_id": 7, "shape_type": "rectangle"},
    ]
    doc = {"shapes": shapes, "imagePath": "a.jpg", "imageWidth": 20, "imageHeight": 20}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    ds = ls.ImageDataset.create("ds")
    ds.add_samples_from_labelme(str(tmp_path), embed=False)
    got = sorted((a[1], len(a[6] or ()), a[8]) for a in snapshot(ds)["a.jpg"]["annotations"])
    assert got == [
        ("instance_segmentation", 1, '{"group_id": 8}'),
        ("instance_segmentation", 2, "{}"),  # group 7's two rings
        ("object_detection", 0, '{"group_id": 7}'),
    ]
