"""dataset.evaluate(): COCO metrics equal to pycocotools, stored runs, matches, bad input."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

import lightly_studio as ls
from lightly_studio.core.annotation import CreateClassification
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.db import get_connection
from lightly_studio.errors import EvaluationError
from lightly_studio.evaluation import ObjectDetectionEvaluationConfig
from tests.evaluation.helpers import coco_dataset, cocoeval_stats, perturbed_predictions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools, numpy 2

STATS = (
    "mAP",
    "mAP50",
    "mAP75",
    "mAP_small",
    "mAP_medium",
    "mAP_large",
    "mAR1",
    "mAR10",
    "mAR100",
    "mAR_small",
    "mAR_medium",
    "mAR_large",
)


def _with_predictions(tmp_path, examples, masks=False, seed=0):
    ds = coco_dataset(examples, masks=masks)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(perturbed_predictions(examples, seed=seed, masks=masks)))
    kwargs = {"annotation_type": ls.AnnotationType.INSTANCE_SEGMENTATION} if masks else {}
    ds.add_annotations_from_coco(str(preds), annotation_source="model", **kwargs)
    return ds


def _row_counts() -> tuple[int, int, int]:
    con = get_connection()
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("evaluation_run", "evaluation_sample", "evaluation_match")
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_detection_metrics_equal_cocoeval(db, tmp_path, examples, seed):
    ds = _with_predictions(tmp_path, examples, seed=seed)
    result = ds.evaluate().object_detection("det", "ground_truth", "model")
    expected = cocoeval_stats(ds, ds.query(), "ground_truth", "model", "bbox")
    ours = np.array([result.metrics[k] if result.metrics[k] is not None else -1 for k in STATS])
    np.testing.assert_allclose(ours, expected, atol=1e-6, rtol=0)
    assert 0.2 < result.metrics["mAP"] < 0.9  # the perturbation leaves a real but imperfect model
    assert result.sample_count == 128 and result.gt_annotation_count == 900


def test_detection_metrics_on_a_query_equal_cocoeval(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples, seed=2)
    query = ds.match(ImageSampleField.width > 500)
    result = ds.evaluate(query).object_detection("wide", "ground_truth", "model")
    expected = cocoeval_stats(ds, query, "ground_truth", "model", "bbox")
    assert result.sample_count == query.count() < 128
    np.testing.assert_allclose(result.metrics["mAP"], expected[0], atol=1e-6)
    np.testing.assert_allclose(result.metrics["mAR100"], expected[8], atol=1e-6)


def test_instance_segmentation_metrics_equal_cocoeval(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples, masks=True)
    result = ds.evaluate().instance_segmentation("seg", "ground_truth", "model")
    expected = cocoeval_stats(ds, ds.query(), "ground_truth", "model", "segm")
    ours = np.array([result.metrics[k] if result.metrics[k] is not None else -1 for k in STATS])
    np.testing.assert_allclose(ours, expected, atol=1e-6, rtol=0)


def test_counts_matches_and_per_sample_rows_agree(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples)
    result = ds.evaluate().object_detection("det", "ground_truth", "model")
    matches = result.matches()
    per_sample = result.sample_metrics()
    m = result.metrics
    assert per_sample.height == 128
    assert per_sample["tp"].sum() == m["tp"] == (matches["outcome"] == "tp").sum()
    assert per_sample["fp"].sum() == m["fp"] == (matches["outcome"] == "fp").sum()
    assert per_sample["fn"].sum() == m["fn"] == (matches["outcome"] == "fn").sum()
    # every prediction and every ground truth appears exactly once
    assert matches["pred_annotation_id"].drop_nulls().n_unique() == result.pred_annotation_count
    assert matches["gt_annotation_id"].drop_nulls().n_unique() == result.gt_annotation_count
    assert (matches.filter(pl.col("outcome") == "tp")["iou"] >= 0.5).all()
    assert m["precision"] == pytest.approx(m["tp"] / (m["tp"] + m["fp"]))
    assert m["recall"] == pytest.approx(m["tp"] / (m["tp"] + m["fn"]))
    # the confusion matrix: classwise matching puts every match on the diagonal
    cm = result.confusion_matrix()
    assert cm["ground_truth"][-1] == "(no ground truth)" and cm.columns[-1] == "(no prediction)"
    classes = result.classes()
    diag = sum(cm.filter(pl.col("ground_truth") == c)[c][0] for c in classes)
    assert diag == m["tp"]
    assert cm["(no prediction)"].sum() == m["fn"]
    assert (
        cm.filter(pl.col("ground_truth") == "(no ground truth)").select(classes).sum_horizontal()[0]
        == m["fp"]
    )
    # a per-class report and PR curve
    assert "person" in result.report()
    curve = result.pr_curve("person")
    scored = matches.filter((pl.col("pred_label") == "person") & (pl.col("outcome") != "ignored"))
    assert curve.height == scored.height > 100  # predictions absorbed by a crowd are left out
    assert curve["recall"].is_sorted() and curve["recall"][-1] == pytest.approx(
        m["per_class"]["person"]["recall"]
    )


def test_class_agnostic_matching_fills_the_off_diagonal(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples)
    strict = ds.evaluate().object_detection("strict", "ground_truth", "model")
    loose = ds.evaluate().object_detection(
        "loose", "ground_truth", "model", ObjectDetectionEvaluationConfig(classwise=False)
    )
    mismatches = (loose.matches()["outcome"] == "mismatch").sum()
    assert mismatches > 0
    assert loose.metrics["mAP"] == strict.metrics["mAP"]  # COCO mAP is always per class
    cm = loose.confusion_matrix()
    off = sum(
        int(cm.filter(pl.col("ground_truth") == g)[p][0])
        for g in loose.classes()
        for p in loose.classes()
        if g != p
    )
    assert off == mismatches


def test_rerunning_a_name_replaces_the_run(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples)
    first = ds.evaluate().object_detection("det", "ground_truth", "model")
    counts = _row_counts()
    ds.evaluate().object_detection("det", "ground_truth", "model")
    assert _row_counts() == counts  # replaced, not added
    second = ds.evaluate().object_detection(
        "det", "ground_truth", "model", ObjectDetectionEvaluationConfig(iou_threshold=0.75)
    )
    assert _row_counts()[:2] == (1, 128)
    assert first.evaluation_run_id != second.evaluation_run_id
    assert [r.name for r in ds.evaluation_runs()] == ["det"]
    assert ds.evaluation_run("det").metrics["iou_threshold"] == 0.75
    assert ds.delete_evaluation_run("det") and _row_counts() == (0, 0, 0)


def test_bad_input_is_refused_and_leaves_nothing(db, tmp_path, examples):
    ds = _with_predictions(tmp_path, examples)
    with pytest.raises(EvaluationError, match="Unknown prediction annotation source 'nope'"):
        ds.evaluate().object_detection("x", "ground_truth", "nope")
    ds.evaluate().object_detection("det", "ground_truth", "model")
    before = _row_counts()
    with pytest.raises(EvaluationError, match="object_detection run"):
        ds.evaluate().classification("det", "ground_truth", "model")
    with pytest.raises(EvaluationError, match="same source"):
        ds.evaluate().object_detection("y", "model", "model")
    assert _row_counts() == before


def _classification_dataset(tmp_path):
    from tests.labels.helpers import image_dataset_with

    rng = np.random.default_rng(3)
    ds, _ = image_dataset_with(tmp_path, {f"{i}.png": (8, 8) for i in range(40)})
    classes = ["cat", "dog", "bird"]
    gt_labels, pred_labels = {}, {}
    for sample in ds:
        gt = str(rng.choice(classes))
        gt_labels[sample.sample_id] = gt
        sample.add_annotation(CreateClassification(label=gt))
        if rng.random() < 0.9:
            pred = gt if rng.random() < 0.7 else str(rng.choice(classes))
            pred_labels[sample.sample_id] = pred
            sample.add_annotation(
                CreateClassification(
                    label=pred, confidence=float(rng.random()), annotation_source="model"
                )
            )
    return ds, gt_labels, pred_labels, classes


def test_classification_metrics_equal_numpy(db, tmp_path):
    ds, gt_labels, pred_labels, classes = _classification_dataset(tmp_path)
    result = ds.evaluate().classification("cls", "ground_truth", "model")
    ids = list(gt_labels)
    gt = np.array([gt_labels[i] for i in ids])
    pred = np.array([pred_labels.get(i, "") for i in ids])
    m = result.metrics
    assert m["accuracy"] == pytest.approx(np.mean(gt == pred))
    precisions, recalls, f1s = [], [], []
    for c in classes:
        tp = np.sum((gt == c) & (pred == c))
        p = tp / max(np.sum(pred == c), 1)
        r = tp / max(np.sum(gt == c), 1)
        precisions.append(p)
        recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    assert m["macro_precision"] == pytest.approx(np.mean(precisions))
    assert m["macro_recall"] == pytest.approx(np.mean(recalls))
    assert m["macro_f1"] == pytest.approx(np.mean(f1s))
    tp_all = np.sum(gt == pred)
    assert m["micro_precision"] == pytest.approx(tp_all / np.sum(pred != ""))
    assert m["micro_recall"] == pytest.approx(tp_all / len(gt))
    cm = result.confusion_matrix()
    for g in classes:
        for p in classes:
            assert cm.filter(pl.col("ground_truth") == g)[p][0] == np.sum((gt == g) & (pred == p))
    assert cm["(no prediction)"].sum() == np.sum(pred == "")


def test_several_classifications_per_sample_are_refused(db, tmp_path):
    ds, *_ = _classification_dataset(tmp_path)
    sample = next(iter(ds))
    sample.add_annotation(
        CreateClassification(label="cat", confidence=0.5, annotation_source="model")
    )
    sample.add_annotation(
        CreateClassification(label="dog", confidence=0.5, annotation_source="model")
    )
    with pytest.raises(EvaluationError, match=f"Sample {sample.sample_id} has"):
        ds.evaluate().classification("cls", "ground_truth", "model")
    assert _row_counts() == (0, 0, 0)


def test_semantic_segmentation_miou_over_classes_in_either_mask(db, tmp_path):
    from lightly_studio.core.annotation import CreateSemanticSegmentation
    from tests.labels.helpers import image_dataset_with

    rng = np.random.default_rng(5)
    ds, _ = image_dataset_with(tmp_path, {f"{i}.png": (12, 10) for i in range(6)})
    expected_sample, inter, union = {}, {}, {}
    for sample in ds:
        gt_map = rng.integers(0, 3, size=(10, 12))  # classes 0 (sky), 1 (road), 2 (car)
        pred_map = np.where(rng.random((10, 12)) < 0.8, gt_map, rng.integers(0, 4, (10, 12)))
        ious = []
        for c, name in enumerate(["sky", "road", "car", "tree"]):
            g, p = gt_map == c, pred_map == c
            for mask, source in ((g, "ground_truth"), (p, "model")):
                if mask.any():
                    sample.add_annotation(
                        CreateSemanticSegmentation.from_binary_mask(
                            name,
                            mask,
                            annotation_source=source,
                            confidence=None if source == "ground_truth" else 0.9,
                        )
                    )
            if g.any() or p.any():
                ious.append((g & p).sum() / (g | p).sum())
                inter[name] = inter.get(name, 0) + (g & p).sum()
                union[name] = union.get(name, 0) + (g | p).sum()
        expected_sample[str(sample.sample_id)] = np.mean(ious)
    result = ds.evaluate().semantic_segmentation("sem", "ground_truth", "model")
    rows = result.sample_metrics()
    for sample_id, miou in rows.select("sample_id", "miou").iter_rows():
        assert miou == pytest.approx(expected_sample[sample_id])
    assert result.metrics["mIoU"] == pytest.approx(np.mean([inter[c] / union[c] for c in inter]))
    assert result.metrics["per_class"]["tree"]["iou"] == 0.0  # predicted only
