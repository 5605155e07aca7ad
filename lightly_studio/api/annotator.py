"""The annotator's api: one sample with its labels, and every edit the annotation view makes.

Transport-free like the other api modules: each function takes a JSON ``params`` dict and
returns ``(result, buffers)``. Every edit runs in one transaction and answers with the stored
annotation (or caption) plus the sample's new ``revision``, so a view can tell its own edits
from edits made elsewhere (see :func:`annotator_revision`).

Annotation JSON (what the view reads and sends)::

    {"annotation_id", "sample_id", "label", "type", "source", "confidence",
     "box": [x, y, w, h] | null,            # pixels, top-left origin
     "rle": [bg, fg, bg, ...] | null,       # row-wise RLE of the whole image (core.rle)
     "polygon": [[x0, y0, x1, y1, ...], ...] | null, "iscrowd", "version"}

Validation: boxes are clipped to the image; a shape with less than 1 px of width or height
after clipping, a polygon with fewer than 3 points or no area, and an empty mask are rejected
with an ``AnnotationError`` naming the sample.

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

import numpy as np

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import show, uuid_param
from lightly_studio.core.geometry import clip_box, clip_polygon
from lightly_studio.core.geometry import finite as _finite
from lightly_studio.errors import AnnotationConflictError, AnnotationError, QueryError

GROUND_TRUTH = "ground_truth"
TYPES = ("classification", "object_detection", "instance_segmentation", "semantic_segmentation")
_MASKED = ("instance_segmentation", "semantic_segmentation")


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
    from lightly_studio.api._spec import query_from_spec
    from lightly_studio.db import get_connection

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
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise QueryError(f"index must be a non-negative integer, got {index!r}.")
        if total == 0:
            return {"sample": None, "index": 0, "total": 0}, []
        index = min(index, total - 1)
        from lightly_studio.api.samples import _page_query

        sample_id = str(_page_query(query, index, 1).sample_ids()[0])
    else:
        raise QueryError("annotator_sample needs a sample_id or a spec and an index.")
    sample = _sample_row(con, sample_id)
    if params.get("dataset_id") and str(params["dataset_id"]) != sample["dataset_id"]:
        raise QueryError(f"Sample {sample_id} is not in dataset {params['dataset_id']}.")
    result = {
        "sample": {k: sample[k] for k in ("sample_id", "dataset_id", "file_name", "width",
                                          "height")},
        "index": index, "total": total,
        "annotations": _annotations(con, sample_id),
        "captions": _captions(con, sample_id),
        **_labels_and_sources(con, sample["dataset_id"]),
        "revision": _revision(con, sample_id),
    }
    buffers: list[bytes] = []
    if params.get("image"):
        from lightly_studio._media_access import read_media

        data, result["mime"] = read_media(sample["file_path_abs"])
        buffers.append(data)
    return result, buffers


@method("annotator_revision", c.SampleIdParams, c.RevisionResult)
def annotator_revision(params: dict) -> tuple[Any, list[bytes]]:
    """The sample's revision: changes whenever one of its annotations or captions is added,
    edited or removed, from anywhere. Cheap enough for a view to poll."""
    from lightly_studio.db import get_connection

    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    return {"sample_id": sample_id, "revision": _revision(get_connection(), sample_id)}, []


@method("labels_list", c.DatasetIdParams, c.LabelsResult)
def labels_list(params: dict) -> tuple[Any, list[bytes]]:
    """The dataset's class names (creation order, with annotation counts) and sources."""
    from lightly_studio.api._spec import dataset_of
    from lightly_studio.db import get_connection

    dataset = dataset_of(params.get("dataset_id"))
    return _labels_and_sources(get_connection(), str(dataset.dataset_id)), []


@method("label_create", c.LabelCreateParams, c.LabelCreateResult)
def label_create(params: dict) -> tuple[Any, list[bytes]]:
    """Create a class name on the fly (idempotent)."""
    from lightly_studio.api._spec import dataset_of
    from lightly_studio.core.labels import get_or_create_label_ids
    from lightly_studio.db import transaction

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
    from lightly_studio.db import transaction

    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    spec = params.get("annotation")
    if not isinstance(spec, dict):
        raise AnnotationError("annotation_create needs an 'annotation' object.")
    with transaction() as con:
        sample = _sample_row(con, sample_id)
        where = _where(sample)
        kind = spec.get("type")
        if kind not in TYPES:
            raise AnnotationError(f"{where}type must be one of {', '.join(TYPES)}, got {kind!r}")
        values = {"annotation_type": kind,
                  "source": _source(spec.get("source", GROUND_TRUTH), where),
                  "confidence": _confidence(spec.get("confidence"), where),
                  "iscrowd": bool(spec.get("iscrowd", False))}
        values.update(_geometry(kind, spec, sample, where, partial=False))
        label = _label(spec.get("label"), where)
        annotation_id = _insert(con, sample, label, values)
        return _answer(con, sample_id, annotation_id), []


