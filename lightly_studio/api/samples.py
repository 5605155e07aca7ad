"""Samples for the views: datasets, counts, pages, thumbnails, detail, originals, tags."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import polars as pl

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import (
    count_of_spec,
    dataset_of,
    int_param,
    query_from_spec,
    register_ids,
    set_query_from_spec,
    uuid_list,
    uuid_param,
)
from lightly_studio.api.facets import issue_flag_columns
from lightly_studio.api.thumbnails import picture_of, thumbnails_for
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.quality import LABEL_ISSUE_COUNT
from lightly_studio.store import datasets as datasets_store
from lightly_studio.store import groups as groups_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store._ids import ids_subquery
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.captions import captions_frame
from lightly_studio.store.metadata import metadata_columns
from lightly_studio.store.tags import tag_sample_ids, untag_sample_ids, validate_tag_name

MAX_PAGE = 1000
MAX_THUMBNAILS = 256
# The first screen of the full-page app at its default cell size: 7 columns x 6 rows (visible
# plus overscan) in a 1500 x 1000 window; a bigger screen makes the rest in samples_page.
PREFETCH_THUMBNAILS = 48


@method("list_datasets", c.NoParams, c.ListDatasetsResult)
def list_datasets(params: dict) -> tuple[Any, list[bytes]]:
    return {"datasets": datasets_store.datasets_with_counts(get_connection()).to_dicts()}, []


@method("count", c.CountParams, c.CountResult)
def count(params: dict) -> tuple[Any, list[bytes]]:
    return {"count": count_of_spec(params.get("spec") or {})}, []


def page_query(query, offset: int, limit: int):
    """The sub-range [offset, offset+limit) of a query, respecting the query's own slice."""
    own_offset, own_limit = query.offset, query.limit
    if own_limit is not None:
        limit = max(0, min(limit, own_limit - offset))
    return query.copy().slice(own_offset + offset, limit)


@method("samples_page", c.SamplesPageParams, c.SamplesPageResult, buffers_out=True)
def samples_page(params: dict) -> tuple[Any, list[bytes]]:
    """Rows [offset, offset+limit) of a query with what the grid draws: size, tags, labels,
    captions. Annotations are compact: boxes in pixels, masks as our row-wise RLE.

    ``thumbnails: n`` also returns the thumbnails of the page's first ``n`` rows (as the
    ``thumbnails`` method does: one buffer per row, ``thumbnail_errors`` beside them), so a
    view's first screen needs one call instead of a page and then thumbnail calls."""
    offset = int_param(params.get("offset", 0), "offset", maximum=2**62)
    limit = min(int_param(params.get("limit", 200), "limit"), MAX_PAGE)
    n_thumbs = min(int_param(params.get("thumbnails", 0), "thumbnails"), MAX_THUMBNAILS, limit)
    # Only rows up to the page's end are read: a similarity search ranks just those.
    query = query_from_spec(params.get("spec") or {}, top=offset + limit)
    con = get_connection()
    # Whole rows of the page straight from the ordered query: DatasetQuery picks the page by
    # rowid first (late materialisation), where looking the page's ids up again scans every
    # sample_id (no index on it).
    # The quality checks' flags of the page's rows, for the grid's issue chips.
    flags = issue_flag_columns(con, query.dataset.dataset_id)
    label_count = metadata_columns(con, query.dataset.dataset_id).get(LABEL_ISSUE_COUNT)
    chip_columns = {**flags, **({"label_issues": label_count} if label_count else {})}
    frame = page_query(query, offset, limit).rows_frame(metadata=chip_columns)
    ids = [str(i) for i in frame["sample_id"]]
    want_annotations = params.get("annotations", True)
    by_sample: dict[str, list] = {i: [] for i in ids}
    if ids and want_annotations:
        ann = annotations_frame(con, query.dataset.dataset_id, sample_ids=ids)
        include_masks = params.get("masks", True)
        for row in ann.iter_rows(named=True):
            by_sample[row["sample_id"]].append(_annotation_json(row, include_masks))
    captions: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for sid, text in captions_frame(con, ids_subquery(ids)).iter_rows():
            captions[sid].append(text)
    has_similarity = "similarity" in frame.columns
    members = (
        groups_store.members_by_group(con, query.dataset.dataset_id, ids)
        if query.kind == "group"
        else {}
    )
    if members and want_annotations:
        add_member_annotations(con, query.dataset.dataset_id, members, params.get("masks", True))
    rows = []
    for sid, r in zip(ids, frame.iter_rows(named=True), strict=True):
        row = {
            "sample_id": sid,
            "file_name": r["file_name"],
            "width": r["width"],
            "height": r["height"],
            "kind": r["kind"],
            "tags": list(r["tags"] or []),
            "annotations": by_sample[sid],
            "captions": captions[sid],
        }
        if has_similarity:
            row["similarity"] = r["similarity"]
        if sid in members:
            row["members"] = members[sid]
        if r["kind"] == "frame":
            # The frames grid names each frame and marks where the next video's frames begin.
            row["video_id"] = str(r["parent_sample_id"])
            row["frame_number"] = r["frame_number"]
        issues = [name for i, name in enumerate(chip_columns) if r[f"_meta_{i}"]]
        if issues:
            row["issues"] = issues
        rows.append(row)
    result: dict[str, Any] = {"offset": offset, "rows": rows}
    if not n_thumbs or query.kind == "group":  # a group has no file: its members have
        return result, []
    first = frame.head(n_thumbs).select("file_path_abs", "kind", "timestamp_s")
    buffers, errors = thumbnails_for(list(first.iter_rows()))
    result.update(thumbnail_errors=errors, mime="image/jpeg")
    return result, buffers


