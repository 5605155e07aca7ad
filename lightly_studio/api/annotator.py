"""The annotator's api: one sample with its labels, and every edit the annotation view makes.

Transport-free like the other api modules: each function takes a JSON ``params`` dict and
returns ``(result, buffers)``. Every edit runs in one transaction and answers with the stored
annotation (or caption) plus the sample's new ``revision``, so a view can tell its own edits
from edits made elsewhere (see :func:`annotator_revision`).

Annotation JSON (what the view reads and sends)::

    {"annotation_id", "sample_id", "label", "type", "source", "confidence",
     "box": [x, y, w, h] | null,            # pixels, top-left origin
     "rle": [bg, fg, bg, ...] | null,       # row-wise RLE of the whole image (shapes.rle)
     "polygon": [[x0, y0, x1, y1, ...], ...] | null, "iscrowd", "version"}

Validation: boxes are clipped to the image; a shape with less than 1 px of width or height
after clipping, a polygon with fewer than 3 points or no area, and an empty mask are rejected
with an ``AnnotationError`` naming the sample. The checks and every write are those of
:mod:`lightly_studio.store.annotations` / :mod:`lightly_studio.store.captions`, the same the
Python API uses.

Concurrency — **conflict message**: every annotation row has a ``version`` that each write
(from here or from Python's ``annotation.label = …``, ``set_box`` …) increments. An update or
delete from the view carries the version it last saw; when the row has changed since (Python
edited it meanwhile), nothing is written and ``AnnotationConflictError`` says so, naming the
annotation and both versions. The view then shows that message and reloads the sample, so
the Python edit stays and the user can redo theirs on top of it. A row deleted meanwhile
gives an ``AnnotationError`` ("was deleted").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import polars as pl

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, int_param, query_from_spec, show, uuid_param
from lightly_studio.api.samples import page_query
from lightly_studio.api.thumbnails import picture_of
from lightly_studio.db import get_connection, transaction
from lightly_studio.errors import AnnotationConflictError, AnnotationError, QueryError  # noqa: F401
from lightly_studio.store import annotations as store
from lightly_studio.store import captions as caption_store
from lightly_studio.store import samples as sample_store
from lightly_studio.store import videos as videos_store
from lightly_studio.store.annotations import (
    FRAME_SCHEMA,
    GROUND_TRUTH,
    TYPES,
    check_confidence,
    check_label,
    check_source,
    polygon_to_rle,  # noqa: F401  (this module's public helper before #25)
    shape_values,
)
from lightly_studio.store.captions import check_text
from lightly_studio.store.labels import get_or_create_label_ids, list_labels

# --- reads ---------------------------------------------------------------------------------------


@method("annotator_sample", c.AnnotatorSampleParams, c.AnnotatorSampleResult, buffers_out=True)
def annotator_sample(params: dict) -> tuple[Any, list[bytes]]:
    """One sample to annotate, with its annotations (incl. versions), captions, the dataset's
    labels and sources, its ``revision`` and — with ``image: true`` — the original file's
    bytes as the one buffer.

    Which sample: ``{"dataset_id", "sample_id"}``, or ``{"spec", "index"}`` (the index-th
    sample of a query spec, for stepping). With both a spec and a sample_id, ``index`` is the
    sample's position in the spec's results (null when it is not among them).
    """
    con = get_connection()
    spec = params.get("spec")
    index = params.get("index")
    total = None
    query = None
    if spec is not None:
        query = query_from_spec(spec)
        total = query.count()
    if params.get("sample_id"):
        sample_id = str(uuid_param(params["sample_id"], "sample"))
        if query is not None and index is None:
            ids = [str(i) for i in query.sample_ids()]
            index = ids.index(sample_id) if sample_id in ids else None
    elif query is not None:
        assert total is not None  # counted with the query
        index = int_param(index, "index")
        if total == 0:
            return {"sample": None, "index": 0, "total": 0}, []
        index = min(index, total - 1)
        sample_id = str(page_query(query, index, 1).sample_ids()[0])
    else:
        raise QueryError("annotator_sample needs a sample_id or a spec and an index.")
    sample = sample_store.annotated_sample(con, sample_id)
    if params.get("dataset_id") and str(params["dataset_id"]) != sample["dataset_id"]:
        raise QueryError(f"Sample {sample_id} is not in dataset {params['dataset_id']}.")
    result = {
        "sample": {
            k: sample[k] for k in ("sample_id", "dataset_id", "file_name", "width", "height")
        },
        "index": index,
        "total": total,
        "annotations": _annotations(con, sample_id),
        "captions": [
            {"caption_id": cid, "text": text}
            for cid, text in caption_store.sample_captions(con, sample_id)
        ],
        **_labels_and_sources(con, sample["dataset_id"]),
        "revision": store.sample_revision(con, sample_id),
    }
    if sample["kind"] == "frame":
        # For the annotator's previous/next-frame keys (frames of the same video).
        result["frame"] = videos_store.neighbour_frames(con, sample_id)
    buffers: list[bytes] = []
    if params.get("image"):
        data, result["mime"] = picture_of(
            sample["file_path_abs"], sample["kind"], sample["timestamp_s"]
        )
        buffers.append(data)
    return result, buffers


@method("annotator_revision", c.SampleIdParams, c.RevisionResult)
def annotator_revision(params: dict) -> tuple[Any, list[bytes]]:
    """The sample's revision: changes whenever one of its annotations or captions is added,
    edited or removed, from anywhere. Cheap enough for a view to poll."""
    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    return {
        "sample_id": sample_id,
        "revision": store.sample_revision(get_connection(), sample_id),
    }, []


@method("labels_list", c.DatasetIdParams, c.LabelsResult)
def labels_list(params: dict) -> tuple[Any, list[bytes]]:
    """The dataset's class names (creation order, with annotation counts) and sources."""
    dataset = dataset_of(params.get("dataset_id"))
    return _labels_and_sources(get_connection(), str(dataset.dataset_id)), []


