"""The Evaluation panel's data: stored runs, one run's summary, confusion matrix, per-class
table and PR curve, the outcome (TP / FP / FN) of each annotation of a sample or of a page of
samples (the views colour boxes by it), and the "New evaluation" dialog's sources and run.

The grid filters by a cell or an outcome through the spec key ``evaluation`` and sorts by a
per-sample metric with ``sort.field = "evaluation:<run>:<metric>"`` (``api/_spec.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, optional_text, show, uuid_param
from lightly_studio.db import get_connection
from lightly_studio.errors import EvaluationError, QueryError
from lightly_studio.evaluation import (
    ClassificationEvaluationConfig,
    EvaluationResult,
    InstanceSegmentationEvaluationConfig,
    ObjectDetectionEvaluationConfig,
    SemanticSegmentationEvaluationConfig,
)
from lightly_studio.evaluation.evaluate import BACKGROUND_COLUMN, BACKGROUND_ROW
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import evaluations as evaluations_store

SUMMARY_KEYS = (
    "mAP",
    "mAP50",
    "mAP75",
    "mAR100",
    "precision",
    "recall",
    "f1",
    "tp",
    "fp",
    "fn",
    "iou_threshold",
    "accuracy",
    "macro_f1",
    "micro_f1",
    "mIoU",
)
PR_POINTS = 200  # a PR curve is sent with at most this many points
MAX_OUTCOME_SAMPLES = 1000  # samples per evaluation_outcomes call (a grid page is 120)
# The task of a run and the annotation type both its sources must have.
TASKS = ("object_detection", "instance_segmentation", "classification", "semantic_segmentation")


def _run_summary(run: EvaluationResult) -> dict[str, Any]:
    return {
        "run_id": run.evaluation_run_id,
        "name": run.name,
        "task": run.task,
        "gt_source": run.gt_annotation_source,
        "pred_source": run.pred_annotation_source,
        "sample_count": run.sample_count,
        "gt_annotation_count": run.gt_annotation_count,
        "pred_annotation_count": run.pred_annotation_count,
        "config": run.config,
        "summary": {k: run.metrics[k] for k in SUMMARY_KEYS if k in run.metrics},
    }


def _run(params: dict) -> EvaluationResult:
    dataset = dataset_of(params.get("dataset_id"))
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise QueryError(f"name must be the name of an evaluation run, got {show(name)}.")
    return dataset.evaluation_run(name)


@method("evaluation_runs", c.DatasetIdParams, c.EvaluationRunsResult)
def evaluation_runs(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    return {"runs": [_run_summary(r) for r in dataset.evaluation_runs()]}, []


def confusion_payload(run: EvaluationResult) -> dict[str, Any]:
    """The matrix as JSON: classes ordered by how often they are confused (off-diagonal, FP
    and FN counts, most first), then by name; the background row and column last."""
    matrix = run.confusion_matrix()
    classes = [c for c in matrix.columns[1:-1]]
    counts = matrix.select(pl.exclude("ground_truth")).to_numpy().astype(np.int64)
    k = len(classes)
    confused = counts[:k, :].sum(axis=1) + counts[:, :k].sum(axis=0) - 2 * np.diag(counts[:k, :k])
    total = counts[:k, :].sum(axis=1) + counts[:, :k].sum(axis=0)
    order = sorted(range(k), key=lambda i: (-int(confused[i]), -int(total[i]), classes[i]))
    rows = [*order, k]
    return {
        "classes": [classes[i] for i in order],
        "row_background": BACKGROUND_ROW,
        "column_background": BACKGROUND_COLUMN,
        "counts": counts[np.ix_(rows, rows)].tolist(),
    }


def _downsample(curve: pl.DataFrame) -> dict[str, list]:
    if curve.height > PR_POINTS:
        picks = np.unique(np.linspace(0, curve.height - 1, PR_POINTS).round().astype(int))
        curve = curve[picks.tolist()]
    return {
        "recall": curve["recall"].to_list(),
        "precision": curve["precision"].to_list(),
        "confidence": curve["confidence"].to_list(),
    }


@method("evaluation_detail", c.EvaluationRunParams, c.EvaluationDetailResult)
def evaluation_detail(params: dict) -> tuple[Any, list[bytes]]:
    run = _run(params)
    per_class = [
        {"name": name, **values}
        for name, values in sorted(run.metrics.get("per_class", {}).items())
    ]
    reply: dict[str, Any] = {
        "run": _run_summary(run),
        "confusion": confusion_payload(run),
        "per_class": per_class,
    }
    if run.task != "semantic_segmentation":
        reply["pr_curve"] = _downsample(run.pr_curve())
    return reply, []


@method("evaluation_pr_curve", c.EvaluationPrCurveParams, c.EvaluationPrCurveResult)
def evaluation_pr_curve(params: dict) -> tuple[Any, list[bytes]]:
    run = _run(params)
    class_name = optional_text(params.get("class_name"), "class_name")
    return _downsample(run.pr_curve(class_name)), []


@method("evaluation_sample_outcomes", c.EvaluationSampleParams, c.EvaluationSampleResult)
def evaluation_sample_outcomes(params: dict) -> tuple[Any, list[bytes]]:
    """Each annotation of the sample that the run judged, with its outcome: ``tp``, ``fp``,
    ``fn``, ``mismatch`` (matched to another class: an FP and an FN) or ``ignored``."""
    run = _run(params)
    sample_id = uuid_param(params.get("sample_id"), "sample", "sample_id")
    rows = evaluations_store.match_rows(get_connection(), run.evaluation_run_id, str(sample_id))
    outcomes: dict[str, str] = {}
    for gt_id, pred_id, outcome in rows.select(
        "gt_annotation_id", "pred_annotation_id", "outcome"
    ).iter_rows():
        for annotation_id in (gt_id, pred_id):
            if annotation_id is not None:
                outcomes[annotation_id] = outcome
    return {"outcomes": outcomes, "matches": rows.drop("sample_id").to_dicts()}, []


def _annotation_outcome(outcome: str, side: str) -> str:
    """What one annotation of a match row is: a ``mismatch`` pair (matched to another class)
    is an FN on the ground-truth side and an FP on the prediction side."""
    if outcome == "mismatch":
        return "fn" if side == "gt" else "fp"
    return outcome


@method("evaluation_outcomes", c.EvaluationOutcomesParams, c.EvaluationOutcomesResult)
def evaluation_outcomes(params: dict) -> tuple[Any, list[bytes]]:
    """For each of ``sample_ids``: its judged annotations, each with its outcome (``tp``,
    ``fp``, ``fn`` or ``ignored``) and its confusion-matrix cell (``gt`` and ``pred`` label,
    null for the background). The grid asks once per page of rows; every asked sample is in
    the reply, with no annotations when the run did not judge it."""
    run = _run(params)
    raw = params.get("sample_ids")
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise QueryError(f"sample_ids must be a list of sample ids, got {show(raw)}.")
    if len(raw) > MAX_OUTCOME_SAMPLES:
        raise QueryError(
            f"sample_ids lists {len(raw)} samples; ask for at most {MAX_OUTCOME_SAMPLES} a call."
        )
    sample_ids = [str(uuid_param(i, "sample", "sample_ids")) for i in raw]
    rows = evaluations_store.match_rows(
        get_connection(), run.evaluation_run_id, sample_ids=sample_ids
    )
    samples: dict[str, dict[str, dict[str, Any]]] = {i: {} for i in sample_ids}
    for sample_id, gt_id, pred_id, gt_label, pred_label, outcome in rows.select(
        "sample_id", "gt_annotation_id", "pred_annotation_id", "gt_label", "pred_label", "outcome"
    ).iter_rows():
        for side, annotation_id in (("gt", gt_id), ("pred", pred_id)):
            if annotation_id is not None:
                samples[sample_id][annotation_id] = {
                    "outcome": _annotation_outcome(outcome, side),
                    "gt": gt_label,
                    "pred": pred_label,
                }
    return {"samples": samples}, []


@method("evaluation_sources", c.DatasetIdParams, c.EvaluationSourcesResult)
def evaluation_sources(params: dict) -> tuple[Any, list[bytes]]:
    """The dataset's annotation sources, each with its count per annotation type, and for
    each task the sources that have its annotation type (what the dialog offers)."""
    dataset = dataset_of(params.get("dataset_id"))
    counts = annotations_store.source_type_counts(get_connection(), dataset.dataset_id)
    sources: dict[str, dict[str, int]] = {}
    for source, kind, n in counts:
        sources.setdefault(source, {})[kind] = n
    tasks = {
        task: [source for source, types in sources.items() if types.get(task, 0) > 0]
        for task in TASKS
    }
    return {
        "sources": [{"name": name, "types": types} for name, types in sources.items()],
        "tasks": tasks,
    }, []


def _iou_threshold(value: Any) -> float:
    if value is None:
        return 0.5
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise QueryError(f"iou_threshold must be a number in (0, 1], got {show(value)}.")
    return float(value)


@method("evaluation_create", c.EvaluationCreateParams, c.EvaluationCreateResult)
def evaluation_create(params: dict) -> tuple[Any, list[bytes]]:
    """Run and store an evaluation of the whole dataset (the "New evaluation" dialog), as
    ``dataset.evaluate().<task>(name, gt_source, pred_source, config)``. Bad input, such as a
    name that belongs to a run of another task, fails with the EvaluationError's message."""
    dataset = dataset_of(params.get("dataset_id"))
    task = params.get("task")
    if task not in TASKS:
        raise EvaluationError(f"task must be one of {', '.join(TASKS)}; got {show(task)}.")
    name = params.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EvaluationError(f"An evaluation run needs a non-empty name, got {show(name)}.")
    gt_source, pred_source = params.get("gt_source"), params.get("pred_source")
    for what, value in (("gt_source", gt_source), ("pred_source", pred_source)):
        if not isinstance(value, str) or not value:
            raise EvaluationError(f"{what} must name an annotation source, got {show(value)}.")
    classwise = params.get("classwise", True)
    if not isinstance(classwise, bool):
        raise QueryError(f"classwise must be true or false, got {show(classwise)}.")
    config: Any
    if task == "object_detection":
        config = ObjectDetectionEvaluationConfig(
            _iou_threshold(params.get("iou_threshold")), classwise
        )
    elif task == "instance_segmentation":
        config = InstanceSegmentationEvaluationConfig(
            _iou_threshold(params.get("iou_threshold")), classwise
        )
    elif task == "classification":
        config = ClassificationEvaluationConfig()
    else:
        config = SemanticSegmentationEvaluationConfig()
    run = getattr(dataset.evaluate(), task)(name.strip(), gt_source, pred_source, config)
    return {"run": _run_summary(run)}, []
