"""Annotations: the four kinds a sample can carry, how to create them, and bulk storage.

Every annotation has a ``label`` (class name), an optional ``confidence`` in [0, 1] and a
``source``: 'ground_truth' or the name of the model whose predictions it is. Boxes are in
pixels with a top-left origin. Segmentations carry ``segmentation_mask``, the row-wise RLE of
the whole image (see :mod:`lightly_studio.core.rle`), and for masks that came from polygons
also ``polygon`` (rings of flat x, y pixel coordinates), kept for exact COCO round trips.

All writes go through :func:`insert_annotation_frame`, which validates a whole polars frame
with vectorised checks and inserts it with one ``INSERT … SELECT`` — so a batch is stored
entirely or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.core import rle
from lightly_studio.core.labels import sql_frame
from lightly_studio.errors import AnnotationError

GROUND_TRUTH = "ground_truth"

# Floating-point slack when checking that a box lies inside the image: COCO boxes such as
# x=153.54, width=326.46 sum to 480.00000000000006 on a 480 px wide image.
_EPS = 1e-6


class AnnotationType(str, Enum):
    """The kind of an annotation; the value is what the database stores."""

    CLASSIFICATION = "classification"
    OBJECT_DETECTION = "object_detection"
    INSTANCE_SEGMENTATION = "instance_segmentation"
    SEMANTIC_SEGMENTATION = "semantic_segmentation"

    def __str__(self) -> str:
        return self.value


_BOXED = (AnnotationType.OBJECT_DETECTION.value, AnnotationType.INSTANCE_SEGMENTATION.value,
          AnnotationType.SEMANTIC_SEGMENTATION.value)
_MASKED = (AnnotationType.INSTANCE_SEGMENTATION.value,
           AnnotationType.SEMANTIC_SEGMENTATION.value)

# The frame every write path builds (ingest, Python API, GUI): one row per annotation.
FRAME_SCHEMA: dict[str, pl.DataType] = {
    "sample_id": pl.Utf8,
    "label": pl.Utf8,
    "annotation_type": pl.Utf8,
    "source": pl.Utf8,
    "confidence": pl.Float64,
    "x": pl.Float64,
    "y": pl.Float64,
    "width": pl.Float64,
    "height": pl.Float64,
    "segmentation_mask": pl.List(pl.Int32),
    "polygon": pl.List(pl.List(pl.Float64)),
    "iscrowd": pl.Boolean,
    # Only for validation and messages; not stored.
    "img_width": pl.Int64,
    "img_height": pl.Int64,
    "where": pl.Utf8,
}


# --- creation requests -------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True)
class CreateClassification:
    """A whole-image class: ``sample.add_annotation(CreateClassification(label="cat"))``."""

    label: str
    confidence: float | None = None
    annotation_source: str = GROUND_TRUTH

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

    @classmethod
    def from_binary_mask(cls, label: str, binary_mask: np.ndarray,
                         confidence: float | None = None,
                         annotation_source: str = GROUND_TRUTH):
        """Build the request from a 2-D mask of the whole image (non-zero = foreground).

        The box is the tight box around the foreground; the mask is stored as row-wise RLE.
        """
        box = rle.bbox_from_mask(binary_mask)
        if box is None:
            raise AnnotationError(f"The binary mask for label {label!r} has no foreground pixel.")
        x, y, w, h = box
        return cls(label=label, confidence=confidence, x=x, y=y, width=w, height=h,
                   segmentation_mask=rle.encode(binary_mask),
                   annotation_source=annotation_source)


@dataclasses.dataclass(kw_only=True)
class CreateInstanceSegmentation(_CreateSegmentation):
    """One object's mask (row-wise RLE of the whole image) and its box."""

    annotation_type = AnnotationType.INSTANCE_SEGMENTATION


@dataclasses.dataclass(kw_only=True)
class CreateSemanticSegmentation(_CreateSegmentation):
    """A class's mask (row-wise RLE of the whole image) and its box."""

    annotation_type = AnnotationType.SEMANTIC_SEGMENTATION