def prefetch_thumbnails(dataset_id: str, count: int = PREFETCH_THUMBNAILS) -> int:
    """Make (cache) the thumbnails of the first ``count`` samples in a dataset's default order,
    which is what the full-page app shows first: the server calls this when it serves the
    page, so the decoding overlaps the browser loading the bundle and the grid's first
    ``samples_page`` finds them made (or being made). Not a view method: nothing is returned
    but how many there were."""
    rows = page_query(dataset_of(dataset_id).query(), 0, count).rows_frame()
    buffers, _ = thumbnails_for(
        list(rows.select("file_path_abs", "kind", "timestamp_s").iter_rows())
    )
    return len(buffers)


def add_member_annotations(
    con, dataset_id, members: dict[str, list[dict]], include_masks: bool
) -> None:
    """Give each member of ``members`` (group id -> member entries) its annotations: the
    group tile and the group detail draw them over the member's picture."""
    entries = [m for group in members.values() for m in group if m["sample_id"]]
    found: dict[str, list] = {m["sample_id"]: [] for m in entries}
    if not found:
        return
    for row in annotations_frame(con, dataset_id, sample_ids=list(found)).iter_rows(named=True):
        found[row["sample_id"]].append(_annotation_json(row, include_masks))
    for m in entries:
        m["annotations"] = found[m["sample_id"]]


def _annotation_json(row: dict, include_mask: bool = True) -> dict:
    out = {
        "annotation_id": row["annotation_id"],
        "label": row["label"],
        "type": row["annotation_type"],
        "source": row["source"],
        "confidence": row["confidence"],
    }
    if row["x"] is not None:
        out["box"] = [row["x"], row["y"], row["width"], row["height"]]
    if include_mask and row["segmentation_mask"] is not None:
        out["rle"] = list(row["segmentation_mask"])
    if row.get("track_id") is not None:
        out["track_id"] = row["track_id"]
    if row.get("start_s") is not None:
        out["span"] = [row["start_s"], row["end_s"]]
    return out


@method("thumbnails", c.ThumbnailsParams, c.ThumbnailsResult, buffers_out=True)
def thumbnails(params: dict) -> tuple[Any, list[bytes]]:
    """JPEG thumbnails (256 px long side) of up to 256 samples: one buffer per id, in order;
    a sample whose file cannot be read gets an empty buffer and an entry in ``errors``."""
    ids = [str(i) for i in uuid_list(params.get("sample_ids"))]
    if len(ids) > MAX_THUMBNAILS:
        raise QueryError(f"At most {MAX_THUMBNAILS} thumbnails per call, got {len(ids)}.")
    dataset = dataset_of(params.get("dataset_id"))
    rows = samples_store.sample_media(get_connection(), dataset.dataset_id, ids)
    where = {
        r["sample_id"]: (r["file_path_abs"], r["kind"], r["timestamp_s"])
        for r in rows.iter_rows(named=True)
    }
    missing = [i for i in ids if i not in where]
    if missing:
        raise QueryError(f"Sample {missing[0]} is not in dataset {dataset.name!r}.")
    buffers, errors = thumbnails_for([where[i] for i in ids])
    return {"sample_ids": ids, "errors": errors, "mime": "image/jpeg"}, buffers


