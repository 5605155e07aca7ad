"""Label issues: planted wrong classes and shifted boxes are found (cleanlab), geometric box
and mask checks need no model, and the scores are stored per annotation."""

from __future__ import annotations

import json
import os

import numpy as np
import polars as pl
import pytest

import lightly_studio as ls
from lightly_studio.core.annotation import CreateClassification, CreateObjectDetection
from lightly_studio.db import get_connection
from lightly_studio.errors import LightlyStudioError
from lightly_studio.quality import LABEL_ISSUE_COUNT
from lightly_studio.query import ImageSampleField
from tests.conftest import make_images

pytest.importorskip("cleanlab")

N, SWAPPED = 200, list(range(3, 200, 20))


def _classified(tmp_path, with_predictions: bool):
    """N images, classes by index parity; the labels of SWAPPED are the wrong class."""
    make_images(tmp_path / "img", {f"{i:03d}.png": (16, 16) for i in range(N)})
    dataset = ls.ImageDataset.create("cls")
    dataset.add_images_from_path(str(tmp_path / "img"), embed=False)
    samples = sorted(dataset, key=lambda s: s.file_name)
    truth = ["cat" if i % 2 else "dog" for i in range(N)]
    for i, sample in enumerate(samples):
        given = truth[i] if i not in SWAPPED else ("dog" if truth[i] == "cat" else "cat")
        creates = [CreateClassification(label=given)]
        if with_predictions:
            creates.append(
                CreateClassification(label=truth[i], confidence=0.9, annotation_source="model")
            )
        sample.add_annotations(creates)
    return dataset, samples, truth


def _no_fork():
    raise AssertionError("compute_label_issues forked a process")


def test_swapped_class_labels_are_found_from_predictions(db, tmp_path, monkeypatch):
    dataset, samples, _ = _classified(tmp_path, with_predictions=True)
    monkeypatch.setattr(os, "fork", _no_fork)  # cleanlab's default forks a pool per call

    found = dataset.compute_label_issues(pred_annotation_source="model")

    flagged = found.filter(pl.col("is_issue") & (pl.col("issue") == "wrong_label"))
    planted = {samples[i].file_name for i in SWAPPED}
    assert set(flagged["file_name"]) == planted
    # Worst first, and the planted ones have the lowest scores.
    assert set(found["file_name"].head(len(SWAPPED))) == planted
    # Queryable: from Python and as sample metadata.
    assert dataset.annotation_issues(flagged_only=True).height == len(SWAPPED)
    with_issue = dataset.match(ImageSampleField.metadata[LABEL_ISSUE_COUNT] > 0)
    assert {s.file_name for s in with_issue} == planted


