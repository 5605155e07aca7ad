"""``dataset.evaluate(query)``: run an evaluation, store it, and read stored runs back.

A run compares two annotation sources of the query's samples (ground truth and a model's
predictions), computes everything in memory (``_tasks``), then stores the run, its
per-sample metrics and its per-annotation matches in one transaction
(``store.evaluations.replace_run``): a run that fails stores nothing, and re-running a name
replaces the earlier run of that name.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from lightly_studio.db import get_connection, query_frame, transaction
from lightly_studio.errors import EvaluationError
from lightly_studio.evaluation import _tasks
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import evaluations as evaluations_store

if TYPE_CHECKING:
    from lightly_studio.query.query import SampleQuery

logger = logging.getLogger("lightly_studio")

BACKGROUND_ROW = "(no ground truth)"  # the FP row of the confusion matrix
BACKGROUND_COLUMN = "(no prediction)"  # the FN column


@dataclass(frozen=True)
class ObjectDetectionEvaluationConfig:
    """``iou_threshold``: the least IoU of a match (for the run's TP/FP/FN, matches and
    confusion matrix; COCO mAP always uses .50:.95). ``classwise``: match only boxes of the
    same class; with False a box may match one of another class, which then counts as an FP
    and an FN and shows off the confusion matrix's diagonal."""

    iou_threshold: float = 0.5
    classwise: bool = True


@dataclass(frozen=True)
class InstanceSegmentationEvaluationConfig(ObjectDetectionEvaluationConfig):
    """As for object detection, with mask IoU."""


@dataclass(frozen=True)
class ClassificationEvaluationConfig:
    """Classification has no settings; the class exists so every task takes a config."""


@dataclass(frozen=True)
class SemanticSegmentationEvaluationConfig:
    """Semantic segmentation has no settings; the class exists so every task takes a config."""


_TYPE_OF_TASK = {
    "object_detection": "object_detection",
    "instance_segmentation": "instance_segmentation",
    "classification": "classification",
    "semantic_segmentation": "semantic_segmentation",
}