@method("label_create", c.LabelCreateParams, c.LabelCreateResult)
def label_create(params: dict) -> tuple[Any, list[bytes]]:
    """Create a class name on the fly (idempotent)."""
    dataset = dataset_of(params.get("dataset_id"))
    name = _label(params.get("name"), f"dataset {dataset.name!r}: ")
    with transaction() as con:
        label_id = get_or_create_label_ids(con, dataset.dataset_id, [name])[name]
        out = _labels_and_sources(con, str(dataset.dataset_id))
    return {"label_id": str(label_id), "name": name, **out}, []


# --- annotation edits ----------------------------------------------------------------------------


@method("annotation_create", c.AnnotationCreateParams, c.AnnotationResult)
def annotation_create(params: dict) -> tuple[Any, list[bytes]]:
    """Store a new annotation on a sample: ``{"sample_id", "annotation": {type, label,
    source?, confidence?, box? | polygon? | rle?}}``.

    Boxes are clipped to the image. A segmentation takes ``rle`` as its mask when given
    (``polygon`` is then kept as given, for editing), else the mask is ``polygon`` rasterised
    the way COCO does (pycocotools), so a COCO export gives back the same pixels.
    """
    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    spec = params.get("annotation")
    if not isinstance(spec, dict):
        raise AnnotationError("annotation_create needs an 'annotation' object.")
    with transaction() as con:
        sample = sample_store.annotated_sample(con, sample_id)
        where = _where(sample)
        kind = spec.get("type")
        if kind not in TYPES:
            raise AnnotationError(f"{where}type must be one of {', '.join(TYPES)}, got {kind!r}")
        values = {
            "annotation_type": kind,
            "source": check_source(spec.get("source", GROUND_TRUTH), where),
            "confidence": check_confidence(spec.get("confidence"), where),
            "iscrowd": bool(spec.get("iscrowd", False)),
        }
        values.update(
            shape_values(kind, spec, sample["width"], sample["height"], where, partial=False)
        )
        label = _label(spec.get("label"), where)
        annotation_id = _insert(con, sample, label, values)
        return _answer(con, sample_id, annotation_id), []


@method("annotation_update", c.AnnotationUpdateParams, c.AnnotationResult)
def annotation_update(params: dict) -> tuple[Any, list[bytes]]:
    """Change an annotation: ``{"annotation_id", "version", "changes": {label?, box?,
    polygon?, rle?, confidence?}}``; ``version`` is the one the view last saw (conflict
    check, see the module doc). Setting ``rle`` without ``polygon`` drops the polygon (the
    mask was painted, the polygon no longer describes it)."""
    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    changes = params.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise AnnotationError(f"annotation {annotation_id}: nothing to change")
    unknown = set(changes) - {"label", "box", "polygon", "rle", "confidence"}
    if unknown:
        raise AnnotationError(
            f"annotation {annotation_id}: cannot change {', '.join(sorted(unknown))}"
        )
    with transaction() as con:
        current = store.current_annotation(con, annotation_id, params.get("version"))
        sample = sample_store.annotated_sample(con, current["sample_id"])
        where = _where(sample, annotation_id)
        values: dict[str, Any] = {}
        if "label" in changes:
            name = _label(changes["label"], where)
            values["label_id"] = str(
                get_or_create_label_ids(con, sample["dataset_id"], [name])[name]
            )
        if "confidence" in changes:
            values["confidence"] = check_confidence(changes["confidence"], where)
        geometry = {k: changes[k] for k in ("box", "polygon", "rle") if k in changes}
        if geometry:
            values.update(
                shape_values(
                    current["annotation_type"],
                    geometry,
                    sample["width"],
                    sample["height"],
                    where,
                    partial=True,
                )
            )
        store.update_annotation(con, annotation_id, values)
        return _answer(con, current["sample_id"], annotation_id), []


