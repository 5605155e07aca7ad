"""What the export dialog gets from the server: the format list from the registry (labels,
file or folder, suffix), output names that follow the format, the annotation source, and the
file list."""

from __future__ import annotations

import json

import pytest

from lightly_studio.api import dispatch
from lightly_studio.export import DatasetExport
from tests.api.conftest import write_images


@pytest.fixture
def ds(db, tmp_path):
    from lightly_studio.core.image_dataset import ImageDataset

    images = tmp_path / "images"
    images.mkdir()
    write_images(images, {"a.jpg": (40, 30), "b.jpg": (20, 10)})
    dataset = ImageDataset.create("small")
    dataset.add_images_from_path(str(images), embed=False)
    ids = {s.file_name: str(s.sample_id) for s in dataset}
    for label, source in (("cat", None), ("dog", "model_x")):
        ann = {"type": "object_detection", "label": label, "box": [1, 2, 10, 10]}
        if source:
            ann |= {"source": source, "confidence": 0.9}
        dispatch("annotation_create", {"sample_id": ids["a.jpg"], "annotation": ann})
    return dataset


def _export(ds, fmt, output=None, **extra):
    params = {"dataset_id": str(ds.dataset_id), "format": fmt, "scope": "all", "output": output}
    return dispatch("export", {**params, **extra})[0]


def test_the_formats_come_from_the_registry_with_their_kind_and_suffix(db):
    result, _ = dispatch("export_formats", {})
    details = {d["name"]: d for d in result["details"]}
    assert result["formats"] == [d["name"] for d in result["details"]]
    for name in ("coco_object_detections", "coco_captions", "csv_classifications", "file_list"):
        assert details[name]["writes"] == "file", name
    assert details["yolo_object_detections"]["writes"] == "folder"
    assert details["yolo_object_detections"]["extension"] is None
    assert details["csv_classifications"]["extension"] == ".csv"
    assert details["file_list"]["extension"] == ".txt"
    # Only what this exporter can write is offered.
    for name in details:
        assert name == "file_list" or hasattr(DatasetExport, f"to_{name}"), name


def test_yolo_goes_to_a_folder_even_when_the_name_says_json(ds, export_folder):
    written = _export(ds, "yolo_object_detections", "labels.json")
    assert (export_folder / "labels").is_dir()
    assert not (export_folder / "labels.json").exists()
    assert written["download"] == "labels" and written["writes"] == "folder"


def test_csv_under_a_json_name_gets_the_csv_suffix(ds, export_folder):
    written = _export(ds, "csv_classifications", "labels.json")
    assert written["download"] == "labels.csv"
    assert (export_folder / "labels.csv").is_file()


def test_default_names_follow_the_format(ds, export_folder):
    assert _export(ds, "coco_object_detections")["download"] == "small_coco_object_detections.json"
    assert _export(ds, "file_list")["download"] == "small_file_list.txt"
    assert _export(ds, "yolo_object_detections")["download"] == ("small_yolo_object_detections")


def test_the_annotation_source_picks_one_source(ds, export_folder):
    _export(ds, "coco_object_detections", "gt.json", annotation_source="ground_truth")
    _export(ds, "coco_object_detections", "model.json", annotation_source="model_x")
    _export(ds, "coco_object_detections", "all.json")

    def labels(name):
        coco = json.loads((export_folder / name).read_text())
        names = {c["id"]: c["name"] for c in coco["categories"]}
        return sorted(names[a["category_id"]] for a in coco["annotations"])

    assert labels("gt.json") == ["cat"]
    assert labels("model.json") == ["dog"]
    assert labels("all.json") == ["cat", "dog"]


def test_the_file_list_holds_one_path_per_sample(ds, export_folder):
    written = _export(ds, "file_list", "files")
    lines = (export_folder / "files.txt").read_text().splitlines()
    assert written["count"] == 2 and len(lines) == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in lines) == ["a.jpg", "b.jpg"]


def test_a_source_for_a_format_without_sources_is_an_error(ds):
    from lightly_studio.errors import QueryError

    with pytest.raises(QueryError, match="annotation source"):
        _export(ds, "coco_captions", annotation_source="ground_truth")
