"""Model evaluation: compare a model's annotations with ground truth and store the outcome.

``dataset.evaluate(query)`` returns an :class:`Evaluation`; its task methods run and store a
named run (``store.evaluations``) and return an :class:`EvaluationResult`. Detection and
instance-segmentation metrics follow pycocotools' COCOeval exactly (``_coco``).
"""

from lightly_studio.evaluation.evaluate import (
    ClassificationEvaluationConfig,
    Evaluation,
    EvaluationResult,
    InstanceSegmentationEvaluationConfig,
    ObjectDetectionEvaluationConfig,
    SemanticSegmentationEvaluationConfig,
    delete_evaluation_run,
    evaluation_run,
    evaluation_runs,
)

__all__ = [
    "ClassificationEvaluationConfig",
    "Evaluation",
    "EvaluationResult",
    "InstanceSegmentationEvaluationConfig",
    "ObjectDetectionEvaluationConfig",
    "SemanticSegmentationEvaluationConfig",
    "delete_evaluation_run",
    "evaluation_run",
    "evaluation_runs",
]
