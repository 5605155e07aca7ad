"""The annotator's api: reads, every edit, validation, conflicts, and exact mask round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lightly_studio.api.annotator as api
from lightly_studio.api import METHODS
from lightly_studio.core import rle
from lightly_studio.errors import AnnotationError, QueryError


def _sid(ds, name: str) -> str:
    return str(ds.by_name[name].sample_id)


def _create(ds, name: str, **annotation):
    result, _ = api.annotation_create({"sample_id": _sid(ds, name), "annotation": annotation})
    return result["annotation"]


def _fresh(ds, name: str):
    return ds.get_sample(ds.by_name[name].sample_id)


# --- reads -------------------------------------------------------------------------------------


def test_sample_by_id_has_image_bytes_annotations_versions_captions_labels(ann_ds):
    sample = ann_ds.by_name["a.png"]
    result, buffers = api.annotator_sample(
        {"dataset_id": str(ann_ds.dataset_id), "sample_id": str(sample.sample_id), "image": True}
    )
    with open(sample.file_path_abs, "rb") as f:
        assert buffers == [f.read()]
    assert result["mime"] == "image/png"
    assert result["sample"]["width"] == 40 and result["sample"]["height"] == 30
    [box] = result["annotations"]
    assert box["label"] == "car" and box["box"] == [1, 2, 10, 5] and box["version"] == 1
    assert [c["text"] for c in result["captions"]] == ["a car"]
    assert [lb["name"] for lb in result["labels"]] == ["car", "dog"]
    assert result["sources"] == ["ground_truth", "model"]


def test_sample_by_spec_and_index_steps_through_a_query_and_clamps(ann_ds):
    spec = {"dataset_id": str(ann_ds.dataset_id), "sort": {"field": "file_name", "desc": True}}
    names = [
        api.annotator_sample({"spec": spec, "index": i})[0]["sample"]["file_name"] for i in range(3)
    ]
    assert names == ["c.png", "b.png", "a.png"]
    last, _ = api.annotator_sample({"spec": spec, "index": 99})
    assert (last["index"], last["total"], last["sample"]["file_name"]) == (2, 3, "a.png")
    located, _ = api.annotator_sample({"spec": spec, "sample_id": _sid(ann_ds, "b.png")})
    assert located["index"] == 1
    with pytest.raises(QueryError, match="index"):
        api.annotator_sample({"spec": spec, "index": -1})


# --- boxes -------------------------------------------------------------------------------------


def test_created_box_is_clipped_to_the_image_and_visible_from_python(ann_ds):
    ann = _create(ann_ds, "c.png", type="object_detection", label="cone", box=[-2, 3, 6, 20])
    assert ann["box"] == [0, 3, 4, 5]
    [stored] = _fresh(ann_ds, "c.png").annotations
    assert (stored.label, stored.x, stored.y, stored.width, stored.height) == ("cone", 0, 3, 4, 5)


def test_box_drawn_right_to_left_is_normalised(ann_ds):
    ann = _create(ann_ds, "a.png", type="object_detection", label="car", box=[30, 20, -10, -5])
    assert ann["box"] == [20, 15, 10, 5]


@pytest.mark.parametrize(
    "box, message",
    [
        ([5, 5, 0.5, 3], "degenerate"),
        ([50, 5, 10, 3], "degenerate"),  # entirely right of the 40 px image
        ([1, 1, float("nan"), 3], "finite"),
        ([1, 2, 3], r"\[x, y, width, height\]"),
    ],
)
def test_degenerate_or_malformed_boxes_are_rejected_with_the_sample_named(ann_ds, box, message):
    with pytest.raises(AnnotationError, match=message) as err:
        _create(ann_ds, "a.png", type="object_detection", label="car", box=box)
    assert "a.png" in str(err.value)
    assert len(_fresh(ann_ds, "a.png").annotations) == 1  # nothing written


def test_move_resize_relabel_with_a_new_class_bumps_the_version(ann_ds):
    [box] = api.annotator_sample({"sample_id": _sid(ann_ds, "a.png")})[0]["annotations"]
    moved, _ = api.annotation_update(
        {"annotation_id": box["annotation_id"], "version": 1, "changes": {"box": [5, 6, 30, 40]}}
    )
    assert moved["annotation"]["box"] == [5, 6, 30, 24]  # clipped at the bottom (height 30)
    assert moved["annotation"]["version"] == 2
    relabelled, _ = api.annotation_update(
        {"annotation_id": box["annotation_id"], "version": 2, "changes": {"label": "truck"}}
    )
    assert relabelled["annotation"]["label"] == "truck"
    [stored] = _fresh(ann_ds, "a.png").annotations
    assert (stored.label, stored.x, stored.y, stored.width, stored.height) == (
        "truck",
        5,
        6,
        30,
        24,
    )
    labels, _ = api.labels_list({"dataset_id": str(ann_ds.dataset_id)})
    assert "truck" in [lb["name"] for lb in labels["labels"]]


def test_delete_answers_the_removed_annotation_and_recreating_it_restores_it(ann_ds):
    [box] = api.annotator_sample({"sample_id": _sid(ann_ds, "b.png")})[0]["annotations"]
    result, _ = api.annotation_delete({"annotation_id": box["annotation_id"], "version": 1})
    assert _fresh(ann_ds, "b.png").annotations == []
    gone = result["deleted"]
    again = _create(
        ann_ds,
        "b.png",
        type=gone["type"],
        label=gone["label"],
        box=gone["box"],
        source=gone["source"],
        confidence=gone["confidence"],
    )
    [stored] = _fresh(ann_ds, "b.png").annotations
    assert (stored.source, stored.confidence, stored.label) == ("model", 0.7, "dog")
    assert again["box"] == gone["box"]


# --- concurrency: conflict message -------------------------------------------------------------


def test_an_edit_on_a_version_python_changed_meanwhile_is_refused_and_python_wins(ann_ds):
    [box] = api.annotator_sample({"sample_id": _sid(ann_ds, "a.png")})[0]["annotations"]
    # Python edits while the view still shows version 1.
    [py_ann] = _fresh(ann_ds, "a.png").annotations
    py_ann.set_box(x=3, y=3, width=4, height=4)
    with pytest.raises(
        api.AnnotationConflictError, match=r"changed elsewhere \(version 2.*version 1"
    ):
        api.annotation_update(
            {
                "annotation_id": box["annotation_id"],
                "version": 1,
                "changes": {"box": [0, 0, 20, 20]},
            }
        )
    with pytest.raises(api.AnnotationConflictError):
        api.annotation_delete({"annotation_id": box["annotation_id"], "version": 1})
    [stored] = _fresh(ann_ds, "a.png").annotations
    assert (stored.x, stored.y, stored.width, stored.height) == (3, 3, 4, 4)
    # Reloaded (version 2), the same edit goes through.
    api.annotation_update(
        {"annotation_id": box["annotation_id"], "version": 2, "changes": {"box": [0, 0, 20, 20]}}
    )
    assert _fresh(ann_ds, "a.png").annotations[0].width == 20


def test_editing_an_annotation_python_deleted_says_it_was_deleted(ann_ds):
    [box] = api.annotator_sample({"sample_id": _sid(ann_ds, "a.png")})[0]["annotations"]
    sample = _fresh(ann_ds, "a.png")
    sample.delete_annotation(sample.annotations[0])
    with pytest.raises(AnnotationError, match="was deleted"):
        api.annotation_update(
            {"annotation_id": box["annotation_id"], "version": 1, "changes": {"label": "x"}}
        )


def test_revision_changes_with_edits_from_python_and_from_the_api(ann_ds):
    sid = _sid(ann_ds, "a.png")
    r0 = api.annotator_revision({"sample_id": sid})[0]["revision"]
    _fresh(ann_ds, "a.png").annotations[0].label = "bus"
    r1 = api.annotator_revision({"sample_id": sid})[0]["revision"]
    _fresh(ann_ds, "a.png").add_caption("second")
    r2 = api.annotator_revision({"sample_id": sid})[0]["revision"]
    created = api.annotation_create(
        {"sample_id": sid, "annotation": {"type": "classification", "label": "street"}}
    )[0]
    r3 = api.annotator_revision({"sample_id": sid})[0]["revision"]
    assert len({r0, r1, r2, r3}) == 4
    assert created["revision"] == r3  # a view recognises its own edit


# --- masks -------------------------------------------------------------------------------------


def test_polygon_is_rasterised_like_coco_and_kept_and_exports_back_exactly(ann_ds, tmp_path):
    from lightly_studio.export import DatasetExport

    ring = [4.0, 4.0, 30.0, 5.0, 28.0, 25.0, 6.0, 22.0]
    ann = _create(ann_ds, "a.png", type="instance_segmentation", label="blob", polygon=[ring])
    expected = rle.coco_segmentation_to_mask([ring], 40, 30)
    assert ann["polygon"] == [ring]
    assert np.array_equal(rle.decode(ann["rle"], 40, 30), expected)
    assert ann["box"] == list(map(float, rle.bbox_from_mask(expected)))

    out = DatasetExport(ann_ds).to_coco_instance_segmentations(tmp_path / "coco.json")
    coco = json.loads(out.read_text())
    [seg] = [a for a in coco["annotations"] if a["area"] == int(expected.sum())]
    assert seg["segmentation"] == [ring]
    assert np.array_equal(rle.coco_segmentation_to_mask(seg["segmentation"], 40, 30), expected)


def test_painted_mask_round_trips_exactly_through_the_db_and_coco_rle(ann_ds, tmp_path):
    from lightly_studio.export import DatasetExport

    mask = np.zeros((30, 40), dtype=bool)
    mask[0, 0] = True  # foreground at the very first pixel: RLE starts with 0
    mask[10:20, 5:35] = True
    mask[29, 39] = True  # and at the very last
    runs = rle.encode(mask)
    ann = _create(ann_ds, "a.png", type="semantic_segmentation", label="road", rle=runs)
    assert ann["rle"] == runs and ann["polygon"] is None
    assert ann["box"] == [0.0, 0.0, 40.0, 30.0]
    stored = next(a for a in _fresh(ann_ds, "a.png").annotations if a.label == "road")
    assert stored.segmentation_mask == runs
    assert np.array_equal(stored.to_binary_mask(), mask)

    out = DatasetExport(ann_ds).to_coco_instance_segmentations(tmp_path / "coco.json")
    [seg] = [a for a in json.loads(out.read_text())["annotations"] if a["area"] == mask.sum()]
    assert np.array_equal(rle.coco_segmentation_to_mask(seg["segmentation"], 40, 30), mask)


def test_painting_over_a_polygon_mask_drops_the_polygon_and_moves_the_box(ann_ds):
    ann = _create(
        ann_ds,
        "a.png",
        type="instance_segmentation",
        label="blob",
        polygon=[[2, 2, 10, 2, 10, 10, 2, 10]],
    )
    mask = rle.decode(ann["rle"], 40, 30).copy()
    mask[20:25, 30:35] = True  # brush
    mask[2:4, 2:10] = False  # eraser
    result, _ = api.annotation_update(
        {"annotation_id": ann["annotation_id"], "version": 1, "changes": {"rle": rle.encode(mask)}}
    )
    updated = result["annotation"]
    assert updated["polygon"] is None
    assert np.array_equal(rle.decode(updated["rle"], 40, 30), mask)
    assert updated["box"] == list(map(float, rle.bbox_from_mask(mask)))


def test_editing_polygon_vertices_re_rasterises_the_mask(ann_ds):
    ann = _create(
        ann_ds,
        "a.png",
        type="instance_segmentation",
        label="blob",
        polygon=[[2, 2, 10, 2, 10, 10, 2, 10]],
    )
    ring = [2, 2, 20, 2, 20, 10, 2, 10]
    result, _ = api.annotation_update(
        {"annotation_id": ann["annotation_id"], "version": 1, "changes": {"polygon": [ring]}}
    )
    assert np.array_equal(
        rle.decode(result["annotation"]["rle"], 40, 30),
        rle.coco_segmentation_to_mask([ring], 40, 30),
    )


@pytest.mark.parametrize(
    "annotation, message",
    [
        ({"polygon": [[1, 1, 5, 5]]}, "needs at least 3"),
        ({"polygon": [[1, 1, 5, 5, 9, 9]]}, "area"),  # collinear
        ({"rle": [1200]}, "no foreground"),  # empty mask
        ({"rle": [10, 5]}, "sum to"),  # not the whole image
        ({}, "polygon or a mask"),
    ],
)
def test_degenerate_masks_are_rejected(ann_ds, annotation, message):
    with pytest.raises(AnnotationError, match=message):
        _create(ann_ds, "a.png", type="instance_segmentation", label="blob", **annotation)


# --- predictions, classifications, captions, labels ----------------------------------------------


def test_accepting_a_prediction_copies_it_into_ground_truth(ann_ds):
    [pred] = api.annotator_sample({"sample_id": _sid(ann_ds, "b.png")})[0]["annotations"]
    result, _ = api.annotation_accept({"annotation_id": pred["annotation_id"]})
    gt = result["annotation"]
    assert (gt["source"], gt["confidence"], gt["label"], gt["box"]) == (
        "ground_truth",
        None,
        "dog",
        pred["box"],
    )
    assert sorted(a.source for a in _fresh(ann_ds, "b.png").annotations) == [
        "ground_truth",
        "model",
    ]
    with pytest.raises(AnnotationError, match="ground truth already"):
        api.annotation_accept({"annotation_id": gt["annotation_id"]})


def test_classification_is_added_once_and_rejects_geometry(ann_ds):
    sid = _sid(ann_ds, "c.png")
    first, _ = api.classification_add({"sample_id": sid, "label": "indoor"})
    second, _ = api.classification_add({"sample_id": sid, "label": "indoor"})
    assert first["created"] and not second["created"]
    assert first["annotation"]["annotation_id"] == second["annotation"]["annotation_id"]
    [stored] = _fresh(ann_ds, "c.png").annotations
    assert stored.label == "indoor" and type(stored).__name__ == "ClassificationAnnotation"
    with pytest.raises(AnnotationError, match="no box"):
        _create(ann_ds, "c.png", type="classification", label="x", box=[0, 0, 2, 2])
    with pytest.raises(AnnotationError, match="type must be one of"):
        _create(ann_ds, "c.png", type="keypoint", label="x")


def test_captions_add_edit_delete_and_restore_in_place(ann_ds):
    sid = _sid(ann_ds, "a.png")
    added, _ = api.caption_add({"sample_id": sid, "text": "second"})
    cid = added["caption"]["caption_id"]
    edited, _ = api.caption_update({"caption_id": cid, "text": "2nd"})
    assert edited["old_text"] == "second"
    assert _fresh(ann_ds, "a.png").captions == ["a car", "2nd"]
    first_id = api.annotator_sample({"sample_id": sid})[0]["captions"][0]["caption_id"]
    deleted, _ = api.caption_delete({"caption_id": first_id})
    assert _fresh(ann_ds, "a.png").captions == ["2nd"]
    api.caption_add({"sample_id": sid, **deleted["deleted"]})  # undo: same id and position
    assert _fresh(ann_ds, "a.png").captions == ["a car", "2nd"]


def test_label_create_is_idempotent_and_validated(ann_ds):
    dsid = str(ann_ds.dataset_id)
    a, _ = api.label_create({"dataset_id": dsid, "name": "bicycle"})
    b, _ = api.label_create({"dataset_id": dsid, "name": "bicycle"})
    assert a["label_id"] == b["label_id"]
    assert [lb["name"] for lb in a["labels"]] == ["car", "dog", "bicycle"]
    with pytest.raises(AnnotationError, match="non-empty"):
        api.label_create({"dataset_id": dsid, "name": "  "})


def test_every_method_is_in_the_table_and_returns_result_and_buffers(ann_ds):
    assert set(METHODS) >= {
        "annotator_sample",
        "annotation_create",
        "annotation_update",
        "annotation_delete",
        "annotation_accept",
        "classification_add",
        "caption_add",
        "caption_update",
        "caption_delete",
        "labels_list",
        "label_create",
        "annotator_revision",
    }
    result, buffers = METHODS["labels_list"]({"dataset_id": str(ann_ds.dataset_id)})
    assert isinstance(buffers, list) and "labels" in result
