"""Annotations: the four kinds a sample can carry, how to create them, and bulk storage.

Every annotation has a ``label`` (class name), an optional ``confidence`` in [0, 1] and a
``source``: 'ground_truth' or the name of the model whose predictions it is. Boxes are in
pixels with a top-left origin. Segmentations carry ``segmentation_mask``, the row-wise RLE of
the whole image (see :mod:`lightly_studio.shapes.rle`), and for masks that came from polygons
also ``polygon`` (rings of flat x, y pixel coordinates), kept for exact COCO round trips.

The classes here are the façade; the rows, their validation and every statement over them
live in :mod:`lightly_studio.store.annotations` (one write path for this API, the annotator,
plugins and importers).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.errors import AnnotationError, QueryError
from lightly_studio.shapes import rle

# The entity's constants, checks and frames live in lightly_studio.store.annotations; the
# constants and checks this public module always offered are re-exported.
from lightly_studio.store.annotations import (
    BOXED,
    FRAME_SCHEMA,
    GROUND_TRUTH,
    MASKED,
    VIDEO_COLUMNS,
    AnnotationType,
    check_box,
    check_confidence,
    check_label,
    check_mask,
    check_number,
    insert_annotation_frame,
    sample_annotations,
    update_annotation,
)
from lightly_studio.store.annotations import delete_annotation as _delete_annotation
from lightly_studio.store.labels import get_or_create_label_ids
from lightly_studio.store.samples import annotated_sample

# --- creation requests -------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class CreateClassification:
    """A whole-image class: ``sample.add_annotation(CreateClassification(label="cat"))``."""

    label: str
    confidence: float | None = None
    annotation_source: str = GROUND_TRUTH
    #: On a video: the time span in seconds (both or neither), e.g. an ActivityNet event.
    start_s: float | None = None
    end_s: float | None = None

    annotation_type = AnnotationType.CLASSIFICATION


@dataclasses.dataclass(kw_only=True)
class CreateObjectDetection:
    """A box in pixels, top-left origin: x, y, width, height."""

    label: str
    x: float
    y: float
    width: float
    height: float
    confidence: float | None = None
    annotation_source: str = GROUND_TRUTH
    #: On a video frame: the object track the box belongs to.
    track_id: int | None = None

    annotation_type = AnnotationType.OBJECT_DETECTION


@dataclasses.dataclass(kw_only=True)
class _CreateSegmentation:
    label: str
    x: float
    y: float
    width: float
    height: float
    segmentation_mask: list[int]
    confidence: float | None = None
    annotation_source: str = GROUND_TRUTH
    polygon: list[list[float]] | None = None
    iscrowd: bool = False
    #: On a video frame: the object track the mask belongs to.
    track_id: int | None = None

    @classmethod
    def from_binary_mask(
        cls,
        label: str,
        binary_mask: np.ndarray,
        confidence: float | None = None,
        annotation_source: str = GROUND_TRUTH,
    ):
        """Build the request from a 2-D mask of the whole image (non-zero = foreground).

        The box is the tight box around the foreground; the mask is stored as row-wise RLE.
        """
        box = rle.bbox_from_mask(binary_mask)
        if box is None:
            raise AnnotationError(f"The binary mask for label {label!r} has no foreground pixel.")
        x, y, w, h = box
        return cls(
            label=label,
            confidence=confidence,
            x=x,
            y=y,
            width=w,
            height=h,
            segmentation_mask=rle.encode(binary_mask),
            annotation_source=annotation_source,
        )


@dataclasses.dataclass(kw_only=True)
class CreateInstanceSegmentation(_CreateSegmentation):
    """One object's mask (row-wise RLE of the whole image) and its box."""

    annotation_type = AnnotationType.INSTANCE_SEGMENTATION


@dataclasses.dataclass(kw_only=True)
class CreateSemanticSegmentation(_CreateSegmentation):
    """A class's mask (row-wise RLE of the whole image) and its box."""

    annotation_type = AnnotationType.SEMANTIC_SEGMENTATION


AnnotationCreate = (
    CreateClassification
    | CreateObjectDetection
    | CreateInstanceSegmentation
    | CreateSemanticSegmentation
)


# --- stored annotations ------------------------------------------------------------------------