@dataclass
class EvaluationResult:
    """A stored run: its counts, ``metrics``, and readers of its confusion matrix, PR curve
    and per-sample metrics."""

    evaluation_run_id: str
    sample_count: int
    gt_annotation_count: int
    pred_annotation_count: int
    name: str = ""
    task: str = ""
    gt_annotation_source: str = ""
    pred_annotation_source: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _from_row(cls, row: dict[str, Any]) -> EvaluationResult:
        return cls(
            evaluation_run_id=row["run_id"],
            sample_count=row["sample_count"],
            gt_annotation_count=row["gt_annotation_count"],
            pred_annotation_count=row["pred_annotation_count"],
            name=row["name"],
            task=row["task"],
            gt_annotation_source=row["gt_source"],
            pred_annotation_source=row["pred_source"],
            config=row["config"],
            metrics=row["metrics"],
        )

    def classes(self) -> list[str]:
        return sorted(self.metrics.get("per_class", {}))

    def confusion_matrix(self) -> pl.DataFrame:
        """Rows: ground-truth classes, then ``(no ground truth)`` (false positives); columns:
        ``ground_truth``, the predicted classes, then ``(no prediction)`` (false negatives).
        Classes sorted by name; each cell counts objects (samples, for classification)."""
        counts = evaluations_store.confusion_counts(get_connection(), self.evaluation_run_id)
        classes = self.classes()
        rows = [*classes, BACKGROUND_ROW]
        columns = [*classes, BACKGROUND_COLUMN]
        counts = counts.with_columns(
            pl.col("gt_label").fill_null(BACKGROUND_ROW),
            pl.col("pred_label").fill_null(BACKGROUND_COLUMN),
        )
        grid = {(g, p): int(n) for g, p, n in counts.iter_rows()}
        data: dict[str, Any] = {"ground_truth": rows}
        for column in columns:
            data[column] = [grid.get((row, column), 0) for row in rows]
        return pl.DataFrame(
            data, schema={"ground_truth": pl.Utf8, **dict.fromkeys(columns, pl.Int64)}
        )

    def pr_curve(self, class_name: str | None = None) -> pl.DataFrame:
        """Precision and recall at each confidence of the predictions (of ``class_name``, or
        all), at the run's IoU threshold: columns confidence, precision, recall, sorted by
        confidence descending. Not for semantic segmentation."""
        if self.task == "semantic_segmentation":
            raise EvaluationError(
                "A PR curve needs scored predictions per object; semantic "
                "segmentation runs have per-class IoU instead."
            )
        if class_name is not None and class_name not in self.metrics.get("per_class", {}):
            raise EvaluationError(
                f"Run {self.name!r} has no class {class_name!r}; classes: {self.classes()}."
            )
        rows = evaluations_store.match_rows(get_connection(), self.evaluation_run_id)
        rows = rows.filter(pl.col("outcome") != "ignored")
        preds = rows.filter(pl.col("pred_annotation_id").is_not_null())
        gts = rows.filter(pl.col("gt_annotation_id").is_not_null())
        if class_name is not None:
            preds = preds.filter(pl.col("pred_label") == class_name)
            gts = gts.filter(pl.col("gt_label") == class_name)
        preds = preds.sort(["confidence", "pred_annotation_id"], descending=[True, False])
        tp = (preds["outcome"] == "tp").cast(pl.Int64).cum_sum()
        rank = pl.Series(range(1, preds.height + 1))
        n_gt = gts.height
        return pl.DataFrame(
            {
                "confidence": preds["confidence"],
                "precision": (tp / rank).cast(pl.Float64),
                "recall": (tp / n_gt).cast(pl.Float64) if n_gt else pl.Series([0.0] * preds.height),
            }
        )

    def sample_metrics(self) -> pl.DataFrame:
        """One row per evaluated sample: sample_id and the per-sample metrics."""
        return evaluations_store.sample_metrics(get_connection(), self.evaluation_run_id)

    def matches(self) -> pl.DataFrame:
        """One row per matched pair, unmatched prediction (fp) and unmatched ground truth (fn)."""
        return evaluations_store.match_rows(get_connection(), self.evaluation_run_id)

    def report(self) -> str:
        """The run's figures and its per-class table as readable text."""
        m = self.metrics
        lines = [
            f"Evaluation {self.name!r} ({self.task}): {self.pred_annotation_source!r} against "
            f"{self.gt_annotation_source!r}, {self.sample_count} samples, "
            f"{self.gt_annotation_count} ground truth, {self.pred_annotation_count} predictions",
        ]
        if self.task in ("object_detection", "instance_segmentation"):
            lines.append(
                f"mAP {_fmt(m['mAP'])}  mAP50 {_fmt(m['mAP50'])}  mAP75 {_fmt(m['mAP75'])}  "
                f"mAR100 {_fmt(m['mAR100'])}"
            )
            lines.append(
                f"at IoU {m['iou_threshold']}: TP {m['tp']}  FP {m['fp']}  FN {m['fn']}  "
                f"precision {_fmt(m['precision'])}  recall {_fmt(m['recall'])}  "
                f"F1 {_fmt(m['f1'])}"
            )
            columns: tuple[str, ...] = (
                "AP",
                "AP50",
                "precision",
                "recall",
                "f1",
                "tp",
                "fp",
                "fn",
                "gt_count",
            )
        elif self.task == "classification":
            lines.append(
                f"accuracy {_fmt(m['accuracy'])}  macro P/R/F1 {_fmt(m['macro_precision'])}/"
                f"{_fmt(m['macro_recall'])}/{_fmt(m['macro_f1'])}  micro P/R/F1 "
                f"{_fmt(m['micro_precision'])}/{_fmt(m['micro_recall'])}/{_fmt(m['micro_f1'])}"
            )
            columns = ("precision", "recall", "f1", "tp", "fp", "fn", "gt_count")
        else:
            lines.append(
                f"mIoU {_fmt(m['mIoU'])}  mean per-sample mIoU {_fmt(m['mean_sample_mIoU'])}"
            )
            columns = ("iou", "gt_pixels", "pred_pixels")
        per_class = m.get("per_class", {})
        width = max([5, *(len(c) for c in per_class)])
        lines.append("")
        lines.append("class".ljust(width) + "".join(c.rjust(10) for c in columns))
        for name in sorted(per_class):
            values = per_class[name]
            lines.append(
                name.ljust(width) + "".join(_fmt(values.get(c)).rjust(10) for c in columns)
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"EvaluationResult(name={self.name!r}, task={self.task!r}, "
            f"evaluation_run_id={self.evaluation_run_id!r}, sample_count={self.sample_count}, "
            f"gt_annotation_count={self.gt_annotation_count}, "
            f"pred_annotation_count={self.pred_annotation_count})"
        )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