@method("annotation_delete", c.AnnotationRef, c.AnnotationDeleteResult)
def annotation_delete(params: dict) -> tuple[Any, list[bytes]]:
    """Remove an annotation (``version`` optional, checked when given). Answers with the
    removed annotation, so a view can undo by creating it again."""
    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    with transaction() as con:
        current = store.current_annotation(con, annotation_id, params.get("version"))
        removed = _annotations(con, current["sample_id"], annotation_id)[0]
        store.delete_annotation(con, annotation_id)
        return {
            "deleted": removed,
            "revision": store.sample_revision(con, current["sample_id"]),
        }, []


@method("annotation_accept", c.AnnotationRef, c.AnnotationResult)
def annotation_accept(params: dict) -> tuple[Any, list[bytes]]:
    """Copy a prediction into ground truth (same class and geometry, no confidence). The
    prediction stays; the answer is the new ground-truth annotation."""
    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    with transaction() as con:
        current = store.current_annotation(con, annotation_id, params.get("version"))
        if current["source"] == GROUND_TRUTH:
            raise AnnotationError(
                f"annotation {annotation_id} is ground truth already; only "
                "predictions can be accepted"
            )
        [row] = store.sample_annotations(con, current["sample_id"], annotation_id)
        sample = sample_store.annotated_sample(con, current["sample_id"])
        values = {
            k: row[k]
            for k in (
                "annotation_type",
                "x",
                "y",
                "width",
                "height",
                "segmentation_mask",
                "polygon",
                "iscrowd",
            )
        }
        new_id = _insert(
            con, sample, row["label"], {**values, "source": GROUND_TRUTH, "confidence": None}
        )
        return _answer(con, current["sample_id"], new_id), []


@method("classification_add", c.ClassificationAddParams, c.ClassificationAddResult)
def classification_add(params: dict) -> tuple[Any, list[bytes]]:
    """Give the whole image a ground-truth class (``{"sample_id", "label"}``). Adding a class
    the sample has already returns the existing annotation (``created: false``)."""
    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    source = GROUND_TRUTH
    with transaction() as con:
        sample = sample_store.annotated_sample(con, sample_id)
        label = _label(params.get("label"), _where(sample))
        existing = store.find_annotation_ids(con, sample_id, "classification", source, label)
        if existing:
            return {**_answer(con, sample_id, existing[0]), "created": False}, []
        annotation_id = _insert(
            con,
            sample,
            label,
            {
                "annotation_type": "classification",
                "source": source,
                "confidence": None,
                "iscrowd": False,
            },
        )
        return {**_answer(con, sample_id, annotation_id), "created": True}, []


# --- captions ------------------------------------------------------------------------------------


@method("caption_add", c.CaptionAddParams, c.CaptionResult)
def caption_add(params: dict) -> tuple[Any, list[bytes]]:
    """Add a caption ``{"sample_id", "text"}``; answers ``{"caption": {caption_id, text}}``."""
    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    with transaction() as con:
        sample = sample_store.annotated_sample(con, sample_id)
        where = _where(sample)
        text = check_text(params.get("text"), where)
        created_at = _timestamp(params.get("created_at"), where)
        caption_id = (
            str(uuid_param(params["caption_id"], "caption", "caption_id"))
            if params.get("caption_id")
            else str(uuid.uuid4())
        )
        # An id is given only to put a deleted caption back (undo); never a second copy.
        if caption_store.get_caption(con, caption_id) is not None:
            raise AnnotationError(f"{where}caption {caption_id} exists already")
        caption_store.insert_caption_frame(
            con,
            pl.DataFrame(
                {
                    "caption_id": [caption_id],
                    "sample_id": [sample_id],
                    "text": [text],
                    "created_at": [created_at],
                },
                schema_overrides={"created_at": pl.Datetime("us")},
            ),
        )
        return {
            "caption": {"caption_id": caption_id, "text": text},
            "revision": store.sample_revision(con, sample_id),
        }, []


