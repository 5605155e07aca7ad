"""labelformat's inputs and outputs as escape hatches: add_samples_from_labelformat,
add_samples_from_lightly and export(...).to_labelformat(...)."""

from __future__ import annotations

import os

import pytest

import lightly_studio as ls
from lightly_studio.errors import ExportError, IngestError
from tests.labels.formats_helpers import assert_same, label_names, snapshot

pytest.importorskip("labelformat")
from labelformat.formats.coco import (
    COCOInstanceSegmentationInput,
    COCOInstanceSegmentationOutput,
    COCOObjectDetectionInput,
)
from labelformat.formats.lightly import LightlyObjectDetectionOutput

COCO = "coco_subset_128_images"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def coco(db, examples):
    ds = ls.ImageDataset.create("coco")
    ds.add_samples_from_coco(
        str(examples / COCO / "instances_train2017.json"),
        str(examples / COCO / "images"),
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
        embed=False,
    )
    return ds, examples / COCO / "images"


def test_boxes_from_a_labelformat_input(db, examples):
    ds = ls.ImageDataset.create("lf")
    r = ds.add_samples_from_labelformat(
        COCOObjectDetectionInput(examples / COCO / "instances_train2017.json"),
        str(examples / COCO / "images"),
        embed=False,
    )
    assert (r.samples_added, r.annotations_added) == (128, 900)
    assert len(label_names(ds)) == 80


def test_instance_segmentation_round_trip_through_labelformat_coco(coco, tmp_path):
    ds, images = coco
    ds.export().to_labelformat(COCOInstanceSegmentationOutput(output_file=tmp_path / "a.json"))
    first = ls.ImageDataset.create("first")
    first.add_samples_from_labelformat(
        COCOInstanceSegmentationInput(tmp_path / "a.json"), str(images), embed=False
    )
    # Polygons come back as polygons and RLE masks as masks, pixel for pixel (labelformat's
    # model has no crowd flag).
    assert_same(snapshot(ds), snapshot(first), polygons=False, mask_boxes=False, iscrowd=False)
    first.export().to_labelformat(COCOInstanceSegmentationOutput(output_file=tmp_path / "b.json"))
    again = ls.ImageDataset.create("again")
    again.add_samples_from_labelformat(
        COCOInstanceSegmentationInput(tmp_path / "b.json"), str(images), embed=False
    )
    assert_same(snapshot(first), snapshot(again))


def test_lightly_predictions_round_trip(coco, tmp_path):
    ds, images = coco
    out = tmp_path / "lightly"
    ds.export().to_labelformat(LightlyObjectDetectionOutput(output_folder=out / "predictions"))
    rel = os.path.relpath(images, out / "predictions")
    first = ls.ImageDataset.create("first")
    r = first.add_samples_from_lightly(str(out / "predictions"), images_rel_path=rel, embed=False)
    assert (r.samples_added, r.annotations_added) == (128, 900)
    first.export().to_labelformat(LightlyObjectDetectionOutput(output_folder=tmp_path / "again"))
    again = ls.ImageDataset.create("again")
    again.add_samples_from_lightly(
        str(tmp_path / "again"),
        images_rel_path=os.path.relpath(images, tmp_path / "again"),
        embed=False,
    )
    assert_same(snapshot(first), snapshot(again))


def test_wrong_arguments(db, tmp_path):
    ds = ls.ImageDataset.create("x")
    with pytest.raises(IngestError, match="must be a labelformat ObjectDetectionInput"):
        ds.add_samples_from_labelformat(object(), str(tmp_path), embed=False)
    with pytest.raises(IngestError, match=r"no schema\.json"):
        ds.add_samples_from_lightly(str(tmp_path), embed=False)
    with pytest.raises(ExportError, match="must be a labelformat ObjectDetectionOutput"):
        ds.export().to_labelformat(tmp_path / "x.json")
