"""Annotations: the entity's constants, its validation, and every statement over ``annotation``.

One write path each: rows are inserted only by :func:`insert_annotation_frame` (vectorised
validation of a whole polars frame, then one ``INSERT … SELECT``, so a batch is stored
entirely or not at all), changed only by :func:`update_annotation` (which bumps ``version``)
and removed only by :func:`delete_annotation`. The Python API (``core.annotation``), the
annotator (``api.annotator``), plugins (``resolvers``) and importers (``ingest``) all call
these, after the same value checks (``check_*``, :func:`shape_values`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.errors import AnnotationConflictError, AnnotationError
from lightly_studio.shapes import rle
from lightly_studio.shapes.geometry import clip_box, clip_polygon
from lightly_studio.store.labels import get_or_create_label_ids

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


TYPES = tuple(t.value for t in AnnotationType)
BOXED = (
    AnnotationType.OBJECT_DETECTION.value,
    AnnotationType.INSTANCE_SEGMENTATION.value,
    AnnotationType.SEMANTIC_SEGMENTATION.value,
)
MASKED = (AnnotationType.INSTANCE_SEGMENTATION.value, AnnotationType.SEMANTIC_SEGMENTATION.value)

# The frame every write path builds (ingest, Python API, GUI): one row per annotation.
FRAME_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
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


# --- value checks (one set for every write path) -----------------------------------------------


def check_label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(
            f"{where}the label (class name) must be a non-empty string, got {value!r}"
        )
    return value


def check_source(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(f"{where}the annotation source must be a non-empty string")
    return value


def check_number(value: Any, name: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise AnnotationError(f"{where}{name} must be a number, got {value!r}")
    return float(value)


def check_confidence(value: Any, where: str) -> float | None:
    """None, or a number in [0, 1] (NaN is not)."""
    number = check_number(value, "confidence", where)
    if number is not None and not 0.0 <= number <= 1.0:
        raise AnnotationError(f"{where}confidence must be between 0 and 1, got {value!r}")
    return number


def check_mask(runs: Any, width: int, height: int, where: str) -> list[int]:
    """Row-wise RLE runs of a ``width x height`` image, each fitting the stored INTEGER."""
    arr = rle.validate(runs, width, height, where)
    if arr.size and arr.max() > np.iinfo(np.int32).max:
        raise AnnotationError(f"{where}a segmentation_mask run does not fit in 32 bits")
    return arr.astype(np.int64).tolist()


def polygon_to_rle(rings: list[list[float]], width: int, height: int) -> list[int]:
    """Rasterise polygon rings exactly as COCO does (pycocotools), as our row-wise RLE."""
    return rle.encode(rle.coco_segmentation_to_mask(rings, width, height))


def shape_values(
    kind: str, spec: dict, width: int, height: int, where: str, partial: bool
) -> dict[str, Any]:
    """The stored geometry columns for a shape as the annotator sends it (``box`` [x, y, w, h],
    ``polygon`` rings, ``rle`` runs). Boxes and polygons are clipped to the image; shapes under
    the minimum size, polygons with fewer than 3 points and empty masks are refused. A
    segmentation's box always follows its mask. ``partial``: only the given keys change."""
    if kind == AnnotationType.CLASSIFICATION.value:
        if any(spec.get(k) is not None for k in ("box", "polygon", "rle")):
            raise AnnotationError(f"{where}a classification has no box, polygon or mask")
        return {}
    if kind == AnnotationType.OBJECT_DETECTION.value:
        if spec.get("box") is None:
            if partial and "box" not in spec:
                return {}
            raise AnnotationError(f"{where}an object detection needs a box [x, y, w, h]")
        x, y, bw, bh = clip_box(spec["box"], width, height, where)
        return {"x": x, "y": y, "width": bw, "height": bh}
    polygon = spec.get("polygon")
    runs = spec.get("rle")
    if polygon is not None:
        polygon = clip_polygon(polygon, width, height, where)
    if runs is not None:
        runs = rle.validate(runs, width, height, where).astype(np.int64).tolist()
    elif polygon is not None:
        runs = polygon_to_rle(polygon, width, height)
    elif partial and "rle" not in spec:
        if "polygon" in spec:
            raise AnnotationError(f"{where}a segmentation needs a polygon or a mask")
        if "box" in spec:
            raise AnnotationError(f"{where}a segmentation's box follows its mask; edit the mask")
        return {}
    else:
        raise AnnotationError(f"{where}a segmentation needs a polygon or a mask (rle)")
    box = rle.bbox_from_rle(runs, width)
    if box is None:
        raise AnnotationError(f"{where}the mask is degenerate: it has no foreground pixel")
    if max(runs) > np.iinfo(np.int32).max:
        raise AnnotationError(f"{where}a mask run does not fit in 32 bits")
    x, y, bw, bh = box
    return {
        "x": float(x),
        "y": float(y),
        "width": float(bw),
        "height": float(bh),
        "segmentation_mask": runs,
        "polygon": polygon,
    }


