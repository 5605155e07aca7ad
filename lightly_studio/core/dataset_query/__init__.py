"""The query DSL: ``dataset.match(AND(ImageSampleField.width < 500, ...)).order_by(...)[a:b]``.

The DSL lives in ``lightly_studio.query``; this package is its reference import path, and
``DatasetQuery`` (the query with Sample objects, tags, similarity, selection, export) is
core's subclass of ``lightly_studio.query.SampleQuery``.
"""

from lightly_studio.core.dataset_query.query import DatasetQuery
from lightly_studio.query import (
    AND,
    NOT,
    OR,
    AnnotationField,
    FrameSampleField,
    GroupSampleField,
    ImageSampleField,
    MatchExpression,
    OrderByField,
    VideoSampleField,
)
from lightly_studio.query.evaluation import (
    AnnotationEvaluationMetricField,
    AnnotationMetricQuery,
    EvaluationMetricField,
    OrderByEvaluationMetricField,
    SampleEvaluationQuery,
)

__all__ = [
    "AND",
    "NOT",
    "OR",
    "AnnotationEvaluationMetricField",
    "AnnotationField",
    "AnnotationMetricQuery",
    "DatasetQuery",
    "EvaluationMetricField",
    "FrameSampleField",
    "GroupSampleField",
    "ImageSampleField",
    "MatchExpression",
    "OrderByEvaluationMetricField",
    "OrderByField",
    "SampleEvaluationQuery",
    "VideoSampleField",
]
