"""YOLO import: Ultralytics layout, splits as tags, boxes, polygons, bad label files."""

from __future__ import annotations

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio.core.annotation import InstanceSegmentationAnnotation
from lightly_studio.db import get_connection
from lightly_studio.errors import IngestError
from tests.conftest import make_images


def _counts() -> tuple:
    con = get_connection()
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("sample", "annotation", "annotation_label", "tag")
    )


@pytest.fixture
def yolo(tmp_path):
    """data/ with train (2 images) and valid (1 image), names as a dict, relative path."""
    root = tmp_path / "data"
    make_images(root / "train" / "images", {"a.jpg": (100, 50), "b.png": (40, 40)})
    make_images(root / "valid" / "images", {"c.jpg": (10, 20)})
    (root / "train" / "labels").mkdir(parents=True)
    (root / "valid" / "labels").mkdir(parents=True)
    (root / "train" / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.25 0.5 0.5 1.0\n")
    # b.png has no label file: a background image.
    (root / "valid" / "labels" / "c.txt").write_text("1 0.1 0.1 0.9 0.1 0.9 0.9 0.1 0.9")
    yaml_path = tmp_path / "data.yaml"
    yaml_path.write_text(
        "path: data\ntrain: train/images\nval: valid/images\nnames:\n  0: car\n  1: person\n"
    )
    return yaml_path


def _by_file(ds):
    return {s.file_name: s for s in ds}


def test_example_road_signs(db, examples):
    dataset = ls.ImageDataset.create()
    dataset.add_samples_from_yolo(
        data_yaml=f"{examples}/road_signs_yolo/data.yaml",
        embed=False,
    )
    assert len(dataset) == 384
    assert sorted(dataset.tags) == ["test", "train", "val"]
    assert _counts()[1:3] == (466, 21)
    lines = (
        (
            examples
            / "road_signs_yolo/train/labels"
            / "lampu-hijau--1-_jpg.rf.f6a53328ab8e23a9d272cf46a8e7c8b6.txt"
        )
        .read_text()
        .split()
    )
    sample = _by_file(dataset)["lampu-hijau--1-_jpg.rf.f6a53328ab8e23a9d272cf46a8e7c8b6.jpg"]
    (a,) = sample.annotations
    xc, _yc, w, h = (float(v) for v in lines[1:])
    assert a.label == "green_light" and sample.tags == {"train"}
    assert a.x == pytest.approx((xc - w / 2) * sample.width, rel=1e-9)
    assert a.height == pytest.approx(h * sample.height, rel=1e-9)


def test_boxes_polygons_splits_and_background_images(db, yolo):
    ds = ls.ImageDataset.create()
    result = ds.add_samples_from_yolo(data_yaml=str(yolo), embed=False)
    assert (result.samples_added, result.annotations_added) == (3, 3)
    files = _by_file(ds)
    assert {n: s.tags for n, s in files.items()} == {
        "a.jpg": {"train"},
        "b.png": {"train"},
        "c.jpg": {"val"},
    }
    car, person = files["a.jpg"].annotations
    assert (car.label, car.x, car.y, car.width, car.height) == ("car", 40, 15, 20, 20)
    assert (person.x, person.y, person.width, person.height) == (0, 0, 50, 50)
    assert files["b.png"].annotations == []
    (poly,) = files["c.jpg"].annotations
    assert isinstance(poly, InstanceSegmentationAnnotation)
    assert poly.polygon == [[1.0, 2.0, 9.0, 2.0, 9.0, 18.0, 1.0, 18.0]]
    assert (poly.x, poly.y, poly.width, poly.height) == (1, 2, 8, 16)
    mask = poly.to_binary_mask()
    assert mask.shape == (20, 10) and mask[10, 5] and not mask[0, 0]


def test_input_split_and_names_as_list(db, yolo):
    yolo.write_text("path: data\ntrain: train/images\nval: valid/images\nnames: [car, person]\n")
    ds = ls.ImageDataset.create()
    ds.add_samples_from_yolo(data_yaml=str(yolo), input_split="val", embed=False)
    assert [s.file_name for s in ds] == ["c.jpg"] and ds.tags == ["val"]
    with pytest.raises(IngestError, match="no split 'test'"):
        ds.add_samples_from_yolo(data_yaml=str(yolo), input_split="test", embed=False)


@pytest.mark.parametrize(
    "content, message",
    [
        ("0 0.5 0.5 0.2\n", r"a.txt, line 1: has 4 values"),
        ("0 0.5 0.5 0.2 0.4\n0 0.5 0.5 0.2 0.4 0.3 0.1 0.2\n", r"a.txt, line 2: has 8 values"),
        (
            "0 0.5 0.5 0.2 0.4\n\n5 0.5 0.5 0.2 0.4\n",
            r"a.txt, line 3: has class id '5', which is not",
        ),
        ("0 0.5 0.5 1.2 0.4\n", r"a.txt, line 1: has coordinates outside \[0, 1\]"),
        ("0 0.5 -0.5 0.2 0.4\n", r"a.txt, line 1: has coordinates outside"),
        ("zero 0.5 0.5 0.2 0.4\n", r"a.txt, line 1: has a value that is not a number"),
        ("0.5 0.5 0.5 0.2 0.4\n", r"a.txt, line 1: has class id '0.5'"),
        ("0 0.5 0.5 0.2 0.4 1.5\n", r"a.txt, line 1: has coordinates outside"),
    ],
)
def test_bad_label_lines_name_file_and_line_and_store_nothing(db, yolo, content, message):
    ds = ls.ImageDataset.create()
    ds.add_images_from_path(path=str(yolo.parent / "data" / "valid"), embed=False)
    before = _counts()
    (yolo.parent / "data" / "train" / "labels" / "a.txt").write_text(content)
    with pytest.raises(IngestError, match=message):
        ds.add_samples_from_yolo(data_yaml=str(yolo), embed=False)
    assert _counts() == before


def test_bad_data_yaml(db, tmp_path):
    ds = ls.ImageDataset.create()
    bad = tmp_path / "data.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(IngestError, match="malformed YAML"):
        ds.add_samples_from_yolo(data_yaml=str(bad), embed=False)
    bad.write_text("train: nowhere/images\nnames: [a]\n")
    with pytest.raises(IngestError, match="the train split 'nowhere/images' does not exist"):
        ds.add_samples_from_yolo(data_yaml=str(bad), embed=False)
    bad.write_text("train: .\n")
    with pytest.raises(IngestError, match="missing 'names'"):
        ds.add_samples_from_yolo(data_yaml=str(bad), embed=False)


def test_label_files_without_images_are_a_counted_warning(db, yolo):
    (yolo.parent / "data" / "train" / "labels" / "gone.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.warns(UserWarning, match="1 label files have no image.*gone.txt"):
        ls.ImageDataset.create().add_samples_from_yolo(data_yaml=str(yolo), embed=False)


def test_boxes_reaching_outside_are_clipped_with_a_warning(db, yolo):
    (yolo.parent / "data" / "train" / "labels" / "a.txt").write_text("0 0.95 0.5 0.2 0.2\n")
    ds = ls.ImageDataset.create()
    with pytest.warns(UserWarning, match="1 boxes reach outside.*a.txt, line 1"):
        ds.add_samples_from_yolo(data_yaml=str(yolo), embed=False)
    (a,) = _by_file(ds)["a.jpg"].annotations
    assert (a.x, a.width) == pytest.approx((85, 15))


def test_predictions_with_confidence_beside_ground_truth(db, yolo, tmp_path):
    ds = ls.ImageDataset.create()
    ds.add_samples_from_yolo(data_yaml=str(yolo), embed=False)
    (yolo.parent / "data" / "train" / "labels" / "a.txt").write_text("1 0.5 0.5 0.2 0.4 0.8\n")
    (yolo.parent / "data" / "valid" / "labels" / "c.txt").write_text("")
    ds.add_annotations_from_yolo(data_yaml=str(yolo), annotation_source="yolo11n")
    preds = [
        (s.file_name, a.label, a.confidence)
        for s in ds
        for a in s.annotations
        if a.source == "yolo11n"
    ]
    assert preds == [("a.jpg", "person", 0.8)]
    assert _counts()[1] == 4


def test_roboflow_relative_split_paths(db, tmp_path):
    """Roboflow writes 'train: ../train/images' next to the splits; it still resolves."""
    make_images(tmp_path / "ds" / "train" / "images", {"x.jpg": (8, 8)})
    (tmp_path / "ds" / "train" / "labels").mkdir()
    (tmp_path / "ds" / "train" / "labels" / "x.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "ds" / "data.yaml").write_text("train: ../train/images\nnc: 1\nnames: ['a']\n")
    ds = ls.ImageDataset.create()
    ds.add_samples_from_yolo(data_yaml=str(tmp_path / "ds" / "data.yaml"), embed=False)
    (a,) = next(iter(ds)).annotations
    assert (a.x, a.y, a.width, a.height) == (2, 2, 4, 4)
    assert np.isclose(a.x, 2)


def test_split_given_as_a_list_file_of_images(db, yolo):
    root = yolo.parent / "data"
    (root / "train.txt").write_text("./train/images/a.jpg\n\n")
    yolo.write_text("path: data\ntrain: train.txt\nnames: [car, person]\n")
    ds = ls.ImageDataset.create()
    ds.add_samples_from_yolo(data_yaml=str(yolo), embed=False)
    assert [(s.file_name, len(s.annotations)) for s in ds] == [("a.jpg", 2)]
