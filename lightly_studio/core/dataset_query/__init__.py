"""The query DSL: ``dataset.match(AND(ImageSampleField.width < 500, ...)).order_by(...)[a:b]``."""

from lightly_studio.core.dataset_query.expressions import AND, NOT, OR, MatchExpression
from lightly_studio.core.dataset_query.fields import (
    FrameSampleField,
    ImageSampleField,
    OrderByField,
    VideoSampleField,
)
from lightly_studio.core.dataset_query.query import DatasetQuery

__all__ = [
    "AND",
    "NOT",
    "OR",
    "DatasetQuery",
    "FrameSampleField",
    "ImageSampleField",
    "MatchExpression",
    "OrderByField",
    "VideoSampleField",
]