AnnotationCreate = (CreateClassification | CreateObjectDetection | CreateInstanceSegmentation
                    | CreateSemanticSegmentation)


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
        from lightly_studio.core.labels import get_or_create_label_ids
        from lightly_studio.db import transaction

        _check_label(value, self._where())
        with transaction() as con:
            dataset_id = self._dataset_id(con)
            label_id = get_or_create_label_ids(con, dataset_id, [value])[value]
            self._update(con, {"label_id": str(label_id)})
        self._row["label"] = value

    @property
    def confidence(self) -> float | None:
        return self._row.get("confidence")

    @confidence.setter
    def confidence(self, value: float | None) -> None:
        _check_confidence(value, self._where())
        self._write({"confidence": None if value is None else float(value)})

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

    def _image_size(self) -> tuple[int, int]:
        if self._sample is not None:
            return int(self._sample.width), int(self._sample.height)
        from lightly_studio.db import get_connection

        row = get_connection().execute(
            "SELECT width, height FROM sample WHERE sample_id = $1", [str(self.sample_id)]
        ).fetchone()
        if row is None:
            raise AnnotationError(f"{self._where()}its sample no longer exists")
        return int(row[0]), int(row[1])

    def _dataset_id(self, con) -> str:
        if self._sample is not None:
            return str(self._sample.dataset_id)
        row = con.execute("SELECT dataset_id FROM sample WHERE sample_id = $1",
                          [str(self.sample_id)]).fetchone()
        if row is None:
            raise AnnotationError(f"{self._where()}its sample no longer exists")
        return str(row[0])

    def _write(self, values: dict[str, Any]) -> None:
        from lightly_studio.db import transaction

        with transaction() as con:
            self._update(con, values)
        self._row.update(values)

    def _update(self, con, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(values))
        result = con.execute(
            f"""UPDATE annotation SET {sets}, updated_at = ${len(values) + 2},
                   version = version + 1
                WHERE annotation_id = $1""",
            [str(self.annotation_id), *values.values(), dt.datetime.now()],
        ).fetchone()
        if not result or result[0] == 0:
            raise AnnotationError(f"{self._where()}it was deleted")


class ClassificationAnnotation(Annotation):
    """A whole-image class."""

    annotation_type = AnnotationType.CLASSIFICATION


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
        _check_box(box["x"], box["y"], box["width"], box["height"], img_w, img_h, self._where())
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
    from lightly_studio.db import get_connection

    # One sample's few rows: plain tuples beat an Arrow round trip, and `=` beats `IN`.
    cursor = get_connection().execute(
        f"{_SELECT} WHERE a.sample_id = $1 ORDER BY a.created_at, a.annotation_id",
        [str(sample.sample_id)],
    )
    names = [d[0] for d in cursor.description]
    return [annotation_from_row(dict(zip(names, row, strict=True)), sample)
            for row in cursor.fetchall()]


def add_annotations(sample: Any, creates: Iterable[AnnotationCreate]) -> list[Annotation]:
    """Validate and store ``creates`` on ``sample`` in one transaction (all or nothing)."""
    from lightly_studio.db import transaction

    creates = list(creates)
    where = f"sample {getattr(sample, 'file_name', sample.sample_id)!r}"
    rows = [_create_to_row(c, sample, f"{where}, annotation {i}: ")
            for i, c in enumerate(creates)]
    if not rows:
        return []
    frame = pl.DataFrame(rows, schema=FRAME_SCHEMA)
    ids = [str(uuid.uuid4()) for _ in rows]
    frame = frame.with_columns(pl.Series("annotation_id", ids, dtype=pl.Utf8))
    with transaction() as con:
        insert_annotation_frame(con, sample.dataset_id, frame)
    return [annotation_from_row({**row, "annotation_id": aid}, sample)
            for row, aid in zip(frame.drop("img_width", "img_height", "where")
                                .iter_rows(named=True), ids, strict=True)]


def add_annotation(sample: Any, create: AnnotationCreate) -> Annotation:
    return add_annotations(sample, [create])[0]


def delete_annotation(sample: Any, annotation: Annotation | uuid.UUID | str) -> None:
    """Remove one annotation of ``sample``; AnnotationError if the sample has no such one."""
    from lightly_studio.db import transaction

    annotation_id = annotation.annotation_id if isinstance(annotation, Annotation) else annotation
    with transaction() as con:
        result = con.execute(
            "DELETE FROM annotation WHERE annotation_id = $1 AND sample_id = $2",
            [str(annotation_id), str(sample.sample_id)],
        ).fetchone()
    if not result or result[0] == 0:
        raise AnnotationError(
            f"Sample {getattr(sample, 'file_name', sample.sample_id)!r} has no annotation "
            f"{annotation_id}."
        )


# --- bulk frames -------------------------------------------------------------------------------


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=FRAME_SCHEMA)