class Annotation:
    """A stored annotation. Fields read from the row loaded; setters write through at once."""

    annotation_type: AnnotationType

    def __init__(self, row: dict[str, Any], sample: Any = None) -> None:
        self._row = dict(row)
        self._sample = sample

    # identity
    @property
    def annotation_id(self) -> uuid.UUID:
        return uuid.UUID(str(self._row["annotation_id"]))

    @property
    def sample_id(self) -> uuid.UUID:
        return uuid.UUID(str(self._row["sample_id"]))

    @property
    def source(self) -> str:
        """'ground_truth' or the name of the model that predicted it."""
        return self._row["source"]

    @property
    def annotation_source(self) -> str:
        return self.source

    @property
    def label(self) -> str:
        return self._row["label"]

    @label.setter
    def label(self, value: str) -> None:
        check_label(value, self._where())
        with transaction() as con:
            dataset_id = self._sample_facts(con)["dataset_id"]
            label_id = get_or_create_label_ids(con, dataset_id, [value])[value]
            self._update(con, {"label_id": str(label_id)})
        self._row["label"] = value

    @property
    def confidence(self) -> float | None:
        return self._row.get("confidence")

    @confidence.setter
    def confidence(self, value: float | None) -> None:
        self._write({"confidence": check_confidence(value, self._where())})

    @property
    def track_id(self) -> int | None:
        """The object track of an annotation on a video frame (YouTube-VIS instance id)."""
        return self._row.get("track_id")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Annotation) and other.annotation_id == self.annotation_id

    def __hash__(self) -> int:
        return hash(self.annotation_id)

    def __repr__(self) -> str:
        fields = [f"label={self.label!r}"]
        if self.confidence is not None:
            fields.append(f"confidence={self.confidence}")
        if self.source != GROUND_TRUTH:
            fields.append(f"source={self.source!r}")
        fields += self._repr_fields()
        return f"{type(self).__name__}({', '.join(fields)})"

    def _repr_fields(self) -> list[str]:
        return []

    # persistence helpers
    def _where(self) -> str:
        return f"annotation {self.annotation_id}: "

    def _sample_facts(self, con) -> dict[str, Any]:
        if self._sample is not None:
            return {
                "dataset_id": str(self._sample.dataset_id),
                "width": int(self._sample.width),
                "height": int(self._sample.height),
            }
        try:
            return annotated_sample(con, self.sample_id)
        except QueryError:
            raise AnnotationError(f"{self._where()}its sample no longer exists") from None

    def _image_size(self) -> tuple[int, int]:
        facts = self._sample_facts(get_connection())
        return int(facts["width"]), int(facts["height"])

    def _write(self, values: dict[str, Any]) -> None:
        with transaction() as con:
            self._update(con, values)
        self._row.update(values)

    def _update(self, con, values: dict[str, Any]) -> None:
        if not update_annotation(con, self.annotation_id, values):
            raise AnnotationError(f"{self._where()}it was deleted")


class ClassificationAnnotation(Annotation):
    """A whole-image class; on a video, optionally over a time span (start_s, end_s)."""

    annotation_type = AnnotationType.CLASSIFICATION

    @property
    def start_s(self) -> float | None:
        return self._row.get("start_s")

    @property
    def end_s(self) -> float | None:
        return self._row.get("end_s")

    def _repr_fields(self) -> list[str]:
        if self.start_s is None:
            return []
        return [f"start_s={self.start_s}", f"end_s={self.end_s}"]


class _BoxedAnnotation(Annotation):
    """Has a box in pixels (top-left origin); setting x/y/width/height stores it."""

    @property
    def x(self) -> float:
        return self._row["x"]

    @x.setter
    def x(self, value: float) -> None:
        self._set_box(x=value)

    @property
    def y(self) -> float:
        return self._row["y"]

    @y.setter
    def y(self, value: float) -> None:
        self._set_box(y=value)

    @property
    def width(self) -> float:
        return self._row["width"]

    @width.setter
    def width(self, value: float) -> None:
        self._set_box(width=value)

    @property
    def height(self) -> float:
        return self._row["height"]

    @height.setter
    def height(self, value: float) -> None:
        self._set_box(height=value)

    def set_box(self, x: float, y: float, width: float, height: float) -> None:
        """Move and resize the box in one write."""
        self._set_box(x=x, y=y, width=width, height=height)

    def _set_box(self, **changes: float) -> None:
        box = {k: self._row[k] for k in ("x", "y", "width", "height")}
        box.update({k: float(v) for k, v in changes.items()})
        img_w, img_h = self._image_size()
        check_box(box["x"], box["y"], box["width"], box["height"], img_w, img_h, self._where())
        self._write({k: box[k] for k in changes})

    def _repr_fields(self) -> list[str]:
        return [f"x={self.x}", f"y={self.y}", f"width={self.width}", f"height={self.height}"]


class ObjectDetectionAnnotation(_BoxedAnnotation):
    """A box."""

    annotation_type = AnnotationType.OBJECT_DETECTION


class _SegmentationAnnotation(_BoxedAnnotation):
    @property
    def segmentation_mask(self) -> list[int]:
        """Row-wise RLE of the whole image, starting with a background run."""
        mask = self._row.get("segmentation_mask")
        return [] if mask is None else list(mask)

    @property
    def polygon(self) -> list[list[float]] | None:
        """The polygon rings (flat x, y pixel coordinates) the mask was drawn from, if any."""
        poly = self._row.get("polygon")
        return None if poly is None else [list(r) for r in poly]

    @property
    def iscrowd(self) -> bool:
        return bool(self._row.get("iscrowd"))

    def to_binary_mask(self) -> np.ndarray:
        """The mask as a boolean ``height x width`` array of the whole image."""
        width, height = self._image_size()
        return rle.decode(self.segmentation_mask, width, height)


