"""Export (COCO, YOLO, captions, CSV) and exact round trips: import → export → re-import."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

import lightly_studio as ls
from lightly_studio.core.annotation import CreateClassification, CreateObjectDetection
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.db import get_connection
from lightly_studio.store.labels import list_labels
from tests.conftest import make_images

COCO = "coco_subset_128_images"


def snapshot(ds) -> dict:
    """Everything a round trip must keep, per file name (read in bulk, not per sample)."""
    from lightly_studio.db import query_frame
    from lightly_studio.store.annotations import annotations_frame

    con = get_connection()
    samples = query_frame(
        """
        SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_name, s.width, s.height,
               list_sort(list(t.name) FILTER (WHERE t.name IS NOT NULL)) AS tags,
               (SELECT list(c.text ORDER BY c.created_at) FROM caption c
                WHERE c.sample_id = s.sample_id) AS captions
        FROM sample s LEFT JOIN tag t ON list_contains(s.tag_numbers, t.tag_number)
        WHERE s.dataset_id = $1 GROUP BY ALL""",
        [str(ds.dataset_id)],
        con,
    )
    anns = annotations_frame(con, ds.dataset_id)
    by_sample: dict[str, list] = {}
    for a in anns.iter_rows(named=True):
        boxed = a["x"] is not None
        by_sample.setdefault(a["sample_id"], []).append(
            (
                a["label"],
                a["annotation_type"],
                a["source"],
                a["confidence"],
                (a["x"], a["y"], a["width"], a["height"]) if boxed else None,
                None if a["segmentation_mask"] is None else tuple(a["segmentation_mask"]),
                a["iscrowd"],
            )
        )
    out = {}
    for s in samples.iter_rows(named=True):
        out[s["file_name"]] = {
            "size": (s["width"], s["height"]),
            "tags": set(s["tags"] or []),
            "captions": s["captions"] or [],
            "annotations": sorted(
                by_sample.get(s["sample_id"], []),
                key=lambda t: (t[0], t[1], t[2], t[3] or 0, t[4] or ()),
            ),
        }
    assert len(out) == samples.height  # file names are unique in these tests
    return out


def assert_same(a: dict, b: dict, ignore_tags: bool = False) -> None:
    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        assert x["size"] == y["size"], name
        assert ignore_tags or x["tags"] == y["tags"], name
        assert x["captions"] == y["captions"], name
        assert len(x["annotations"]) == len(y["annotations"]), name
        for p, q in zip(x["annotations"], y["annotations"], strict=True):
            assert p[:4] == q[:4], name
            if p[4] is not None:
                assert q[4] == pytest.approx(p[4], rel=1e-6, abs=1e-9), name
            assert p[5] == q[5], f"mask of {name} differs"  # pixel-exact
            assert p[6] == q[6], name


def _label_names(ds) -> list[str]:
    return list_labels(get_connection(), ds.dataset_id)["name"].to_list()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_coco_instance_segmentation_round_trip_keeps_all_900_masks(db, examples, tmp_path):
    images = examples / COCO / "images"
    original = ls.ImageDataset.create("original")
    original.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"),
        str(images),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    path = original.export().to_coco_instance_segmentations(tmp_path / "seg.json")
    written = json.loads(path.read_text())
    assert len(written["images"]) == 128 and len(written["annotations"]) == 900
    assert sum(isinstance(a["segmentation"], list) for a in written["annotations"]) == 887
    assert sum(isinstance(a["segmentation"], dict) for a in written["annotations"]) == 13
    assert written["images"][0]["file_name"] == "000000001732.jpg"  # relative to images/

    again = ls.ImageDataset.create("again")
    again.add_samples_from_coco(
        str(path), str(images), annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION, embed=False
    )
    assert_same(snapshot(original), snapshot(again))
    assert _label_names(original) == _label_names(again)  # all 80 categories, same order
    from lightly_studio.store.annotations import annotations_frame

    def polygons(ds):
        rows = (
            annotations_frame(get_connection(), ds.dataset_id)
            .select("label", "x", "y", "width", "height", "polygon")
            .rows()
        )
        return sorted(map(repr, rows))

    assert polygons(original) == polygons(again)


def test_coco_object_detection_round_trip(db, examples, tmp_path):
    images = examples / COCO / "images"
    original = ls.ImageDataset.create("original")
    original.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"), str(images), embed=False
    )
    path = original.export().to_coco_object_detections(output_json=tmp_path / "det.json")
    again = ls.ImageDataset.create("again")
    again.add_samples_from_coco(str(path), str(images), embed=False)
    assert_same(snapshot(original), snapshot(again))


def test_yolo_round_trip_keeps_splits_and_class_order(db, examples, tmp_path):
    original = ls.ImageDataset.create("original")
    original.add_samples_from_yolo(str(examples / "road_signs_yolo" / "data.yaml"), embed=False)
    data_yaml = original.export().to_yolo_object_detections(tmp_path / "yolo")
    config = yaml.safe_load(data_yaml.read_text())
    assert config["names"][:3] == ["bus_stop", "do_not_enter", "do_not_stop"]
    assert (config["train"], config["val"], config["test"]) == (
        "train/images",
        "val/images",
        "test/images",
    )
    assert len(list((tmp_path / "yolo" / "val" / "labels").iterdir())) == 128

    again = ls.ImageDataset.create("again")
    again.add_samples_from_yolo(str(data_yaml), embed=False)
    assert_same(snapshot(original), snapshot(again))
    assert _label_names(original) == _label_names(again)


def test_captions_round_trip(db, tmp_path):
    make_images(tmp_path / "imgs", {"a.jpg": (10, 10), "b/c.jpg": (20, 10)})
    captions = {
        "images": [
            {"id": 7, "file_name": "a.jpg", "width": 10, "height": 10},
            {"id": 8, "file_name": "b/c.jpg", "width": 20, "height": 10},
        ],
        "annotations": [
            {"id": 1, "image_id": 7, "caption": 'Two cats, "sleeping".'},
            {"id": 2, "image_id": 8, "caption": "Ünïcode ✓"},
            {"id": 3, "image_id": 7, "caption": "A second caption."},
        ],
    }
    src = tmp_path / "captions.json"
    src.write_text(json.dumps(captions))
    original = ls.ImageDataset.create("original")
    original.add_samples_from_coco_caption(
        annotations_json=str(src), images_path=str(tmp_path / "imgs"), embed=False
    )
    path = original.export().to_coco_captions(tmp_path / "out.json")
    assert {i["file_name"] for i in json.loads(path.read_text())["images"]} == {"a.jpg", "b/c.jpg"}
    again = ls.ImageDataset.create("again")
    again.add_samples_from_coco_caption(str(path), str(tmp_path / "imgs"), embed=False)
    assert_same(snapshot(original), snapshot(again))
    assert snapshot(again)["a.jpg"]["captions"] == ['Two cats, "sleeping".', "A second caption."]


@pytest.fixture
def labelled(db, tmp_path):
    make_images(tmp_path / "imgs", {"big.jpg": (200, 100), "small.jpg": (20, 10)})
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(tmp_path / "imgs"), embed=False)
    for s in ds:
        s.add_annotations(
            [
                CreateObjectDetection(label="car", x=1.25, y=2, width=3, height=4),
                CreateObjectDetection(
                    label="car",
                    x=0,
                    y=0,
                    width=5,
                    height=5,
                    confidence=0.5,
                    annotation_source="model",
                ),
                CreateClassification(label="day" if s.width > 100 else "night", confidence=0.9),
            ]
        )
    return ds, tmp_path


def test_export_of_a_query_and_of_one_source(labelled):
    ds, tmp_path = labelled
    query = ds.match(ImageSampleField.width > 100)
    path = ds.export(query).to_coco_object_detections(
        tmp_path / "q.json", annotation_source="model"
    )
    data = json.loads(path.read_text())
    assert [i["file_name"] for i in data["images"]] == ["big.jpg"]
    assert [(a["bbox"], a["score"]) for a in data["annotations"]] == [([0, 0, 5, 5], 0.5)]


def test_predictions_round_trip_through_coco_with_their_scores(labelled):
    ds, tmp_path = labelled
    path = ds.export().to_coco_object_detections(tmp_path / "p.json", annotation_source="model")
    again = ls.ImageDataset.create("again")
    again.add_images_from_path(path=str(tmp_path / "imgs"), embed=False)
    again.add_annotations_from_coco(str(path), annotation_source="model")
    assert sorted((s.file_name, a.confidence, a.width) for s in again for a in s.annotations) == [
        ("big.jpg", 0.5, 5),
        ("small.jpg", 0.5, 5),
    ]


def test_csv_classifications(labelled):
    ds, tmp_path = labelled
    path = ds.export().to_csv_classifications(tmp_path / "cls.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [
        {"file_name": "big.jpg", "label": "day", "confidence": "0.9"},
        {"file_name": "small.jpg", "label": "night", "confidence": "0.9"},
    ]


def test_file_names_relative_to_a_chosen_root(labelled):
    ds, tmp_path = labelled
    path = ds.export().to_coco_object_detections(tmp_path / "r.json", root=tmp_path)
    assert {i["file_name"] for i in json.loads(path.read_text())["images"]} == {
        "imgs/big.jpg",
        "imgs/small.jpg",
    }
    with pytest.raises(ls.errors.LightlyStudioError, match="outside it"):
        ds.export().to_coco_object_detections(tmp_path / "r.json", root=tmp_path / "elsewhere")


def test_default_file_is_coco_export_json_in_the_working_directory(labelled, monkeypatch):
    ds, tmp_path = labelled
    monkeypatch.chdir(tmp_path)
    assert ds.export().to_coco_object_detections() == tmp_path / "coco_export.json"


def test_yolo_without_split_tags_goes_to_train_and_can_skip_images(labelled):
    ds, tmp_path = labelled
    data_yaml = ds.export().to_yolo_object_detections(
        tmp_path / "y", images="none", annotation_source="ground_truth"
    )
    assert yaml.safe_load(data_yaml.read_text()) == {
        "train": "train/images",
        "nc": 3,
        "names": ["car", "day", "night"],
    }
    assert not (tmp_path / "y" / "train" / "images").exists()
    lines = (tmp_path / "y" / "train" / "labels" / "big.txt").read_text().split()
    assert [float(v) for v in lines] == pytest.approx([0, 2.75 / 200, 4 / 100, 3 / 200, 4 / 100])


def test_instance_masks_drawn_in_python_export_as_rle(db, tmp_path):
    from lightly_studio.core.annotation import CreateInstanceSegmentation

    make_images(tmp_path / "imgs", {"m.png": (6, 4)})
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(tmp_path / "imgs"), embed=False)
    mask = np.zeros((4, 6), bool)
    mask[1:3, 2:5] = True
    next(iter(ds)).add_annotation(
        CreateInstanceSegmentation.from_binary_mask(label="blob", binary_mask=mask)
    )
    path = ds.export().to_coco_instance_segmentations(tmp_path / "m.json")
    (ann,) = json.loads(path.read_text())["annotations"]
    assert ann["segmentation"]["size"] == [4, 6] and ann["area"] == 6
    again = ls.ImageDataset.create("again")
    again.add_samples_from_coco(
        str(path), str(tmp_path / "imgs"), annotation_type="instance_segmentation", embed=False
    )
    assert np.array_equal(next(iter(again)).annotations[0].to_binary_mask(), mask)
