"""The query DSL: fields, match expressions and ``SampleQuery``, compiled to SQL fragments.

Below core in the layering: it imports only ``db`` and ``errors``. Users import the DSL from
``lightly_studio.core.dataset_query`` (where ``DatasetQuery`` adds Sample objects and the
rest of the façade).
"""

from lightly_studio.query.expressions import AND, NOT, OR, MatchExpression, SqlContext
from lightly_studio.query.fields import (
    AnnotationField,
    FrameSampleField,
    GroupSampleField,
    ImageSampleField,
    OrderByField,
    VideoSampleField,
)
from lightly_studio.query.query import DatasetRef, SampleQuery

__all__ = [
    "AND",
    "NOT",
    "OR",
    "AnnotationField",
    "DatasetRef",
    "FrameSampleField",
    "GroupSampleField",
    "ImageSampleField",
    "MatchExpression",
    "OrderByField",
    "SampleQuery",
    "SqlContext",
    "VideoSampleField",
]
