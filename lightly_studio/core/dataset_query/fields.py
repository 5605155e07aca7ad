"""Moved to ``lightly_studio.query.fields``; re-exported for the reference import path."""

from lightly_studio.query.fields import (
    AnnotationCount,
    AnnotationsField,
    CaptionsField,
    DatetimeField,
    Field,
    FrameSampleField,
    ImageSampleField,
    MetadataAccessor,
    MetadataField,
    NumberField,
    OrderByField,
    OrdinalField,
    SampleIdField,
    StringField,
    TagsField,
    VideoSampleField,
)

__all__ = [
    "AnnotationCount",
    "AnnotationsField",
    "CaptionsField",
    "DatetimeField",
    "Field",
    "FrameSampleField",
    "ImageSampleField",
    "MetadataAccessor",
    "MetadataField",
    "NumberField",
    "OrderByField",
    "OrdinalField",
    "SampleIdField",
    "StringField",
    "TagsField",
    "VideoSampleField",
]