class Evaluation:
    """What ``dataset.evaluate(query)`` returns: one method per task, each running and storing
    a named run over the query's samples."""

    def __init__(self, query: SampleQuery) -> None:
        self.query = query
        self.dataset_id = query.dataset.dataset_id

    def object_detection(
        self,
        name: str,
        gt_annotation_source: str,
        pred_annotation_source: str,
        config: ObjectDetectionEvaluationConfig | None = None,
    ) -> EvaluationResult:
        """Match predicted boxes to ground-truth boxes (COCO rules); COCO mAP/mAR, and TP/FP/FN
        at ``config.iou_threshold``."""
        return self._run(
            "object_detection",
            name,
            gt_annotation_source,
            pred_annotation_source,
            config or ObjectDetectionEvaluationConfig(),
        )

    def instance_segmentation(
        self,
        name: str,
        gt_annotation_source: str,
        pred_annotation_source: str,
        config: InstanceSegmentationEvaluationConfig | None = None,
    ) -> EvaluationResult:
        """As ``object_detection``, with mask IoU (COCOeval ``iouType="segm"``)."""
        return self._run(
            "instance_segmentation",
            name,
            gt_annotation_source,
            pred_annotation_source,
            config or InstanceSegmentationEvaluationConfig(),
        )

    def classification(
        self,
        name: str,
        gt_annotation_source: str,
        pred_annotation_source: str,
        config: ClassificationEvaluationConfig | None = None,
    ) -> EvaluationResult:
        """Compare one class label per sample: accuracy, macro/micro precision/recall/F1."""
        return self._run(
            "classification",
            name,
            gt_annotation_source,
            pred_annotation_source,
            config or ClassificationEvaluationConfig(),
        )

    def semantic_segmentation(
        self,
        name: str,
        gt_annotation_source: str,
        pred_annotation_source: str,
        config: SemanticSegmentationEvaluationConfig | None = None,
    ) -> EvaluationResult:
        """Per-class IoU of class masks; per-sample mIoU over the classes in either mask."""
        return self._run(
            "semantic_segmentation",
            name,
            gt_annotation_source,
            pred_annotation_source,
            config or SemanticSegmentationEvaluationConfig(),
        )

    # -- running --------------------------------------------------------------------------------
    def _check(self, con, task: str, name: str, gt_source: str, pred_source: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise EvaluationError(f"An evaluation run needs a non-empty name, got {name!r}.")
        sources = annotations_store.annotation_sources(con, self.dataset_id)
        for role, source in (("ground-truth", gt_source), ("prediction", pred_source)):
            if source not in sources:
                raise EvaluationError(
                    f"Unknown {role} annotation source {source!r}; this dataset's sources: "
                    f"{', '.join(map(repr, sources)) or 'none'}."
                )
        if gt_source == pred_source:
            raise EvaluationError(
                f"Ground truth and predictions are the same source ({gt_source!r})."
            )
        earlier = evaluations_store.find_run(con, self.dataset_id, name)
        if earlier is not None and earlier["task"] != task:
            raise EvaluationError(
                f"Run {name!r} is a {earlier['task']} run; a name is reused only for the same "
                f"task. Pick another name or delete it with delete_evaluation_run({name!r})."
            )

    def _run(
        self, task: str, name: str, gt_source: str, pred_source: str, config: Any
    ) -> EvaluationResult:
        con = get_connection()
        self._check(con, task, name, gt_source, pred_source)
        fragment = self.query.sample_ids_fragment()
        samples = query_frame(
            "SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.width, s.height FROM sample s "
            "WHERE s.sample_id IN (" + fragment + ") ORDER BY s.sample_idx",
            con=con,
        )
        subquery = self.query.sample_ids_subquery()
        annotation_type = _TYPE_OF_TASK[task]
        gt = annotations_store.annotations_frame(
            con,
            self.dataset_id,
            sample_ids_subquery=subquery,
            source=gt_source,
            types=[annotation_type],
        )
        pred = annotations_store.annotations_frame(
            con,
            self.dataset_id,
            sample_ids_subquery=subquery,
            source=pred_source,
            types=[annotation_type],
        )
        if gt.is_empty() and pred.is_empty():
            raise EvaluationError(
                f"Neither {gt_source!r} nor {pred_source!r} has {annotation_type} annotations "
                "on the evaluated samples."
            )
        unscored = pred["confidence"].null_count()
        if unscored:
            logger.warning(
                "%d of %d predictions of source %r have no confidence; they are ranked as "
                "confidence 1.0.",
                unscored,
                pred.height,
                pred_source,
            )
            pred = pred.with_columns(pl.col("confidence").fill_null(1.0))
        if task in ("object_detection", "instance_segmentation"):
            outcome = _tasks.evaluate_objects(
                samples,
                gt,
                pred,
                float(config.iou_threshold),
                bool(config.classwise),
                masks=task == "instance_segmentation",
            )
        elif task == "classification":
            outcome = _tasks.evaluate_classification(samples, gt, pred, gt_source, pred_source)
        else:
            outcome = _tasks.evaluate_semantic(samples, gt, pred)
        run = {
            "name": name,
            "task": task,
            "gt_source": gt_source,
            "pred_source": pred_source,
            "config": asdict(config),
            "metrics": outcome.metrics,
            "sample_count": samples.height,
            "gt_annotation_count": gt.height,
            "pred_annotation_count": pred.height,
        }
        with transaction() as tx:
            # Checked again under the writer lock: another thread may have stored the name.
            self._check(tx, task, name, gt_source, pred_source)
            evaluations_store.replace_run(
                tx, self.dataset_id, run, outcome.samples, outcome.matches
            )
        found = evaluations_store.find_run(con, self.dataset_id, name)
        assert found is not None  # just stored
        return EvaluationResult._from_row(found)


def evaluation_runs(dataset_id: Any) -> list[EvaluationResult]:
    """The dataset's stored runs, newest first."""
    frame = evaluations_store.list_runs(get_connection(), dataset_id)
    out = []
    for row in frame.iter_rows(named=True):
        row = evaluations_store.decode_run(row)
        out.append(EvaluationResult._from_row(row))
    return out


def evaluation_run(dataset_id: Any, name: str) -> EvaluationResult:
    """The dataset's stored run called ``name``."""
    found = evaluations_store.find_run(get_connection(), dataset_id, name)
    if found is None:
        names = [r.name for r in evaluation_runs(dataset_id)]
        raise EvaluationError(f"No evaluation run {name!r}; stored runs: {names or 'none'}.")
    return EvaluationResult._from_row(found)


def delete_evaluation_run(dataset_id: Any, name: str) -> bool:
    """Delete a stored run and its rows. Returns whether there was one."""
    with transaction() as con:
        return evaluations_store.delete_run(con, dataset_id, name)