@method("image", c.SampleRef, c.ImageResult, buffers_out=True)
def image(params: dict) -> tuple[Any, list[bytes]]:
    """The full-resolution picture of a sample (the detail view's image): an image's file, a
    video frame decoded server-side (a video: its first frame); a file that is not a regular
    image or video file raises ``MediaRefused``."""
    sample = dataset_of(params.get("dataset_id")).get_sample(uuid_param(params.get("sample_id")))
    fields = sample.fields
    data, mime = picture_of(sample.file_path_abs, fields["kind"], fields.get("timestamp_s"))
    return {"mime": mime, "size": len(data)}, [data]


@method("sample_detail", c.SampleRef, c.SampleDetailResult)
def sample_detail(params: dict) -> tuple[Any, list[bytes]]:
    """Everything about one sample: fields, tags, metadata, annotations, captions, and its
    position among the spec's results when a spec is given (for prev/next)."""
    dataset = dataset_of(params.get("dataset_id"))
    try:
        sample = dataset.get_sample(uuid_param(params.get("sample_id")))
    except KeyError as exc:
        raise QueryError(str(exc.args[0])) from None
    fields = {k: _json(v) for k, v in sample.fields.items()}
    ann = annotations_frame(
        get_connection(), dataset.dataset_id, sample_ids=[str(sample.sample_id)]
    )
    return {
        "sample_id": str(sample.sample_id),
        "dataset_id": str(dataset.dataset_id),
        "fields": fields,
        "tags": sorted(sample.tags),
        "metadata": {k: _json(v) for k, v in sample.metadata.items()},
        "annotations": [_annotation_json(r) for r in ann.iter_rows(named=True)],
        "captions": sample.captions,
    }, []


@method("tag_samples", c.TagSamplesParams, c.TagSamplesResult)
def tag_samples(params: dict) -> tuple[Any, list[bytes]]:
    """Add (``remove: true``: remove) a tag on sample ids, or on every sample of a spec."""
    tag = validate_tag_name(params.get("tag"))
    target: tuple[str, list] | list[uuid.UUID]  # a subquery or the ids themselves
    if params.get("spec") is not None:
        query = set_query_from_spec(params["spec"])
        dataset_id, target = query.dataset.dataset_id, query.sample_ids_subquery()
    else:
        dataset_id = dataset_of(params.get("dataset_id")).dataset_id
        target = uuid_list(params.get("sample_ids"))
    fn = untag_sample_ids if params.get("remove") else tag_sample_ids
    changed = fn(get_connection(), dataset_id, tag, target)
    return {"tag": tag, "changed": int(changed or 0)}, []


#: "Select all" puts every id of the filter into the view's selection (a synced list): above
#: this many the message would pass the notebook's ~10 MB limit, so "Tag all in filter" is the
#: way to act on more.
MAX_SELECT_ALL = 100_000


@method("filtered_ids", c.FilteredIdsParams, c.FilteredIdsResult)
def filtered_ids(params: dict) -> tuple[Any, list[bytes]]:
    """The ids of every sample a spec matches, in its order ("Select all")."""
    query = query_from_spec(params.get("spec") or {})
    count = query.count()
    if count > MAX_SELECT_ALL:
        raise QueryError(
            f"Select all takes at most {MAX_SELECT_ALL:,} samples and the filter matches "
            f"{count:,}: narrow the filter, or tag them all with 'Tag all in filter'."
        )
    return {"sample_ids": [str(i) for i in query.sample_ids()]}, []


@method("select_ids", c.SelectIdsParams, c.IdSetResult)
def select_ids(params: dict) -> tuple[Any, list[bytes]]:
    """Register an id set (a plot or grid selection) so a spec can filter by it."""
    ids = [str(i) for i in uuid_list(params.get("sample_ids"))]
    return {"ids": register_ids(ids), "count": len(ids)}, []


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, pl.Series):
        return value.to_list()
    return value
