"""Bulk annotation writes for plugins: ``create_many(session=..., parent_collection_id=...,
annotations=[AnnotationCreate(...), ...])``.

All annotations go through ``lightly_studio.store.annotations.insert_annotation_frame``: one
vectorised validation (box inside the image, confidence in [0, 1], …) and one INSERT, so a
batch is stored entirely or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import polars as pl

from lightly_studio.db import transaction
from lightly_studio.errors import AnnotationError
from lightly_studio.models.annotation.annotation_base import AnnotationCreate
from lightly_studio.resolvers._common import dataset_id_for
from lightly_studio.store.annotations import insert_annotation_frame
from lightly_studio.store.labels import labels_by_id
from lightly_studio.store.samples import sample_sizes

__all__ = ["create_many"]


def create_many(
    *,
    session: Any,
    parent_collection_id: uuid.UUID | str | None = None,
    annotations: Sequence[AnnotationCreate],
) -> list[uuid.UUID]:
    """Store ``annotations`` in the dataset ``parent_collection_id``; return their new ids.

    Raises ``AnnotationError`` naming the first bad annotation (unknown sample or label id,
    box outside its image, …); nothing is stored then.
    """
    dataset_id = dataset_id_for(session, parent_collection_id)
    annotations = list(annotations)
    if not annotations:
        return []
    for i, a in enumerate(annotations):
        if not isinstance(a, AnnotationCreate):
            raise AnnotationError(
                f"annotations[{i}] must be an AnnotationCreate, got {type(a).__name__}"
            )
    ids = [str(uuid.uuid4()) for _ in annotations]
    frame = pl.DataFrame(
        {
            "annotation_id": ids,
            "sample_id": [str(a.parent_sample_id) for a in annotations],
            "label_id": [str(a.annotation_label_id) for a in annotations],
            "annotation_type": [
                str(getattr(a.annotation_type, "value", a.annotation_type)) for a in annotations
            ],
            "source": [a.source for a in annotations],
            "confidence": [_float(a.confidence) for a in annotations],
            "x": [_float(a.x) for a in annotations],
            "y": [_float(a.y) for a in annotations],
            "width": [_float(a.width) for a in annotations],
            "height": [_float(a.height) for a in annotations],
            "segmentation_mask": [a.segmentation_mask for a in annotations],
            "polygon": [a.polygon for a in annotations],
            "iscrowd": [bool(a.iscrowd) for a in annotations],
        },
        schema_overrides={
            "segmentation_mask": pl.List(pl.Int32),
            "polygon": pl.List(pl.List(pl.Float64)),
            "confidence": pl.Float64,
            "x": pl.Float64,
            "y": pl.Float64,
            "width": pl.Float64,
            "height": pl.Float64,
        },
    )
    with transaction() as con:
        frame = _join_samples_and_labels(con, dataset_id, frame)
        insert_annotation_frame(con, dataset_id, frame)
    return [uuid.UUID(i) for i in ids]


def _join_samples_and_labels(con, dataset_id: uuid.UUID, frame: pl.DataFrame) -> pl.DataFrame:
    """Add label names and image sizes; fail on ids that are not in the dataset."""
    samples = sample_sizes(con, dataset_id, frame["sample_id"].unique().to_list())
    labels = labels_by_id(con, dataset_id, frame["label_id"].unique().to_list())
    out = (
        frame.with_row_index("_i")
        .join(samples, on="sample_id", how="left")
        .join(labels, on="label_id", how="left")
        .sort("_i")
    )
    missing_sample = out.filter(pl.col("img_width").is_null())
    if missing_sample.height:
        raise AnnotationError(
            f"annotations[{missing_sample['_i'][0]}]: sample {missing_sample['sample_id'][0]} is "
            f"not in dataset {dataset_id} ({missing_sample.height} annotations affected)."
        )
    missing_label = out.filter(pl.col("label").is_null())
    if missing_label.height:
        raise AnnotationError(
            f"annotations[{missing_label['_i'][0]}]: label id {missing_label['label_id'][0]} is "
            f"not a label of dataset {dataset_id}; create it with "
            "annotation_label_resolver.create(...) first."
        )
    out = out.with_columns(
        pl.format("sample {} (annotation {}): ", pl.col("file_name"), pl.col("_i")).alias("where")
    )
    return out.drop("_i", "file_name", "label_id")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