def validate_annotation_frame(frame: pl.DataFrame) -> None:
    """Raise AnnotationError naming the first invalid row (vectorised checks)."""
    frame = complete_frame(frame)
    w, h = pl.col("img_width"), pl.col("img_height")
    x, y, bw, bh = pl.col("x"), pl.col("y"), pl.col("width"), pl.col("height")
    boxed = pl.col("annotation_type").is_in(BOXED)
    masked = pl.col("annotation_type").is_in(MASKED)
    conf = pl.col("confidence")
    box_cols = [x, y, bw, bh]
    checks: list[tuple[pl.Expr, str]] = [
        (
            ~pl.col("annotation_type").is_in(list(TYPES)),
            "annotation_type must be one of " + ", ".join(TYPES),
        ),
        (
            pl.col("label").is_null() | (pl.col("label").str.strip_chars() == ""),
            "the label is empty",
        ),
        (
            pl.col("source").is_null() | (pl.col("source").str.strip_chars() == ""),
            "the annotation source is empty",
        ),
        (
            conf.is_not_null() & (conf.is_nan() | (conf < 0) | (conf > 1)),
            "confidence must be between 0 and 1",
        ),
        (
            boxed
            & pl.any_horizontal([c.is_null() | c.is_nan() | c.is_infinite() for c in box_cols]),
            "x, y, width and height must be finite numbers",
        ),
        (
            boxed & pl.any_horizontal([c < 0 for c in box_cols]),
            "the box has a negative x, y, width or height",
        ),
        (
            boxed & ((x + bw > w + _EPS * w.clip(1)) | (y + bh > h + _EPS * h.clip(1))),
            "the box reaches outside the image",
        ),
        (
            masked & pl.col("segmentation_mask").is_null(),
            "a segmentation needs a segmentation_mask",
        ),
        (
            masked & (pl.col("segmentation_mask").list.min() < 0),
            "the segmentation_mask has a negative run",
        ),
        (
            masked
            & (
                pl.col("segmentation_mask").list.eval(pl.element().cast(pl.Int64)).list.sum()
                != w * h
            ),
            "the segmentation_mask runs do not sum to width*height of the image (the RLE covers "
            "the whole image, row by row, starting with background)",
        ),
        (
            pl.col("start_s").is_null() != pl.col("end_s").is_null(),
            "a time span needs both start_s and end_s",
        ),
        (
            pl.col("start_s").is_nan()
            | pl.col("end_s").is_nan()
            | (pl.col("start_s") < 0)
            | (pl.col("end_s") < pl.col("start_s")),
            "the time span must have 0 <= start_s <= end_s",
        ),
        (
            pl.col("start_s").is_not_null()
            & (pl.col("annotation_type") != AnnotationType.CLASSIFICATION.value),
            "only a classification can have a time span",
        ),
    ]
    bad = frame.select([expr.fill_null(False).alias(str(i)) for i, (expr, _) in enumerate(checks)])
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


def check_box(x: float, y: float, w: float, h: float, img_w: int, img_h: int, where: str) -> None:
    """A stored box (not clipped): finite, non-negative, inside the image."""
    frame = pl.DataFrame(
        [
            {
                "label": "_",
                "annotation_type": "object_detection",
                "source": GROUND_TRUTH,
                "x": x,
                "y": y,
                "width": w,
                "height": h,
                "img_width": img_w,
                "img_height": img_h,
                "where": where,
            }
        ],
        schema={
            k: FRAME_SCHEMA[k]
            for k in (
                "label",
                "annotation_type",
                "source",
                "x",
                "y",
                "width",
                "height",
                "img_width",
                "img_height",
                "where",
            )
        },
    )
    validate_annotation_frame(frame)