def test_swapped_class_labels_are_found_from_embeddings_without_predictions(db, tmp_path):
    dataset, samples, truth = _classified(tmp_path, with_predictions=False)
    with pytest.raises(LightlyStudioError, match="compute embeddings"):
        dataset.compute_label_issues()
    rng = np.random.default_rng(1)
    centres = {"cat": rng.normal(size=16), "dog": rng.normal(size=16)}
    vectors = np.stack([centres[t] + 0.3 * rng.normal(size=16) for t in truth]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dataset.add_embeddings("mine", [s.sample_id for s in samples], vectors)

    found = dataset.compute_label_issues()

    flagged = set(found.filter(pl.col("is_issue"))["file_name"])
    planted = {samples[i].file_name for i in SWAPPED}
    assert len(flagged & planted) >= 0.95 * len(planted)
    assert len(flagged - planted) <= 2


def _coco_with_planted_errors(examples, tmp_path):
    """The example COCO boxes with every 10th box's class swapped and every 10th+5 box
    shifted by a third of its width (IoU 0.5 with where it belongs); and the original boxes as predictions (score 0.98: cleanlab takes a box of another class as a
    swap only above 0.95)."""
    source = examples / "coco_subset_128_images"
    data = json.loads((source / "instances_train2017.json").read_text())
    for ann in data["annotations"]:
        ann.pop("segmentation", None)
    predictions = json.loads(json.dumps(data))
    for ann in predictions["annotations"]:
        ann["score"] = 0.98
    images = {im["id"]: im for im in data["images"]}
    categories = [c["id"] for c in data["categories"]]
    swapped, shifted = set(), set()
    usable = [a for a in data["annotations"] if not a["iscrowd"] and a["area"] > 32 * 32]
    for k, ann in enumerate(usable):
        if k % 10 == 0:
            ann["category_id"] = categories[(categories.index(ann["category_id"]) + 7) % 80]
            swapped.add(ann["id"])
        elif k % 10 == 5:
            x, y, w, h = ann["bbox"]
            width = images[ann["image_id"]]["width"]
            if x + w + w / 3 <= width:
                ann["bbox"] = [x + w / 3, y, w, h]
                shifted.add(ann["id"])
            elif x - w / 3 >= 0:
                ann["bbox"] = [x - w / 3, y, w, h]
                shifted.add(ann["id"])
    (tmp_path / "given.json").write_text(json.dumps(data))
    (tmp_path / "pred.json").write_text(json.dumps(predictions))
    return source / "images", swapped, shifted


@pytest.mark.slow
def test_detection_issues_with_predictions_fork_no_process(db, tmp_path, examples, monkeypatch):
    # cleanlab's per-class AP opens a process pool per IoU threshold and never joins it; a
    # forked copy of this process left behind kept the browser driver's pipe open and hung a
    # test run at exit. Label issues run in this process only.
    monkeypatch.setattr(os, "fork", _no_fork)
    images, _, _ = _coco_with_planted_errors(examples, tmp_path)
    dataset = ls.ImageDataset.create("coco")
    dataset.add_samples_from_coco(str(tmp_path / "given.json"), str(images), embed=False)
    dataset.add_annotations_from_coco(
        str(tmp_path / "pred.json"), str(images), annotation_source="model"
    )
    found = dataset.compute_label_issues(pred_annotation_source="model")

    assert {"bad_location", "swapped_label", "overlooked"} <= set(found["issue"])


def test_swapped_classes_and_shifted_boxes_are_found_with_predictions(db, tmp_path, examples):
    images, swapped, shifted = _coco_with_planted_errors(examples, tmp_path)
    dataset = ls.ImageDataset.create("coco")
    dataset.add_samples_from_coco(str(tmp_path / "given.json"), str(images), embed=False)
    dataset.add_annotations_from_coco(
        str(tmp_path / "pred.json"), str(images), annotation_source="model"
    )
    found = dataset.compute_label_issues(pred_annotation_source="model")

    # Map our annotation ids back to the COCO ids by (sample, label, box).
    given = pl.DataFrame(json.loads((tmp_path / "given.json").read_text())["annotations"])
    ours = dataset.annotation_issues()
    assert set(ours["issue"]) >= {"bad_location", "swapped_label", "overlooked", "tiny_box"}
    gt = ours.filter(pl.col("source") == "ground_truth")
    flagged_gt = gt.filter(
        pl.col("is_issue") & pl.col("issue").is_in(["bad_location", "swapped_label"])
    )
    # One flagged annotation per planted error, at least 95 %: compare counts per image.
    stored = _coco_ids_of(dataset, given)
    flagged_ids = {stored[a] for a in flagged_gt["annotation_id"] if a in stored}
    planted = swapped | shifted
    assert len(flagged_ids & planted) >= 0.95 * len(planted)
    # ...and few untouched boxes (measured: 23 of 799 at the 0.5 threshold).
    untouched = set(stored.values()) - planted
    assert len(flagged_ids & untouched) <= 0.05 * len(untouched)
    assert found.height > 0


def _coco_ids_of(dataset, given: pl.DataFrame) -> dict[str, int]:
    """Our annotation id -> COCO annotation id, matched on file, box and insertion order."""
    from lightly_studio.store.annotations import annotations_frame

    ours = annotations_frame(get_connection(), dataset.dataset_id, source="ground_truth")
    sizes = {str(s.sample_id): s.file_name for s in dataset}
    data_images = {}
    for s in dataset:
        data_images[s.file_name] = str(s.sample_id)
    keys = {}
    for row in ours.iter_rows(named=True):
        keys[(sizes[row["sample_id"]], round(row["x"], 2), round(row["y"], 2))] = row[
            "annotation_id"
        ]
    return {
        keys[(f"{int(r['image_id']):012d}.jpg", round(r["bbox"][0], 2), round(r["bbox"][1], 2))]: r[
            "id"
        ]
        for r in given.iter_rows(named=True)
        if (f"{int(r['image_id']):012d}.jpg", round(r["bbox"][0], 2), round(r["bbox"][1], 2))
        in keys
    }


def test_geometric_checks_need_no_predictions(db, tmp_path):
    make_images(tmp_path / "img", {"a.png": (100, 80)})
    dataset = ls.ImageDataset.create("boxes")
    dataset.add_images_from_path(str(tmp_path / "img"), embed=False)
    sample = next(iter(dataset))
    sample.add_annotations(
        [
            CreateObjectDetection(label="car", x=10, y=10, width=40, height=30),
            CreateObjectDetection(label="car", x=11, y=10, width=40, height=30),  # duplicate
            CreateObjectDetection(label="bike", x=10, y=10, width=40, height=30),  # other class
            CreateObjectDetection(label="car", x=70, y=60, width=2, height=3),  # tiny
        ]
    )
    found = dataset.compute_label_issues()
    flagged = found.filter(pl.col("is_issue"))
    by_issue = {
        issue: sorted(zip(rows["label"], rows["score"].round(3), strict=True))
        for issue, rows in flagged.partition_by("issue", as_dict=True, include_key=True).items()
    }
    assert sorted(i[0] for i in by_issue) == ["duplicate_box", "tiny_box"]
    assert [label for label, _ in by_issue[("duplicate_box",)]] == ["car", "car"]
    assert by_issue[("tiny_box",)] == [("car", round(np.sqrt(6) / 4, 3))]
    assert dataset.get_sample(sample.sample_id).metadata[LABEL_ISSUE_COUNT] == 3


def test_detection_scores_equal_cleanlab_s_own_functions():
    # The per-box scores come from matrices built once (vectorised) instead of cleanlab
    # rebuilding them per call; the values must stay cleanlab's.
    from cleanlab.object_detection import rank as od_rank

    from lightly_studio.quality._label_issues import (
        _auxiliary_inputs,
        _image_quality_scores,
        _overlooked_box_scores,
        _swap_box_scores,
    )

    rng = np.random.default_rng(0)
    labels, predictions = [], []
    for image in range(60):
        n = int(rng.integers(0, 6))
        xy = rng.uniform(0, 400, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(5, 200, (n, 2))], 1)
        classes = rng.integers(0, 4, n)
        if image % 10 == 0 and n:
            # The same box twice with another class: cleanlab's overlapping-label rule.
            boxes = np.concatenate([boxes, boxes[:1] + 0.5])
            classes = np.concatenate([classes, (classes[:1] + 1) % 4])
        labels.append({"bboxes": boxes.astype(np.float32), "labels": classes})
        jitter = boxes + rng.normal(0, 8, boxes.shape)
        pred_classes = np.where(rng.random(len(classes)) < 0.8, classes, (classes + 1) % 4)
        with_scores = np.concatenate([jitter, rng.uniform(0.3, 1, (len(jitter), 1))], 1)
        if image % 3 == 0:
            # Confident predictions where no box is given: overlooked objects.
            far = np.array([[700, 700, 760, 750, 0.99], [800, 650, 840, 700, 0.97]])
            with_scores = np.concatenate([with_scores, far])
            pred_classes = np.concatenate([pred_classes, [0, 3]])
        predictions.append([with_scores[pred_classes == c].astype(np.float32) for c in range(4)])
    auxiliary = _auxiliary_inputs(od_rank, labels, predictions)
    ours = {
        "bad_location": od_rank.compute_badloc_box_scores(auxiliary_inputs=auxiliary),
        "swapped_label": _swap_box_scores(od_rank, auxiliary),
        "overlooked": _overlooked_box_scores(od_rank, auxiliary),
    }
    theirs = {
        "bad_location": od_rank.compute_badloc_box_scores(labels=labels, predictions=predictions),
        "swapped_label": od_rank.compute_swap_box_scores(labels=labels, predictions=predictions),
        "overlooked": od_rank.compute_overlooked_box_scores(labels=labels, predictions=predictions),
    }
    for issue in ours:
        for mine, reference in zip(ours[issue], theirs[issue], strict=True):
            np.testing.assert_allclose(mine, reference, atol=1e-6, err_msg=issue)
    assert np.isfinite(np.concatenate(theirs["overlooked"])).sum() >= 3  # overlooked exercised
    swapped = np.concatenate(theirs["swapped_label"])
    assert (swapped < 1e-6).sum() >= 3  # the overlapping boxes were exercised
    np.testing.assert_allclose(
        _image_quality_scores(od_rank, ours),
        od_rank.get_label_quality_scores(labels, predictions, verbose=False),
        atol=1e-6,
    )


def test_without_embeddings_or_predictions_wrong_label_is_skipped_by_name_and_box_checks_run(
    db, tmp_path
):
    make_images(tmp_path / "img", {f"{i}.png": (64, 48) for i in range(3)})
    dataset = ls.ImageDataset.create("mixed")
    dataset.add_images_from_path(str(tmp_path / "img"), embed=False)
    first, second, _ = sorted(dataset, key=lambda s: s.file_name)
    first.add_annotations([CreateClassification(label="cat")])
    second.add_annotations([CreateObjectDetection(label="dog", x=1, y=1, width=2, height=2)])

    with pytest.warns(UserWarning, match=r"wrong_label: skipped.*compute_embeddings"):
        found = dataset.compute_label_issues()

    assert "wrong_label" not in set(found["issue"])
    tiny = found.filter(pl.col("issue") == "tiny_box")
    assert tiny["is_issue"].to_list() == [True]
    assert dataset.match(ImageSampleField.metadata[LABEL_ISSUE_COUNT] > 0).count() == 1