@method("annotation_update", c.AnnotationUpdateParams, c.AnnotationResult)
def annotation_update(params: dict) -> tuple[Any, list[bytes]]:
    """Change an annotation: ``{"annotation_id", "version", "changes": {label?, box?,
    polygon?, rle?, confidence?}}``; ``version`` is the one the view last saw (conflict
    check, see the module doc). Setting ``rle`` without ``polygon`` drops the polygon (the
    mask was painted, the polygon no longer describes it)."""
    from lightly_studio.core.labels import get_or_create_label_ids
    from lightly_studio.db import transaction

    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    changes = params.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise AnnotationError(f"annotation {annotation_id}: nothing to change")
    unknown = set(changes) - {"label", "box", "polygon", "rle", "confidence"}
    if unknown:
        raise AnnotationError(f"annotation {annotation_id}: cannot change "
                              f"{', '.join(sorted(unknown))}")
    with transaction() as con:
        current = _current(con, annotation_id, params.get("version"))
        sample = _sample_row(con, current["sample_id"])
        where = _where(sample, annotation_id)
        values: dict[str, Any] = {}
        if "label" in changes:
            name = _label(changes["label"], where)
            values["label_id"] = str(get_or_create_label_ids(con, sample["dataset_id"],
                                                             [name])[name])
        if "confidence" in changes:
            values["confidence"] = _confidence(changes["confidence"], where)
        geometry = {k: changes[k] for k in ("box", "polygon", "rle") if k in changes}
        if geometry:
            values.update(_geometry(current["annotation_type"], geometry, sample, where,
                                    partial=True))
        _update(con, annotation_id, values)
        return _answer(con, current["sample_id"], annotation_id), []


@method("annotation_delete", c.AnnotationRef, c.AnnotationDeleteResult)
def annotation_delete(params: dict) -> tuple[Any, list[bytes]]:
    """Remove an annotation (``version`` optional, checked when given). Answers with the
    removed annotation, so a view can undo by creating it again."""
    from lightly_studio.db import transaction

    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    with transaction() as con:
        current = _current(con, annotation_id, params.get("version"))
        removed = _annotations(con, current["sample_id"], annotation_id)[0]
        con.execute("DELETE FROM annotation WHERE annotation_id = $1", [annotation_id]).fetchall()
        return {"deleted": removed, "revision": _revision(con, current["sample_id"])}, []


@method("annotation_accept", c.AnnotationRef, c.AnnotationResult)
def annotation_accept(params: dict) -> tuple[Any, list[bytes]]:
    """Copy a prediction into ground truth (same class and geometry, no confidence). The
    prediction stays; the answer is the new ground-truth annotation."""
    from lightly_studio.db import transaction

    annotation_id = str(uuid_param(params.get("annotation_id"), "annotation"))
    with transaction() as con:
        current = _current(con, annotation_id, params.get("version"))
        if current["source"] == GROUND_TRUTH:
            raise AnnotationError(f"annotation {annotation_id} is ground truth already; only "
                                  "predictions can be accepted")
        new_id = str(uuid.uuid4())
        now = dt.datetime.now()
        con.execute(
            """INSERT INTO annotation (annotation_id, sample_id, label_id, annotation_type,
                   source, confidence, x, y, width, height, segmentation_mask, polygon, iscrowd,
                   created_at, updated_at, version)
               SELECT $1, sample_id, label_id, annotation_type, $2, NULL, x, y, width, height,
                   segmentation_mask, polygon, iscrowd, $3, $3, 1
               FROM annotation WHERE annotation_id = $4""",
            [new_id, GROUND_TRUTH, now, annotation_id]).fetchall()
        return _answer(con, current["sample_id"], new_id), []


