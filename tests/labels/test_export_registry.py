"""One registry of export formats (export/formats.py): the views offer each, and each writes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import lightly_studio as ls
from lightly_studio.api import dispatch
from lightly_studio.core.annotation import (
    CreateClassification,
    CreateInstanceSegmentation,
    CreateObjectDetection,
)
from lightly_studio.export import DatasetExport
from lightly_studio.export.formats import EXPORT_FORMATS
from lightly_studio.shapes import rle
from tests.conftest import make_images


def test_every_registered_format_has_its_exporter_method():
    for fmt in EXPORT_FORMATS:
        assert callable(getattr(DatasetExport, f"to_{fmt.name}", None)), fmt.name
        assert fmt.writes in ("file", "folder")
        assert (fmt.extension is not None) == (fmt.writes == "file"), fmt.name


def test_export_formats_lists_the_registry_with_details(db):
    result, _ = dispatch("export_formats", {})
    assert result["formats"] == [f.name for f in EXPORT_FORMATS]
    details = {d["name"]: d for d in result["details"]}
    assert details["cvat"] == {
        "name": "cvat",
        "label": "CVAT for images 1.1",
        "writes": "file",
        "extension": ".xml",
        "description": "boxes, polygons, masks, tags, attributes",
    }
    assert details["pascal_voc_object_detections"]["writes"] == "folder"


@pytest.fixture
def labelled(db, tmp_path):
    make_images(tmp_path / "imgs", {"a.jpg": (40, 30), "b.jpg": (20, 20)})
    ds = ls.ImageDataset.create("ds")
    ds.add_images_from_path(path=str(tmp_path / "imgs"), embed=False)
    for s in ds:
        mask = np.zeros((s.height, s.width), dtype=bool)
        mask[2:9, 3:12] = True
        s.add_annotations(
            [
                CreateObjectDetection(label="cat", x=1, y=2, width=6, height=7),
                CreateInstanceSegmentation(
                    label="cat",
                    x=3,
                    y=2,
                    width=9,
                    height=7,
                    segmentation_mask=rle.encode(mask),
                    polygon=[[3, 2, 12, 2, 12, 9, 3, 9]],
                ),
                CreateClassification(label="cat"),
            ]
        )
    return ds


@pytest.mark.parametrize("fmt", [f for f in EXPORT_FORMATS], ids=lambda f: f.name)
def test_each_format_exports_from_the_views(labelled, export_folder, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result, _ = dispatch(
            "export", {"dataset_id": str(labelled.dataset_id), "format": fmt.name, "scope": "all"}
        )
    path = Path(result["path"])
    assert path.is_relative_to(export_folder.resolve())
    if fmt.writes == "file":
        assert path.is_file() and path.suffix == fmt.extension and path.stat().st_size > 0
    else:
        folder = path if path.is_dir() else path.parent
        assert any(p.is_file() for p in folder.rglob("*")), fmt.name
