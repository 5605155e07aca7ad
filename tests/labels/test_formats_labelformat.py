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


def test_coco_boxes_read_column_wise_equal_labelformats_own_objects(db, examples):
    """labelformat's COCO input is read from its parsed JSON (the fast path); a subclass goes
    through labelformat's get_labels. Both give the same samples and boxes."""

    class ThroughGetLabels(COCOObjectDetectionInput):
        pass

    path = examples / COCO / "instances_train2017.json"
    fast, slow = ls.ImageDataset.create("fast"), ls.ImageDataset.create("slow")
    fast.add_samples_from_labelformat(
        COCOObjectDetectionInput(path), str(examples / COCO / "images"), embed=False
    )
    slow.add_samples_from_labelformat(
        ThroughGetLabels(path), str(examples / COCO / "images"), embed=False
    )
    assert_same(snapshot(slow), snapshot(fast))


def test_coco_boxes_out_through_our_writer_read_back_by_labelformat(coco, tmp_path):
    """to_labelformat(COCOObjectDetectionOutput) is written by our COCO writer: labelformat's
    own input reads it, scores only where a box has one."""
    from labelformat.formats.coco import COCOObjectDetectionOutput

    from lightly_studio.core.annotation import CreateObjectDetection

    ds, images = coco
    sample = next(iter(ds))
    sample.add_annotations(
        [CreateObjectDetection(label="cat", x=1, y=2, width=30, height=40, confidence=0.25)]
    )
    out = tmp_path / "lf.json"
    ds.export().to_labelformat(COCOObjectDetectionOutput(output_file=out))
    labels = list(COCOObjectDetectionInput(out).get_labels())
    confidences = [o.confidence for lab in labels for o in lab.objects]
    assert len(confidences) == 901 and sorted(c for c in confidences if c is not None) == [0.25]
    again = ls.ImageDataset.create("again")
    again.add_samples_from_labelformat(COCOObjectDetectionInput(out), str(images), embed=False)
    before = {
        n: sorted((a[0], a[3], a[4]) for a in s["annotations"]) for n, s in snapshot(ds).items()
    }
    after = {
        n: sorted((a[0], a[3], a[4]) for a in s["annotations"]) for n, s in snapshot(again).items()
    }
    assert after == before