@method("classification_add", c.ClassificationAddParams, c.ClassificationAddResult)
def classification_add(params: dict) -> tuple[Any, list[bytes]]:
    """Give the whole image a ground-truth class (``{"sample_id", "label"}``). Adding a class
    the sample has already returns the existing annotation (``created: false``)."""
    from lightly_studio.db import transaction

    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    source = GROUND_TRUTH
    with transaction() as con:
        sample = _sample_row(con, sample_id)
        label = _label(params.get("label"), _where(sample))
        existing = con.execute(
            """SELECT CAST(a.annotation_id AS VARCHAR) FROM annotation a
               JOIN annotation_label l ON l.label_id = a.label_id
               WHERE a.sample_id = $1 AND a.annotation_type = 'classification'
                 AND a.source = $2 AND l.name = $3""", [sample_id, source, label]).fetchall()
        if existing:
            return {**_answer(con, sample_id, existing[0][0]), "created": False}, []
        annotation_id = _insert(con, sample, label, {
            "annotation_type": "classification", "source": source, "confidence": None,
            "iscrowd": False})
        return {**_answer(con, sample_id, annotation_id), "created": True}, []


# --- captions ------------------------------------------------------------------------------------


@method("caption_add", c.CaptionAddParams, c.CaptionResult)
def caption_add(params: dict) -> tuple[Any, list[bytes]]:
    """Add a caption ``{"sample_id", "text"}``; answers ``{"caption": {caption_id, text}}``."""
    from lightly_studio.db import transaction

    sample_id = str(uuid_param(params.get("sample_id"), "sample"))
    with transaction() as con:
        sample = _sample_row(con, sample_id)
        where = _where(sample)
        text = _text(params.get("text"), where)
        created_at = _timestamp(params.get("created_at"), where)
        caption_id = str(uuid_param(params["caption_id"], "caption", "caption_id")) \
            if params.get("caption_id") else str(uuid.uuid4())
        # An id is given only to put a deleted caption back (undo); never a second copy.
        if con.execute("SELECT 1 FROM caption WHERE caption_id = $1", [caption_id]).fetchall():
            raise AnnotationError(f"{where}caption {caption_id} exists already")
        con.execute("INSERT INTO caption (caption_id, sample_id, text, created_at) "
                    "VALUES ($1, $2, $3, $4)",
                    [caption_id, sample_id, text, created_at or dt.datetime.now()]).fetchall()
        return {"caption": {"caption_id": caption_id, "text": text},
                "revision": _revision(con, sample_id)}, []


@method("caption_update", c.CaptionUpdateParams, c.CaptionUpdateResult)
def caption_update(params: dict) -> tuple[Any, list[bytes]]:
    """Replace a caption's text; answers the old text too (for undo)."""
    from lightly_studio.db import transaction

    caption_id = str(uuid_param(params.get("caption_id"), "caption"))
    with transaction() as con:
        old = _caption(con, caption_id)
        text = _text(params.get("text"), f"caption {caption_id}: ")
        con.execute("UPDATE caption SET text = $2 WHERE caption_id = $1",
                    [caption_id, text]).fetchall()
        return {"caption": {"caption_id": caption_id, "text": text}, "old_text": old["text"],
                "revision": _revision(con, old["sample_id"])}, []


@method("caption_delete", c.CaptionRef, c.CaptionDeleteResult)
def caption_delete(params: dict) -> tuple[Any, list[bytes]]:
    """Remove a caption; answers it (with ``created_at``) so undo can put it back in place."""
    from lightly_studio.db import transaction

    caption_id = str(uuid_param(params.get("caption_id"), "caption"))
    with transaction() as con:
        old = _caption(con, caption_id)
        con.execute("DELETE FROM caption WHERE caption_id = $1", [caption_id]).fetchall()
        return {"deleted": {"caption_id": caption_id, "text": old["text"],
                            "created_at": old["created_at"].isoformat()},
                "revision": _revision(con, old["sample_id"])}, []


# --- geometry ------------------------------------------------------------------------------------


def polygon_to_rle(rings: list[list[float]], width: int, height: int) -> list[int]:
    """Rasterise polygon rings exactly as COCO does (pycocotools), as our row-wise RLE."""
    from lightly_studio.core import rle

    return rle.encode(rle.coco_segmentation_to_mask(rings, width, height))