def insert_annotation_frame(con, dataset_id: uuid.UUID | str, frame: pl.DataFrame) -> int:
    """Validate and insert annotation rows (columns of :data:`FRAME_SCHEMA`; missing optional
    columns are filled with nulls). Labels are created as needed. Run it in a transaction.

    Returns the number of rows inserted.
    """
    from lightly_studio.core.labels import get_or_create_label_ids

    if frame.is_empty():
        return 0
    frame = _complete(frame)
    validate_annotation_frame(frame)
    label_ids = get_or_create_label_ids(con, dataset_id, frame["label"].unique(maintain_order=True))
    now = dt.datetime.now()
    if "annotation_id" not in frame.columns:
        # DuckDB draws the ids (uuid() per row): 50k Python uuid4() calls cost ~1.5 s.
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("annotation_id"))
    insert = frame.select(
        "annotation_id", "sample_id",
        pl.col("label").replace_strict({k: str(v) for k, v in label_ids.items()},
                                       return_dtype=pl.Utf8).alias("label_id"),
        "annotation_type", "source", "confidence", "x", "y", "width", "height",
        "segmentation_mask", "polygon", pl.col("iscrowd").fill_null(False),
        # Microsecond steps keep the insertion order readable back through created_at.
        (pl.lit(now) + pl.duration(microseconds=pl.int_range(pl.len()))).alias("created_at"),
    )
    con.register("_new_annotations", insert)
    try:
        con.execute(
            """INSERT INTO annotation (annotation_id, sample_id, label_id, annotation_type, source,
                   confidence, x, y, width, height, segmentation_mask, polygon, iscrowd,
                   created_at, updated_at, version)
               SELECT coalesce(CAST(annotation_id AS UUID), uuid()), CAST(sample_id AS UUID),
                   CAST(label_id AS UUID), annotation_type, source, confidence, x, y, width,
                   height, segmentation_mask, polygon, iscrowd, created_at, created_at, 1
               FROM _new_annotations"""
        )
    finally:
        con.unregister("_new_annotations")
    return frame.height


def validate_annotation_frame(frame: pl.DataFrame) -> None:
    """Raise AnnotationError naming the first invalid row (vectorised checks)."""
    frame = _complete(frame)
    w, h = pl.col("img_width"), pl.col("img_height")
    x, y, bw, bh = pl.col("x"), pl.col("y"), pl.col("width"), pl.col("height")
    boxed = pl.col("annotation_type").is_in(_BOXED)
    masked = pl.col("annotation_type").is_in(_MASKED)
    conf = pl.col("confidence")
    box_cols = [x, y, bw, bh]
    checks: list[tuple[pl.Expr, str]] = [
        (~pl.col("annotation_type").is_in(list(_CLASSES)),
         "annotation_type must be one of " + ", ".join(_CLASSES)),
        (pl.col("label").is_null() | (pl.col("label").str.strip_chars() == ""),
         "the label is empty"),
        (pl.col("source").is_null() | (pl.col("source").str.strip_chars() == ""),
         "the annotation source is empty"),
        (conf.is_not_null() & (conf.is_nan() | (conf < 0) | (conf > 1)),
         "confidence must be between 0 and 1"),
        (boxed & pl.any_horizontal([c.is_null() | c.is_nan() | c.is_infinite()
                                    for c in box_cols]),
         "x, y, width and height must be finite numbers"),
        (boxed & pl.any_horizontal([c < 0 for c in box_cols]),
         "the box has a negative x, y, width or height"),
        (boxed & ((x + bw > w + _EPS * w.clip(1)) | (y + bh > h + _EPS * h.clip(1))),
         "the box reaches outside the image"),
        (masked & pl.col("segmentation_mask").is_null(),
         "a segmentation needs a segmentation_mask"),
        (masked & (pl.col("segmentation_mask").list.min() < 0),
         "the segmentation_mask has a negative run"),
        (masked & (pl.col("segmentation_mask").list.eval(pl.element().cast(pl.Int64)).list.sum()
                   != w * h),
         "the segmentation_mask runs do not sum to width*height of the image (the RLE covers "
         "the whole image, row by row, starting with background)"),
    ]
    bad = frame.select([expr.fill_null(False).alias(str(i)) for i, (expr, _) in
                        enumerate(checks)])
    for i, (_, message) in enumerate(checks):
        hits = bad[str(i)]
        if hits.any():
            idx = int(hits.arg_true()[0])
            row = frame.row(idx, named=True)
            where = row.get("where") or f"row {idx}: "
            detail = _detail(row)
            more = int(hits.sum()) - 1
            suffix = f" ({more} more rows have this problem)" if more else ""
            raise AnnotationError(f"{where}{message}{detail}{suffix}")


