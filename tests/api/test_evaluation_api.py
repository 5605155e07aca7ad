"""The Evaluation panel's methods: runs, one run's matrix and table, PR curve, sample outcomes,
and the spec's evaluation filter and sort."""

from __future__ import annotations

import json

import pytest

from lightly_studio import api
from lightly_studio.errors import LightlyStudioError
from tests.evaluation.helpers import coco_dataset, perturbed_predictions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def run(db, tmp_path, examples):
    from lightly_studio.evaluation import ObjectDetectionEvaluationConfig

    ds = coco_dataset(examples)
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(perturbed_predictions(examples)))
    ds.add_annotations_from_coco(str(preds), annotation_source="model")
    result = ds.evaluate().object_detection(
        "det", "ground_truth", "model", ObjectDetectionEvaluationConfig(classwise=False)
    )
    return ds, result


def test_runs_and_detail(run):
    ds, result = run
    runs, _ = api.dispatch("evaluation_runs", {"dataset_id": str(ds.dataset_id)})
    assert [r["name"] for r in runs["runs"]] == ["det"]
    assert runs["runs"][0]["summary"]["mAP"] == result.metrics["mAP"]
    detail, _ = api.dispatch("evaluation_detail", {"dataset_id": str(ds.dataset_id), "name": "det"})
    confusion = detail["confusion"]
    k = len(confusion["classes"])
    assert sorted(confusion["classes"]) == result.classes()
    assert len(confusion["counts"]) == k + 1 and all(len(r) == k + 1 for r in confusion["counts"])
    assert (
        sum(map(sum, confusion["counts"]))
        == result.confusion_matrix().drop("ground_truth").sum().sum_horizontal()[0]
    )
    assert sum(confusion["counts"][i][i] for i in range(k)) == result.metrics["tp"]
    assert {c["name"] for c in detail["per_class"]} == set(result.classes())
    assert 0 < len(detail["pr_curve"]["recall"]) <= 200
    with pytest.raises(LightlyStudioError, match="No evaluation run"):
        api.dispatch("evaluation_detail", {"dataset_id": str(ds.dataset_id), "name": "nope"})


def test_cell_and_outcome_filters_and_metric_sort(run):
    ds, result = run
    matches = result.matches()
    off = matches.filter(matches["outcome"] == "mismatch").row(0, named=True)
    spec = {
        "dataset_id": str(ds.dataset_id),
        "evaluation": {"run": "det", "gt": off["gt_label"], "pred": off["pred_label"]},
    }
    counted, _ = api.dispatch("count", {"spec": spec})
    expected = matches.filter(
        (matches["gt_label"] == off["gt_label"]) & (matches["pred_label"] == off["pred_label"])
    )["sample_id"].n_unique()
    assert counted["count"] == expected
    fp_spec = {"dataset_id": str(ds.dataset_id), "evaluation": {"run": "det", "outcome": "fp"}}
    per_sample = result.sample_metrics()
    assert api.dispatch("count", {"spec": fp_spec})[0]["count"] == (per_sample["fp"] > 0).sum()
    page, _ = api.dispatch(
        "samples_page",
        {
            "spec": {
                "dataset_id": str(ds.dataset_id),
                "sort": {"field": "evaluation:det:fn", "desc": True},
            },
            "limit": 5,
        },
    )
    worst = per_sample.sort("fn", descending=True)["fn"][0]
    first = page["rows"][0]["sample_id"]
    assert per_sample.filter(per_sample["sample_id"] == first)["fn"][0] == worst
    outcomes, _ = api.dispatch(
        "evaluation_sample_outcomes",
        {"dataset_id": str(ds.dataset_id), "name": "det", "sample_id": off["sample_id"]},
    )
    assert outcomes["outcomes"][off["pred_annotation_id"]] == "mismatch"
    with pytest.raises(LightlyStudioError, match="outcome must be"):
        api.dispatch(
            "count",
            {
                "spec": {
                    "dataset_id": str(ds.dataset_id),
                    "evaluation": {"run": "det", "outcome": "x"},
                }
            },
        )