class InstanceSegmentationAnnotation(_SegmentationAnnotation):
    """One object's mask and box."""

    annotation_type = AnnotationType.INSTANCE_SEGMENTATION


class SemanticSegmentationAnnotation(_SegmentationAnnotation):
    """One class's mask and box."""

    annotation_type = AnnotationType.SEMANTIC_SEGMENTATION


_CLASSES: dict[str, type[Annotation]] = {
    AnnotationType.CLASSIFICATION.value: ClassificationAnnotation,
    AnnotationType.OBJECT_DETECTION.value: ObjectDetectionAnnotation,
    AnnotationType.INSTANCE_SEGMENTATION.value: InstanceSegmentationAnnotation,
    AnnotationType.SEMANTIC_SEGMENTATION.value: SemanticSegmentationAnnotation,
}


def annotation_from_row(row: dict[str, Any], sample: Any = None) -> Annotation:
    return _CLASSES[row["annotation_type"]](row, sample)


# --- delegations from Sample -------------------------------------------------------------------


def load_annotations(sample: Any) -> list[Annotation]:
    """The annotations of one sample, in the order they were added."""
    return [
        annotation_from_row(row, sample)
        for row in sample_annotations(get_connection(), sample.sample_id)
    ]


def add_annotations(sample: Any, creates: Iterable[AnnotationCreate]) -> list[Annotation]:
    """Validate and store ``creates`` on ``sample`` in one transaction (all or nothing)."""
    creates = list(creates)
    where = f"sample {getattr(sample, 'file_name', sample.sample_id)!r}"
    rows = [_create_to_row(c, sample, f"{where}, annotation {i}: ") for i, c in enumerate(creates)]
    if not rows:
        return []
    frame = pl.DataFrame(rows, schema={**FRAME_SCHEMA, **VIDEO_COLUMNS})
    ids = [str(uuid.uuid4()) for _ in rows]
    frame = frame.with_columns(pl.Series("annotation_id", ids, dtype=pl.Utf8))
    with transaction() as con:
        insert_annotation_frame(con, sample.dataset_id, frame)
    return [
        annotation_from_row({**row, "annotation_id": aid}, sample)
        for row, aid in zip(
            frame.drop("img_width", "img_height", "where").iter_rows(named=True), ids, strict=True
        )
    ]


def delete_annotation(sample: Any, annotation: Annotation | uuid.UUID | str) -> None:
    """Remove one annotation of ``sample``; AnnotationError if the sample has no such one."""
    annotation_id = annotation.annotation_id if isinstance(annotation, Annotation) else annotation
    with transaction() as con:
        removed = _delete_annotation(con, annotation_id, sample.sample_id)
    if not removed:
        raise AnnotationError(
            f"Sample {getattr(sample, 'file_name', sample.sample_id)!r} has no annotation "
            f"{annotation_id}."
        )


# --- helpers -----------------------------------------------------------------------------------


def _create_to_row(create: Any, sample: Any, where: str) -> dict[str, Any]:
    kind = getattr(create, "annotation_type", None)
    # Checked apart from the `if` so `create` stays Any (any dataclass with the Create* fields
    # will do) instead of being narrowed to a field-less DataclassInstance.
    is_dataclass = dataclasses.is_dataclass(create)
    if kind is None or not is_dataclass:
        raise AnnotationError(
            f"{where}expected CreateClassification, CreateObjectDetection, "
            f"CreateInstanceSegmentation or CreateSemanticSegmentation, got {create!r}"
        )
    check_label(create.label, where)
    row: dict[str, Any] = {
        "sample_id": str(sample.sample_id),
        "label": create.label,
        "annotation_type": AnnotationType(kind).value,
        "source": create.annotation_source,
        "confidence": check_confidence(create.confidence, where),
        "img_width": int(sample.width),
        "img_height": int(sample.height),
        "where": where,
        "iscrowd": bool(getattr(create, "iscrowd", False)),
        "track_id": _check_track_id(getattr(create, "track_id", None), where),
        "start_s": check_number(getattr(create, "start_s", None), "start_s", where),
        "end_s": check_number(getattr(create, "end_s", None), "end_s", where),
    }
    if row["annotation_type"] in BOXED:
        for name in ("x", "y", "width", "height"):
            row[name] = check_number(getattr(create, name), name, where)
    if row["annotation_type"] in MASKED:
        row["segmentation_mask"] = check_mask(
            create.segmentation_mask, int(sample.width), int(sample.height), where
        )
        if create.polygon is not None:
            row["polygon"] = [[float(v) for v in ring] for ring in create.polygon]
    return row


def _check_track_id(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise AnnotationError(f"{where}track_id must be an integer, got {value!r}")
    return int(value)