def annotations_frame(con, dataset_id: uuid.UUID | str,
                      sample_ids: Sequence[uuid.UUID | str] | None = None,
                      sample_ids_subquery: tuple[str, list] | None = None,
                      source: str | None = None,
                      types: Sequence[str] | None = None) -> pl.DataFrame:
    """Annotations with their label names as one frame (ids as strings), in insertion order."""
    params: list = [str(dataset_id)]
    where = ["l.dataset_id = $1"]
    if sample_ids is not None:
        params.append([str(s) for s in sample_ids])
        if len(sample_ids) <= 1000:  # a page of samples: a list lookup beats a semi-join
            where.append(f"list_contains(${len(params)}::UUID[], a.sample_id)")
        else:
            where.append(f"a.sample_id IN (SELECT unnest(${len(params)}::UUID[]))")
    if sample_ids_subquery is not None:
        from lightly_studio.core.tags import shift_params

        sub_sql, sub_params = sample_ids_subquery
        where.append(f"a.sample_id IN (SELECT sample_id FROM "
                     f"({shift_params(sub_sql, sub_params, len(params))}))")
        params.extend(sub_params)
    if source is not None:
        params.append(source)
        where.append(f"a.source = ${len(params)}")
    if types is not None:
        params.append([str(t) for t in types])
        where.append(f"list_contains(${len(params)}::VARCHAR[], a.annotation_type)")
    return sql_frame(con, f"""{_SELECT} WHERE {' AND '.join(where)}
                              ORDER BY a.created_at, a.annotation_id""", params)


_SELECT = """SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id,
                    CAST(a.sample_id AS VARCHAR) AS sample_id, l.name AS label,
                    a.annotation_type, a.source, a.confidence, a.x, a.y, a.width, a.height,
                    a.segmentation_mask, a.polygon, a.iscrowd
             FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id"""


# --- helpers -----------------------------------------------------------------------------------


def _complete(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in FRAME_SCHEMA.items()
               if c not in frame.columns]
    frame = frame.with_columns(missing) if missing else frame
    if frame.schema["source"] == pl.Null or frame["source"].null_count() == frame.height:
        frame = frame.with_columns(pl.lit(GROUND_TRUTH).alias("source"))
    return frame


def _detail(row: dict[str, Any]) -> str:
    parts = [f"{k}={row[k]!r}" for k in ("label", "confidence", "x", "y", "width", "height")
             if row.get(k) is not None]
    if row.get("img_width") is not None:
        parts.append(f"image {row['img_width']}x{row['img_height']}")
    return f" ({', '.join(parts)})" if parts else ""


def _check_label(value: Any, where: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(f"{where}the label must be a non-empty string, got {value!r}")


def _check_confidence(value: Any, where: str) -> None:
    if value is None:
        return
    try:
        ok = 0.0 <= float(value) <= 1.0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise AnnotationError(f"{where}confidence must be between 0 and 1, got {value!r}")


def _check_box(x: float, y: float, w: float, h: float, img_w: int, img_h: int,
               where: str) -> None:
    frame = pl.DataFrame([{"label": "_", "annotation_type": "object_detection",
                           "source": GROUND_TRUTH, "x": x, "y": y, "width": w, "height": h,
                           "img_width": img_w, "img_height": img_h, "where": where}],
                         schema={k: FRAME_SCHEMA[k] for k in (
                             "label", "annotation_type", "source", "x", "y", "width", "height",
                             "img_width", "img_height", "where")})
    validate_annotation_frame(frame)


def _number(value: Any, name: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise AnnotationError(f"{where}{name} must be a number, got {value!r}")
    return float(value)


def _create_to_row(create: Any, sample: Any, where: str) -> dict[str, Any]:
    kind = getattr(create, "annotation_type", None)
    if kind is None or not dataclasses.is_dataclass(create):
        raise AnnotationError(
            f"{where}expected CreateClassification, CreateObjectDetection, "
            f"CreateInstanceSegmentation or CreateSemanticSegmentation, got {create!r}")
    _check_label(create.label, where)
    _check_confidence(create.confidence, where)
    row: dict[str, Any] = {
        "sample_id": str(sample.sample_id), "label": create.label,
        "annotation_type": AnnotationType(kind).value,
        "source": create.annotation_source,
        "confidence": _number(create.confidence, "confidence", where),
        "img_width": int(sample.width), "img_height": int(sample.height), "where": where,
        "iscrowd": bool(getattr(create, "iscrowd", False)),
    }
    if row["annotation_type"] in _BOXED:
        for name in ("x", "y", "width", "height"):
            row[name] = _number(getattr(create, name), name, where)
    if row["annotation_type"] in _MASKED:
        runs = rle.validate(create.segmentation_mask, int(sample.width), int(sample.height),
                            where)
        if runs.size and runs.max() > np.iinfo(np.int32).max:
            raise AnnotationError(f"{where}a segmentation_mask run does not fit in 32 bits")
        row["segmentation_mask"] = runs.astype(np.int32).tolist()
        if create.polygon is not None:
            row["polygon"] = [[float(v) for v in ring] for ring in create.polygon]
    return row