@method("caption_update", c.CaptionUpdateParams, c.CaptionUpdateResult)
def caption_update(params: dict) -> tuple[Any, list[bytes]]:
    """Replace a caption's text; answers the old text too (for undo)."""
    caption_id = str(uuid_param(params.get("caption_id"), "caption"))
    with transaction() as con:
        old = _caption(con, caption_id)
        text = check_text(params.get("text"), f"caption {caption_id}: ")
        caption_store.update_caption_text(con, caption_id, text)
        return {
            "caption": {"caption_id": caption_id, "text": text},
            "old_text": old["text"],
            "revision": store.sample_revision(con, old["sample_id"]),
        }, []


@method("caption_delete", c.CaptionRef, c.CaptionDeleteResult)
def caption_delete(params: dict) -> tuple[Any, list[bytes]]:
    """Remove a caption; answers it (with ``created_at``) so undo can put it back in place."""
    caption_id = str(uuid_param(params.get("caption_id"), "caption"))
    with transaction() as con:
        old = _caption(con, caption_id)
        caption_store.delete_caption(con, caption_id)
        return {
            "deleted": {
                "caption_id": caption_id,
                "text": old["text"],
                "created_at": old["created_at"].isoformat(),
            },
            "revision": store.sample_revision(con, old["sample_id"]),
        }, []


# --- answers (the JSON the view reads) -----------------------------------------------------------


def _annotations(con, sample_id: str, annotation_id: str | None = None) -> list[dict]:
    return [
        _annotation_json(row) for row in store.sample_annotations(con, sample_id, annotation_id)
    ]


def _annotation_json(row: dict) -> dict:
    box = None if row["x"] is None else [row["x"], row["y"], row["width"], row["height"]]
    return {
        "annotation_id": row["annotation_id"],
        "sample_id": row["sample_id"],
        "label": row["label"],
        "type": row["annotation_type"],
        "source": row["source"],
        "confidence": row["confidence"],
        "box": box,
        "rle": None if row["segmentation_mask"] is None else list(row["segmentation_mask"]),
        "polygon": None if row["polygon"] is None else [list(r) for r in row["polygon"]],
        "iscrowd": bool(row["iscrowd"]),
        "version": row["version"],
    }


def _answer(con, sample_id: str, annotation_id: str) -> dict:
    return {
        "annotation": _annotations(con, sample_id, annotation_id)[0],
        "revision": store.sample_revision(con, sample_id),
    }


def _insert(con, sample: dict, label: str, values: dict) -> str:
    """Store one annotation through the one insert path (store.insert_annotation_frame)."""
    annotation_id = str(uuid.uuid4())
    row: dict[str, Any] = {k: None for k in FRAME_SCHEMA}
    row.update(
        values,
        annotation_id=annotation_id,
        sample_id=sample["sample_id"],
        label=label,
        img_width=sample["width"],
        img_height=sample["height"],
        where=_where(sample),
    )
    store.insert_annotation_frame(
        con,
        sample["dataset_id"],
        pl.DataFrame([row], schema={**FRAME_SCHEMA, "annotation_id": pl.Utf8}),
    )
    return annotation_id


def _caption(con, caption_id: str) -> dict:
    old = caption_store.get_caption(con, caption_id)
    if old is None:
        raise AnnotationError(f"caption {caption_id} was deleted; reload the sample")
    return old


def _labels_and_sources(con, dataset_id: str) -> dict:
    labels = list_labels(con, dataset_id)
    sources = store.annotation_sources(con, dataset_id)
    names = [GROUND_TRUTH] + [s for s in sources if s != GROUND_TRUTH]
    return {
        "labels": [
            {"name": n, "count": int(c)}
            for n, c in zip(labels["name"].to_list(), labels["count"].to_list(), strict=True)
        ],
        "sources": names,
    }


# --- parameter checks ----------------------------------------------------------------------------


def _where(sample: dict, annotation_id: str | None = None) -> str:
    ann = f", annotation {annotation_id}" if annotation_id else ""
    return f"sample {sample['file_name']!r} ({sample['sample_id']}){ann}: "


def _label(value: Any, where: str) -> str:
    """A class name as the view sends it: checked like every label, then stripped."""
    return check_label(value, where).strip()


def _timestamp(value: Any, where: str) -> dt.datetime | None:
    """``created_at`` as the view sends it back on undo: an ISO 8601 string (or null: now)."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AnnotationError(
            f"{where}created_at must be an ISO 8601 date-time such as "
            f"'2024-05-01T12:30:00', got {show(value)}"
        ) from None
    # The column has no time zone: store local time, as every other write does.
    return stamp.astimezone().replace(tzinfo=None) if stamp.tzinfo else stamp