# Optional columns of video annotations: the object track of a frame annotation, the time
# span of a classification on a video. Apart from FRAME_SCHEMA so image importers need not
# know them; filled with nulls like its missing columns.
VIDEO_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "track_id": pl.Int64,
    "start_s": pl.Float64,
    "end_s": pl.Float64,
}


def complete_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the missing columns of FRAME_SCHEMA and VIDEO_COLUMNS as nulls, source
    ground truth if none is given."""
    missing = [
        pl.lit(None, dtype=t).alias(c)
        for c, t in {**FRAME_SCHEMA, **VIDEO_COLUMNS}.items()
        if c not in frame.columns
    ]
    frame = frame.with_columns(missing) if missing else frame
    if frame.schema["source"] == pl.Null or frame["source"].null_count() == frame.height:
        frame = frame.with_columns(pl.lit(GROUND_TRUTH).alias("source"))
    return frame


def _detail(row: dict[str, Any]) -> str:
    parts = [
        f"{k}={row[k]!r}"
        for k in ("label", "confidence", "x", "y", "width", "height")
        if row.get(k) is not None
    ]
    if row.get("img_width") is not None:
        parts.append(f"image {row['img_width']}x{row['img_height']}")
    return f" ({', '.join(parts)})" if parts else ""


# --- writes ------------------------------------------------------------------------------------


def insert_annotation_frame(con, dataset_id: uuid.UUID | str, frame: pl.DataFrame) -> int:
    """Validate and insert annotation rows (columns of :data:`FRAME_SCHEMA`, optionally
    ``annotation_id``; missing optional columns are filled with nulls). Labels are created as
    needed. Run it in a transaction. Returns the number of rows inserted.
    """
    if frame.is_empty():
        return 0
    frame = complete_frame(frame)
    validate_annotation_frame(frame)
    label_ids = get_or_create_label_ids(con, dataset_id, frame["label"].unique(maintain_order=True))
    now = dt.datetime.now()
    if "annotation_id" not in frame.columns:
        # DuckDB draws the ids (uuid() per row): cheaper than a Python uuid4() per row.
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("annotation_id"))
    insert = frame.select(
        "annotation_id",
        "sample_id",
        pl.col("label")
        .replace_strict({k: str(v) for k, v in label_ids.items()}, return_dtype=pl.Utf8)
        .alias("label_id"),
        "annotation_type",
        "source",
        "confidence",
        "x",
        "y",
        "width",
        "height",
        "segmentation_mask",
        "polygon",
        pl.col("iscrowd").fill_null(False),
        "track_id",
        "start_s",
        "end_s",
        # Microsecond steps keep the insertion order readable back through created_at.
        (pl.lit(now) + pl.duration(microseconds=pl.int_range(pl.len()))).alias("created_at"),
    )
    con.register("_new_annotations", insert)
    try:
        con.execute(
            """INSERT INTO annotation (annotation_id, sample_id, label_id, annotation_type, source,
                   confidence, x, y, width, height, segmentation_mask, polygon, iscrowd,
                   track_id, start_s, end_s, created_at, updated_at, version)
               SELECT coalesce(CAST(annotation_id AS UUID), uuid()), CAST(sample_id AS UUID),
                   CAST(label_id AS UUID), annotation_type, source, confidence, x, y, width,
                   height, segmentation_mask, polygon, iscrowd, track_id, start_s, end_s,
                   created_at, created_at, 1
               FROM _new_annotations"""
        )
    finally:
        con.unregister("_new_annotations")
    return frame.height


_CASTS = {"segmentation_mask": "::INTEGER[]", "polygon": "::DOUBLE[][]", "label_id": "::UUID"}


def update_annotation(con, annotation_id: uuid.UUID | str, values: dict[str, Any]) -> int:
    """Set columns of one annotation and bump its ``version``; returns the rows changed (0
    when it no longer exists). ``label_id`` (not the name) changes its class."""
    sets = "".join(f"{k} = ${i + 2}{_CASTS.get(k, '')}, " for i, k in enumerate(values))
    row = con.execute(
        f"UPDATE annotation SET {sets}updated_at = ${len(values) + 2}, version = version + 1 "
        "WHERE annotation_id = $1",
        [str(annotation_id), *values.values(), dt.datetime.now()],
    ).fetchone()
    return row[0] if row else 0


def delete_annotation(
    con, annotation_id: uuid.UUID | str, sample_id: uuid.UUID | str | None = None
) -> int:
    """Remove one annotation (of ``sample_id`` when given); returns the rows removed."""
    params = [str(annotation_id)]
    extra = ""
    if sample_id is not None:
        params.append(str(sample_id))
        extra = " AND sample_id = $2"
    row = con.execute(f"DELETE FROM annotation WHERE annotation_id = $1{extra}", params).fetchone()
    return row[0] if row else 0


def delete_source_annotations(
    con, source: str, annotation_type: str, subquery: tuple[str, list]
) -> int:
    """Remove the ``annotation_type`` annotations of ``source`` on the samples an (sql, params)
    subquery selects (a classifier's earlier apply); returns the rows removed."""
    sql, params = subquery
    n = len(params)
    row = con.execute(
        f"""DELETE FROM annotation WHERE source = ${n + 1} AND annotation_type = ${n + 2}
            AND sample_id IN (SELECT sample_id FROM ({sql}) _q)""",
        [*params, source, annotation_type],
    ).fetchone()
    return row[0] if row else 0


# --- reads -------------------------------------------------------------------------------------

_COLUMNS = """CAST(a.annotation_id AS VARCHAR) AS annotation_id,
              CAST(a.sample_id AS VARCHAR) AS sample_id, l.name AS label,
              a.annotation_type, a.source, a.confidence, a.x, a.y, a.width, a.height,
              a.segmentation_mask, a.polygon, a.iscrowd, a.track_id, a.start_s, a.end_s"""
_FROM = "FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id"


def sample_annotations(
    con, sample_id: uuid.UUID | str, annotation_id: uuid.UUID | str | None = None
) -> list[dict[str, Any]]:
    """One sample's annotations (or the one ``annotation_id``) as dicts with label names and
    ``version``, in the order they were added."""
    params = [str(sample_id)]
    extra = ""
    if annotation_id is not None:
        params.append(str(annotation_id))
        extra = " AND a.annotation_id = $2"
    # One sample's few rows: plain tuples beat an Arrow round trip, and `=` beats `IN`.
    cursor = con.execute(
        f"SELECT {_COLUMNS}, a.version {_FROM} WHERE a.sample_id = $1{extra} "
        "ORDER BY a.created_at, a.annotation_id",
        params,
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def annotations_frame(
    con,
    dataset_id: uuid.UUID | str,
    sample_ids: Sequence[uuid.UUID | str] | None = None,
    sample_ids_subquery: tuple[str, list] | None = None,
    source: str | None = None,
    types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Annotations with their label names as one frame (ids as strings), in insertion order."""
    params: list = []
    where: list[str] = []
    if sample_ids_subquery is not None:
        # First, so its own $1.. placeholders need no renumbering.
        sub_sql, sub_params = sample_ids_subquery
        where.append(f"a.sample_id IN (SELECT sample_id FROM ({sub_sql}))")
        params.extend(sub_params)
    params.append(str(dataset_id))
    where.append(f"l.dataset_id = ${len(params)}")
    if sample_ids is not None:
        params.append([str(s) for s in sample_ids])
        if len(sample_ids) <= 1000:  # a page of samples: a list lookup beats a semi-join
            where.append(f"list_contains(${len(params)}::UUID[], a.sample_id)")
        else:
            where.append(f"a.sample_id IN (SELECT unnest(${len(params)}::UUID[]))")
    if source is not None:
        params.append(source)
        where.append(f"a.source = ${len(params)}")
    if types is not None:
        params.append([str(t) for t in types])
        where.append(f"list_contains(${len(params)}::VARCHAR[], a.annotation_type)")
    return query_frame(
        f"""SELECT {_COLUMNS} {_FROM} WHERE {" AND ".join(where)}
                           ORDER BY a.created_at, a.annotation_id""",
        params,
        con,
    )


def current_annotation(con, annotation_id: uuid.UUID | str, version: Any = None) -> dict:
    """sample_id, version, source, annotation_type of one annotation — the optimistic
    concurrency check of an edit: AnnotationError when it was deleted, AnnotationConflictError
    when ``version`` (the one the editor last saw; None: unchecked) is no longer current."""
    row = con.execute(
        "SELECT CAST(sample_id AS VARCHAR), version, source, annotation_type FROM annotation "
        "WHERE annotation_id = $1",
        [str(annotation_id)],
    ).fetchall()
    if not row:
        raise AnnotationError(
            f"annotation {annotation_id} was deleted (from Python or another "
            "view); reload the sample"
        )
    sample_id, current_version, source, kind = row[0]
    if version is not None and version != current_version:
        raise AnnotationConflictError(
            f"annotation {annotation_id} on sample {sample_id} was changed elsewhere (version "
            f"{current_version}, this edit was made on version {version}); nothing was saved — "
            "the sample is reloaded with the other change, redo yours on top of it"
        )
    return {
        "sample_id": sample_id,
        "version": current_version,
        "source": source,
        "annotation_type": kind,
    }


def find_annotation_ids(
    con, sample_id: uuid.UUID | str, annotation_type: str, source: str, label: str
) -> list[str]:
    """Ids of the sample's annotations of that type, source and class name."""
    rows = con.execute(
        f"""SELECT CAST(a.annotation_id AS VARCHAR) {_FROM}
            WHERE a.sample_id = $1 AND a.annotation_type = $2 AND a.source = $3
              AND l.name = $4""",
        [str(sample_id), annotation_type, source, label],
    ).fetchall()
    return [r[0] for r in rows]


def annotation_sources(con, dataset_id: uuid.UUID | str) -> list[str]:
    """The distinct sources of the dataset's annotations, sorted."""
    rows = con.execute(
        """SELECT DISTINCT a.source FROM annotation a
           JOIN sample s ON s.sample_id = a.sample_id WHERE s.dataset_id = $1
           ORDER BY a.source""",
        [str(dataset_id)],
    ).fetchall()
    return [s for (s,) in rows]


def source_type_counts(con, dataset_id: uuid.UUID | str) -> list[tuple[str, str, int]]:
    """(source, annotation type, count) of the dataset's annotations, sorted."""
    rows = con.execute(
        """SELECT a.source, a.annotation_type, count(*) FROM annotation a
           JOIN sample s ON s.sample_id = a.sample_id WHERE s.dataset_id = $1
           GROUP BY ALL ORDER BY a.source, a.annotation_type""",
        [str(dataset_id)],
    ).fetchall()
    return [(source, kind, int(n)) for source, kind, n in rows]


def sample_revision(con, sample_id: uuid.UUID | str) -> str:
    """An order-free fingerprint of (id, version) of every annotation and (id, text) of every
    caption of the sample: any add, edit or delete from anywhere changes it."""
    row = con.execute(
        """SELECT (SELECT count(*) || ':' || coalesce(sum(hash(annotation_id, version)), 0)
                   FROM annotation WHERE sample_id = $1)
                  || '/' ||
                  (SELECT count(*) || ':' || coalesce(sum(hash(caption_id, text)), 0)
                   FROM caption WHERE sample_id = $1)""",
        [str(sample_id)],
    ).fetchall()
    return str(row[0][0])


def label_counts(con, subquery: tuple[str, list], source: str | None = None) -> pl.DataFrame:
    """sample_id (str), label, n: how many annotations (of ``source``; None: any) each sample
    of an (sql, params) subquery has per label."""
    sql, params = subquery
    source_filter = "" if source is None else f" AND a.source = ${len(params) + 1}"
    return query_frame(
        f"""SELECT CAST(a.sample_id AS VARCHAR) AS sample_id, l.name AS label,
                   count(*) AS n
            FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id
            WHERE a.sample_id IN ({sql}){source_filter}
            GROUP BY ALL""",
        [*params, *([] if source is None else [source])],
        con,
    )
