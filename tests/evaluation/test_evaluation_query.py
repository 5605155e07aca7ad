"""The query DSL over stored runs: per-sample metrics, confusion cells, FP/FN, sorting."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lightly_studio.core.dataset_query import (
    AND,
    AnnotationEvaluationMetricField,
    AnnotationMetricQuery,
    EvaluationMetricField,
    ImageSampleField,
    OrderByEvaluationMetricField,
    SampleEvaluationQuery,
)
from lightly_studio.errors import QueryError
from lightly_studio.evaluation import ObjectDetectionEvaluationConfig
from tests.evaluation.helpers import coco_dataset, perturbed_predictions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def evaluated(db, tmp_path, examples):
    ds = coco_dataset(examples)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(perturbed_predictions(examples)))
    ds.add_annotations_from_coco(str(preds), annotation_source="model")
    result = ds.evaluate().object_detection(
        "det", "ground_truth", "model", ObjectDetectionEvaluationConfig(classwise=False)
    )
    return ds, result


def _ids(query) -> set[str]:
    return {str(i) for i in query.sample_ids()}


def test_samples_by_per_sample_metric(evaluated):
    ds, result = evaluated
    rows = result.sample_metrics()
    expected = set(rows.filter(pl.col("fp") > 0)["sample_id"])
    assert _ids(ds.match(SampleEvaluationQuery("det", EvaluationMetricField("fp") > 0))) == expected
    both = rows.filter((pl.col("fn") >= 2) & (pl.col("recall") < 0.9))["sample_id"]
    query = ds.match(
        SampleEvaluationQuery(
            "det", EvaluationMetricField("fn") >= 2, EvaluationMetricField("recall") < 0.9
        )
    )
    assert _ids(query) == set(both) and 0 < len(both) < 128
    # composes with other fields
    wide = ds.match(
        AND(
            SampleEvaluationQuery("det", EvaluationMetricField("fp") > 0),
            ImageSampleField.width > 500,
        )
    )
    assert _ids(wide) <= expected
    assert (
        ds.match(SampleEvaluationQuery("other-run", EvaluationMetricField("fp") > 0)).count() == 0
    )


def test_confusion_cells_false_positives_and_negatives(evaluated):
    ds, result = evaluated
    matches = result.matches()

    def samples_where(expr) -> set[str]:
        # crowd regions and what they absorbed are in no cell, as in the confusion matrix
        return set(matches.filter(expr & (pl.col("outcome") != "ignored"))["sample_id"])

    cm = result.confusion_matrix()
    assert _ids(
        ds.match(AnnotationMetricQuery.confusion("det", "person", "person"))
    ) == samples_where((pl.col("gt_label") == "person") & (pl.col("pred_label") == "person"))
    # an off-diagonal cell exists and filters to its samples
    off = matches.filter(pl.col("outcome") == "mismatch").row(0, named=True)
    cell = AnnotationMetricQuery.confusion("det", off["gt_label"], off["pred_label"])
    assert off["sample_id"] in _ids(ds.match(cell))
    assert int(cm.filter(pl.col("ground_truth") == off["gt_label"])[off["pred_label"]][0]) >= 1
    # background row / column
    fp_person = samples_where((pl.col("outcome") == "fp") & (pl.col("pred_label") == "person"))
    assert _ids(ds.match(AnnotationMetricQuery.confusion("det", None, "person"))) == fp_person
    fn_any = samples_where(pl.col("outcome").is_in(["fn", "mismatch"]))
    assert _ids(ds.match(AnnotationMetricQuery.false_negative("det"))) == fn_any
    fp_person_all = samples_where(
        pl.col("outcome").is_in(["fp", "mismatch"]) & (pl.col("pred_label") == "person")
    )
    assert _ids(ds.match(AnnotationMetricQuery.false_positive("det", "person"))) == fp_person_all
    tight = AnnotationMetricQuery.confusion(
        "det", "person", "person", AnnotationEvaluationMetricField("iou") > 0.9
    )
    assert _ids(ds.match(tight)) == samples_where(
        (pl.col("gt_label") == "person")
        & (pl.col("pred_label") == "person")
        & (pl.col("iou") > 0.9)
    )


def test_order_by_a_run_metric_and_to_polars(evaluated):
    ds, result = evaluated
    ordered = ds.query().order_by(OrderByEvaluationMetricField("det", "fn").desc())
    frame = ordered.to_polars(evaluation_run="det")
    assert frame.height == 128
    assert frame["fn"].to_list() == sorted(frame["fn"].to_list(), reverse=True)
    rows = result.sample_metrics().sort("sample_id")
    joined = frame.select("sample_id", "tp", "fp", "fn").sort("sample_id")
    assert joined["tp"].to_list() == rows["tp"].to_list()
    with pytest.raises(QueryError, match="Unknown evaluation metric"):
        EvaluationMetricField("mAP")
    with pytest.raises(QueryError, match="No evaluation run"):
        ds.query().to_polars(evaluation_run="nope")