def _geometry(kind: str, spec: dict, sample: dict, where: str, partial: bool) -> dict:
    from lightly_studio.core import rle

    w, h = sample["width"], sample["height"]
    if kind == "classification":
        if any(spec.get(k) is not None for k in ("box", "polygon", "rle")):
            raise AnnotationError(f"{where}a classification has no box, polygon or mask")
        return {}
    if kind == "object_detection":
        if spec.get("box") is None:
            if partial and "box" not in spec:
                return {}
            raise AnnotationError(f"{where}an object detection needs a box [x, y, w, h]")
        x, y, bw, bh = clip_box(spec["box"], w, h, where)
        return {"x": x, "y": y, "width": bw, "height": bh}
    # segmentations: the box always follows the mask
    polygon = spec.get("polygon")
    runs = spec.get("rle")
    if polygon is not None:
        polygon = clip_polygon(polygon, w, h, where)
    if runs is not None:
        arr = rle.validate(runs, w, h, where)
        runs = arr.astype(np.int64).tolist()
    elif polygon is not None:
        runs = polygon_to_rle(polygon, w, h)
    elif partial and "rle" not in spec:
        if "polygon" in spec:
            raise AnnotationError(f"{where}a segmentation needs a polygon or a mask")
        if "box" in spec:
            raise AnnotationError(f"{where}a segmentation's box follows its mask; edit the mask")
        return {}
    else:
        raise AnnotationError(f"{where}a segmentation needs a polygon or a mask (rle)")
    box = rle.bbox_from_rle(runs, w)
    if box is None:
        raise AnnotationError(f"{where}the mask is degenerate: it has no foreground pixel")
    if max(runs) > np.iinfo(np.int32).max:
        raise AnnotationError(f"{where}a mask run does not fit in 32 bits")
    x, y, bw, bh = box
    return {"x": float(x), "y": float(y), "width": float(bw), "height": float(bh),
            "segmentation_mask": runs, "polygon": polygon}


# --- storage (one sample's few rows: plain statements, no bulk path needed) ----------------------

_ANN_SELECT = """
    SELECT CAST(a.annotation_id AS VARCHAR) AS annotation_id,
           CAST(a.sample_id AS VARCHAR) AS sample_id, l.name AS label, a.annotation_type,
           a.source, a.confidence, a.x, a.y, a.width, a.height, a.segmentation_mask,
           a.polygon, a.iscrowd, a.version
    FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id"""


def _annotations(con, sample_id: str, annotation_id: str | None = None) -> list[dict]:
    params = [sample_id]
    extra = ""
    if annotation_id is not None:
        params.append(annotation_id)
        extra = " AND a.annotation_id = $2"
    cur = con.execute(f"{_ANN_SELECT} WHERE a.sample_id = $1{extra} "
                      "ORDER BY a.created_at, a.annotation_id", params)
    names = [d[0] for d in cur.description]
    return [_annotation_json(dict(zip(names, r, strict=True))) for r in cur.fetchall()]


def _annotation_json(row: dict) -> dict:
    box = None if row["x"] is None else [row["x"], row["y"], row["width"], row["height"]]
    return {"annotation_id": row["annotation_id"], "sample_id": row["sample_id"],
            "label": row["label"], "type": row["annotation_type"], "source": row["source"],
            "confidence": row["confidence"], "box": box,
            "rle": None if row["segmentation_mask"] is None else list(row["segmentation_mask"]),
            "polygon": None if row["polygon"] is None else [list(r) for r in row["polygon"]],
            "iscrowd": bool(row["iscrowd"]), "version": row["version"]}


def _answer(con, sample_id: str, annotation_id: str) -> dict:
    return {"annotation": _annotations(con, sample_id, annotation_id)[0],
            "revision": _revision(con, sample_id)}


def _current(con, annotation_id: str, version: Any) -> dict:
    row = con.execute(
        "SELECT CAST(sample_id AS VARCHAR), version, source, annotation_type FROM annotation "
        "WHERE annotation_id = $1", [annotation_id]).fetchall()
    if not row:
        raise AnnotationError(f"annotation {annotation_id} was deleted (from Python or another "
                              "view); reload the sample")
    sample_id, current_version, source, kind = row[0]
    if version is not None and version != current_version:
        raise AnnotationConflictError(
            f"annotation {annotation_id} on sample {sample_id} was changed elsewhere (version "
            f"{current_version}, this edit was made on version {version}); nothing was saved — "
            "the sample is reloaded with the other change, redo yours on top of it")
    return {"sample_id": sample_id, "version": current_version, "source": source,
            "annotation_type": kind}


def _insert(con, sample: dict, label: str, values: dict) -> str:
    from lightly_studio.core.labels import get_or_create_label_ids

    label_id = get_or_create_label_ids(con, sample["dataset_id"], [label])[label]
    annotation_id = str(uuid.uuid4())
    now = dt.datetime.now()
    con.execute(
        """INSERT INTO annotation (annotation_id, sample_id, label_id, annotation_type, source,
               confidence, x, y, width, height, segmentation_mask, polygon, iscrowd, created_at,
               updated_at, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::INTEGER[], $12::DOUBLE[][],
                   $13, $14, $14, 1)""",
        [annotation_id, sample["sample_id"], str(label_id), values["annotation_type"],
         values["source"], values["confidence"], values.get("x"), values.get("y"),
         values.get("width"), values.get("height"), values.get("segmentation_mask"),
         values.get("polygon"), values["iscrowd"], now]).fetchall()
    return annotation_id


