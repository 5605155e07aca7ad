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


def test_outcomes_of_a_page_give_each_annotation_its_outcome_and_cell(run):
    ds, result = run
    matches = result.matches()
    off = matches.filter(matches["outcome"] == "mismatch").row(0, named=True)
    tp = matches.filter(matches["outcome"] == "tp").row(0, named=True)
    unjudged = str(ds.query().to_polars()["sample_id"][0])
    sample_ids = sorted({off["sample_id"], tp["sample_id"], unjudged})
    reply, _ = api.dispatch(
        "evaluation_outcomes",
        {"dataset_id": str(ds.dataset_id), "name": "det", "sample_ids": sample_ids},
    )
    samples = reply["samples"]
    assert set(samples) == set(sample_ids)  # every asked sample answers, judged or not
    # A pair matched across classes: the ground truth is missed (FN), the prediction wrong (FP);
    # both sit in the same off-diagonal cell.
    cell = {"gt": off["gt_label"], "pred": off["pred_label"]}
    assert samples[off["sample_id"]][off["gt_annotation_id"]] == {"outcome": "fn", **cell}
    assert samples[off["sample_id"]][off["pred_annotation_id"]] == {"outcome": "fp", **cell}
    assert samples[tp["sample_id"]][tp["pred_annotation_id"]]["outcome"] == "tp"
    # Every judged annotation of the sample is listed, no other.
    of_tp_sample = matches.filter(matches["sample_id"] == tp["sample_id"])
    judged = set(of_tp_sample["gt_annotation_id"].drop_nulls()) | set(
        of_tp_sample["pred_annotation_id"].drop_nulls()
    )
    assert set(samples[tp["sample_id"]]) == judged
    with pytest.raises(LightlyStudioError, match="at most 1000"):
        api.dispatch(
            "evaluation_outcomes",
            {"dataset_id": str(ds.dataset_id), "name": "det", "sample_ids": [unjudged] * 1001},
        )


def test_sources_offer_each_task_only_the_sources_with_its_annotations(run):
    ds, _ = run
    reply, _ = api.dispatch("evaluation_sources", {"dataset_id": str(ds.dataset_id)})
    names = {s["name"]: s["types"] for s in reply["sources"]}
    assert set(names) == {"ground_truth", "model"}
    assert names["model"]["object_detection"] > 0
    assert reply["tasks"]["object_detection"] == ["ground_truth", "model"]
    assert reply["tasks"]["classification"] == []
    assert reply["tasks"]["semantic_segmentation"] == []


def test_create_runs_and_stores_an_evaluation_and_reports_bad_input(run):
    ds, _ = run
    params = {
        "dataset_id": str(ds.dataset_id),
        "task": "object_detection",
        "name": "strict",
        "gt_source": "ground_truth",
        "pred_source": "model",
        "iou_threshold": 0.75,
        "classwise": True,
    }
    reply, _ = api.dispatch("evaluation_create", params)
    assert reply["run"]["name"] == "strict"
    assert reply["run"]["config"] == {"iou_threshold": 0.75, "classwise": True}
    stored = {r.name: r for r in ds.evaluation_runs()}
    assert stored["strict"].metrics["tp"] == reply["run"]["summary"]["tp"]
    # A name of a run of another task: the EvaluationError's message, nothing stored.
    with pytest.raises(LightlyStudioError, match="'det' is a object_detection run"):
        api.dispatch(
            "evaluation_create", {**params, "name": "det", "task": "instance_segmentation"}
        )
    with pytest.raises(LightlyStudioError, match="Unknown prediction annotation source 'nope'"):
        api.dispatch("evaluation_create", {**params, "name": "x", "pred_source": "nope"})
    with pytest.raises(LightlyStudioError, match=r"iou_threshold must be a number in \(0, 1\]"):
        api.dispatch("evaluation_create", {**params, "name": "x", "iou_threshold": 1.5})
    assert {r.name for r in ds.evaluation_runs()} == {"det", "strict"}