def _update(con, annotation_id: str, values: dict) -> None:
    casts = {"segmentation_mask": "::INTEGER[]", "polygon": "::DOUBLE[][]",
             "label_id": "::UUID"}
    sets = ", ".join(f"{k} = ${i + 2}{casts.get(k, '')}" for i, k in enumerate(values))
    sets = (sets + ", ") if sets else ""
    con.execute(f"UPDATE annotation SET {sets}updated_at = ${len(values) + 2}, "
                "version = version + 1 WHERE annotation_id = $1",
                [annotation_id, *values.values(), dt.datetime.now()]).fetchall()


def _revision(con, sample_id: str) -> str:
    # Order-free fingerprint of (id, version) of every annotation and (id, text) of every
    # caption: any add, edit or delete changes it.
    row = con.execute(
        """SELECT (SELECT count(*) || ':' || coalesce(sum(hash(annotation_id, version)), 0)
                   FROM annotation WHERE sample_id = $1)
                  || '/' ||
                  (SELECT count(*) || ':' || coalesce(sum(hash(caption_id, text)), 0)
                   FROM caption WHERE sample_id = $1)""", [sample_id]).fetchall()
    return str(row[0][0])


def _sample_row(con, sample_id: str) -> dict:
    cur = con.execute(
        """SELECT CAST(sample_id AS VARCHAR) AS sample_id, CAST(dataset_id AS VARCHAR)
                  AS dataset_id, file_name, file_path_abs, width, height
           FROM sample WHERE sample_id = $1""", [sample_id])
    rows = cur.fetchall()
    if not rows:
        raise QueryError(f"No sample with id {sample_id}.")
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def _caption(con, caption_id: str) -> dict:
    rows = con.execute("SELECT CAST(sample_id AS VARCHAR), text, created_at FROM caption "
                       "WHERE caption_id = $1", [caption_id]).fetchall()
    if not rows:
        raise AnnotationError(f"caption {caption_id} was deleted; reload the sample")
    return dict(zip(("sample_id", "text", "created_at"), rows[0], strict=True))


def _captions(con, sample_id: str) -> list[dict]:
    rows = con.execute("SELECT CAST(caption_id AS VARCHAR), text FROM caption "
                       "WHERE sample_id = $1 ORDER BY created_at, caption_id",
                       [sample_id]).fetchall()
    return [{"caption_id": cid, "text": text} for cid, text in rows]


def _labels_and_sources(con, dataset_id: str) -> dict:
    from lightly_studio.core.labels import list_labels

    labels = list_labels(con, dataset_id)
    sources = con.execute(
        """SELECT DISTINCT a.source FROM annotation a
           JOIN sample s ON s.sample_id = a.sample_id WHERE s.dataset_id = $1
           ORDER BY a.source""", [dataset_id]).fetchall()
    names = [GROUND_TRUTH] + [s for (s,) in sources if s != GROUND_TRUTH]
    return {"labels": [{"name": n, "count": int(c)} for n, c in
                       zip(labels["name"].to_list(), labels["count"].to_list(), strict=True)],
            "sources": names}


# --- parameter checks ----------------------------------------------------------------------------


def _where(sample: dict, annotation_id: str | None = None) -> str:
    ann = f", annotation {annotation_id}" if annotation_id else ""
    return f"sample {sample['file_name']!r} ({sample['sample_id']}){ann}: "


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(f"{where}the class name must be a non-empty string, got {value!r}")
    return value.strip()


def _source(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnnotationError(f"{where}the annotation source must be a non-empty string")
    return value


def _timestamp(value: Any, where: str) -> dt.datetime | None:
    """``created_at`` as the view sends it back on undo: an ISO 8601 string (or null: now)."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise AnnotationError(f"{where}created_at must be an ISO 8601 date-time such as "
                              f"'2024-05-01T12:30:00', got {show(value)}") from None
    # The column has no time zone: store local time, as every other write does.
    return stamp.astimezone().replace(tzinfo=None) if stamp.tzinfo else stamp


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise AnnotationError(f"{where}a caption must be a string, got {value!r}")
    return value


def _confidence(value: Any, where: str) -> float | None:
    if value is None:
        return None
    v = _finite(value, "confidence", where)
    if not 0.0 <= v <= 1.0:
        raise AnnotationError(f"{where}confidence must be between 0 and 1, got {value!r}")
    return v
