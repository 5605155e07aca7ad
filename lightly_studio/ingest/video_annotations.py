"""Video annotation files: YouTube-VIS object tracks and ActivityNet temporal spans.

YouTube-VIS (``videos``, ``categories``, and ``annotations`` holding one object track each,
with a box — and a mask — per frame or ``null``) becomes frame annotations with the track's
``id`` as ``track_id``. Each video entry names its frames ``<video>/<frame>.jpg``; the video
is the file ``<videos_path>/<video>`` with one of the allowed extensions, and frame ``i`` of
the list is frame number ``i`` of the file. Every frame of an imported video becomes a frame
sample, so each annotated frame has one.

ActivityNet (``database`` or ``results``: video id -> events with ``segment`` [start, end]
and ``label``) becomes classifications on video samples with ``start_s``/``end_s``; parsing
and event checks are labelformat's.

Every check runs before anything is stored, and storing is one transaction: a bad file
leaves the dataset as it was.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.errors import AnnotationError, IngestError
from lightly_studio.ingest.coco import load_json
from lightly_studio.ingest.files import normalize_extensions
from lightly_studio.ingest.video import DEFAULT_VIDEO_EXTENSIONS, probe_videos, store_probes
from lightly_studio.shapes import rle
from lightly_studio.store import videos as videos_store
from lightly_studio.store.annotations import (
    GROUND_TRUTH,
    AnnotationType,
    insert_annotation_frame,
)

logger = logging.getLogger("lightly_studio")

#: How many names an error message lists before "and N more".
_LISTED = 5


@dataclass(frozen=True)
class VideoImport:
    """What an import stored: new video and frame sample ids, and the annotation count."""

    video_ids: list[str]
    frame_ids: list[str]
    annotations: int


# --------------------------------------------------------------------------------------------
# YouTube-VIS
# --------------------------------------------------------------------------------------------


def import_youtube_vis(
    dataset_id,
    annotations_json: str | os.PathLike,
    videos_path: str | os.PathLike,
    allowed_extensions=None,
    annotation_type: Any = AnnotationType.OBJECT_DETECTION,
    limit: int | None = None,
) -> VideoImport:
    """Store the videos of a YouTube-VIS file with their object tracks (see the module doc)."""
    kind = _track_type(annotation_type)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}.")
    path = str(annotations_json)
    data = load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
        raise IngestError(f"{path}: not a YouTube-VIS file (no 'videos' list)")
    categories = _categories(path, data.get("categories", []))
    entries = data["videos"][:limit] if limit is not None else data["videos"]
    extensions = normalize_extensions(
        None if allowed_extensions is None else list(allowed_extensions), DEFAULT_VIDEO_EXTENSIONS
    )
    files = _video_files(path, entries, Path(videos_path).expanduser(), extensions)
    probes, failures = probe_videos(list(files.values()))
    if failures:
        listed = "; ".join(f"{p}: {why}" for p, why in failures[:_LISTED])
        raise IngestError(
            f"{path}: {len(failures)} of the videos it names cannot be read, nothing was "
            f"imported: {listed}{_more(failures)}"
        )
    probe_of = {p.file_path_abs: p for p in probes}
    sizes = {vid: probe_of[os.path.abspath(f)] for vid, f in files.items()}
    _check_declared(path, entries, sizes)
    annotations = data.get("annotations") or []
    if not isinstance(annotations, list):
        raise IngestError(f"{path}: 'annotations' must be a list")
    rows = _track_rows(path, annotations, sizes, categories, kind)

    con = get_connection()
    tracked = set(videos_store.tracked_video_paths(con, dataset_id, list(probe_of)))
    if tracked:
        logger.warning(
            "%s: %d videos already hold object tracks from an earlier import; their "
            "annotations were not added again: %s",
            path,
            len(tracked),
            ", ".join(sorted(tracked)[:_LISTED]),
        )
        rows = rows.filter(~pl.col("file_path_abs").is_in(list(tracked)))
    with transaction() as con:
        video_ids, frame_ids, frames = store_probes(dataset_id, probes, target_fps=None)
        joined = rows.join(frames, on=["file_path_abs", "frame_number"], how="left")
        # Checked against the probed frame counts above; a miss here is a bug, not bad input.
        assert joined["sample_id"].null_count() == 0
        try:
            stored = insert_annotation_frame(con, dataset_id, joined.drop("frame_number"))
        except AnnotationError as exc:
            raise IngestError(f"{path}: {exc}") from exc
    return VideoImport(video_ids, frame_ids, stored)


def _track_type(annotation_type: Any) -> str:
    value = str(getattr(annotation_type, "value", annotation_type))
    allowed = (AnnotationType.OBJECT_DETECTION.value, AnnotationType.INSTANCE_SEGMENTATION.value)
    if value not in allowed:
        raise ValueError(
            f"annotation_type must be {' or '.join(allowed)} for object tracks, "
            f"got {annotation_type!r}."
        )
    return value


def _categories(path: str, records: Any) -> dict[Any, str]:
    if not isinstance(records, list):
        raise IngestError(f"{path}: 'categories' must be a list")
    names: dict[Any, str] = {}
    for i, c in enumerate(records):
        if not isinstance(c, dict) or "id" not in c or not isinstance(c.get("name"), str):
            raise IngestError(f"{path}: category {i} needs an 'id' and a 'name'")
        names[c["id"]] = c["name"]
    return names


def _video_name(path: str, i: int, entry: Any) -> str:
    if not isinstance(entry, dict) or "id" not in entry:
        raise IngestError(f"{path}: video entry {i} needs an 'id'")
    if isinstance(entry.get("file_name"), str) and entry["file_name"]:
        return entry["file_name"]
    names = entry.get("file_names")
    if not isinstance(names, list) or not names or not isinstance(names[0], str):
        raise IngestError(f"{path}: video id {entry['id']} has no 'file_names' list")
    parent = Path(names[0]).parent
    if str(parent) in ("", "."):
        raise IngestError(
            f"{path}: video id {entry['id']}: its frames {names[0]!r} name no video folder"
        )
    return str(parent)


def _video_files(path: str, entries: list, root: Path, extensions: tuple) -> dict[Any, str]:
    """video id -> its file below ``root``; IngestError listing every video not found."""
    files: dict[Any, str] = {}
    missing: list[str] = []
    for i, entry in enumerate(entries):
        name = _video_name(path, i, entry)
        candidates = [root / name] + [root / f"{name}{ext}" for ext in extensions]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            missing.append(f"{name!r} (id {entry['id']})")
        else:
            files[entry["id"]] = str(found)
    if missing:
        raise IngestError(
            f"{path}: {len(missing)} of {len(entries)} videos not found in {root} (tried the "
            f"name with {', '.join(extensions)}), nothing was imported: "
            f"{', '.join(missing[:_LISTED])}{_more(missing)}"
        )
    return files


def _check_declared(path: str, entries: list, probes: dict) -> None:
    """The file's declared size and frame count must fit the video files."""
    for entry in entries:
        probe = probes[entry["id"]]
        declared = (entry.get("width"), entry.get("height"))
        if None not in declared and tuple(int(v) for v in declared) != (probe.width, probe.height):
            raise IngestError(
                f"{path}: video id {entry['id']} is declared {declared[0]}x{declared[1]} but "
                f"{probe.file_path_abs} is {probe.width}x{probe.height}"
            )
        frames = entry.get("file_names")
        if isinstance(frames, list) and len(frames) > probe.frame_count:
            raise IngestError(
                f"{path}: video id {entry['id']} lists {len(frames)} frames but "
                f"{probe.file_path_abs} has {probe.frame_count}"
            )


def _track_rows(
    path: str, tracks: list, probes: dict, categories: dict[Any, str], kind: str
) -> pl.DataFrame:
    """One row per (track, frame) with a box: the annotation frame plus file_path_abs and
    frame_number to find the frame sample."""
    columns: dict[str, list] = {
        k: []
        for k in (
            "file_path_abs",
            "frame_number",
            "label",
            "x",
            "y",
            "width",
            "height",
            "segmentation_mask",
            "track_id",
            "img_width",
            "img_height",
            "where",
        )
    }
    for i, track in enumerate(tracks):
        if not isinstance(track, dict):
            raise IngestError(f"{path}: annotation {i} is not an object")
        probe = probes.get(track.get("video_id"))
        if probe is None:
            continue  # a video beyond ``limit``, or not in the file's 'videos'
        where = f"{path}: annotation id {track.get('id', i)} (video id {track['video_id']}): "
        if track.get("category_id") not in categories:
            raise IngestError(f"{where}unknown category_id {track.get('category_id')!r}")
        track_id = track.get("id", i + 1)
        if isinstance(track_id, bool) or not isinstance(track_id, int):
            raise IngestError(f"{where}the track 'id' must be an integer")
        boxes = track.get("bboxes") or []
        masks = track.get("segmentations") or []
        if not isinstance(boxes, list) or not isinstance(masks, list):
            raise IngestError(f"{where}'bboxes' and 'segmentations' must be lists")
        for frame in range(max(len(boxes), len(masks))):
            box = boxes[frame] if frame < len(boxes) else None
            seg = masks[frame] if frame < len(masks) else None
            runs = None
            if kind == AnnotationType.INSTANCE_SEGMENTATION.value:
                if not seg:
                    continue
                runs, box = _mask(where, frame, seg, box, probe.width, probe.height)
            elif not box:
                continue
            if frame >= probe.frame_count:
                raise IngestError(
                    f"{where}has a box on frame {frame} but {probe.file_path_abs} has "
                    f"{probe.frame_count} frames"
                )
            if not isinstance(box, list) or len(box) != 4:
                raise IngestError(f"{where}frame {frame}: a box must be [x, y, width, height]")
            columns["file_path_abs"].append(probe.file_path_abs)
            columns["frame_number"].append(frame)
            columns["label"].append(categories[track["category_id"]])
            for name, value in zip(("x", "y", "width", "height"), box, strict=True):
                columns[name].append(value)
            columns["segmentation_mask"].append(runs)
            columns["track_id"].append(track_id)
            columns["img_width"].append(probe.width)
            columns["img_height"].append(probe.height)
            columns["where"].append(f"{where}frame {frame}: ")
    try:
        frame_rows = pl.DataFrame(
            columns,
            schema={
                "file_path_abs": pl.Utf8,
                "frame_number": pl.Int32,
                "label": pl.Utf8,
                "x": pl.Float64,
                "y": pl.Float64,
                "width": pl.Float64,
                "height": pl.Float64,
                "segmentation_mask": pl.List(pl.Int32),
                "track_id": pl.Int64,
                "img_width": pl.Int64,
                "img_height": pl.Int64,
                "where": pl.Utf8,
            },
            strict=False,
        )
    except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        raise IngestError(f"{path}: a box holds a value that is not a number ({exc})") from exc
    return frame_rows.with_columns(
        pl.lit(kind).alias("annotation_type"), pl.lit(GROUND_TRUTH).alias("source")
    )


def _mask(
    where: str, frame: int, seg: Any, box: Any, width: int, height: int
) -> tuple[list[int], list[float]]:
    """Our row-wise RLE of a COCO mask (RLE or polygons) and its box (from the file, or the
    mask's own when the file has none)."""
    try:
        if isinstance(seg, list):
            mask = rle.rings_to_mask(rle.coco_polygon_rings(seg, width, height), width, height)
        else:
            mask = rle.coco_segmentation_to_mask(seg, width, height)
    except (ValueError, TypeError, AnnotationError) as exc:
        raise IngestError(f"{where}frame {frame}: invalid segmentation ({exc})") from exc
    if not box:
        bbox = rle.bbox_from_mask(mask)
        if bbox is None:
            raise IngestError(f"{where}frame {frame}: the mask is empty")
        box = [float(v) for v in bbox]
    return rle.encode(mask), box


def _more(items: list) -> str:
    return f" and {len(items) - _LISTED} more" if len(items) > _LISTED else ""


# --------------------------------------------------------------------------------------------
# ActivityNet
# --------------------------------------------------------------------------------------------


def import_activitynet(
    dataset_id, annotations_json: str | os.PathLike, annotation_source: str | None = None
) -> tuple[int, list[str]]:
    """Store ActivityNet events as time-span classifications of the dataset's videos.

    A video id matches a stored video whose file stem is the id, or the id with or without
    ActivityNet's ``v_`` prefix. Returns (annotations stored, the ids no video matched).
    """
    from labelformat.formats.activitynet import ActivityNetTemporalClassificationInput
    from labelformat.types import ParseError

    path = Path(annotations_json).expanduser()
    load_json(path)  # a clear message for a missing or malformed file
    try:
        labels = list(ActivityNetTemporalClassificationInput(input_file=path).get_labels())
    except (ParseError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IngestError(f"{path}: not a valid ActivityNet file: {exc}") from exc
    source = GROUND_TRUTH if annotation_source is None else annotation_source
    stored = videos_store.video_rows(get_connection(), dataset_id)
    by_stem: dict[str, dict] = {}
    for row in stored.iter_rows(named=True):
        stem = Path(row["file_name"]).stem
        by_stem.setdefault(stem, row)
    rows: list[dict[str, Any]] = []
    unmatched: list[str] = []
    for label in labels:
        video = _match_video(by_stem, label.video_id)
        if video is None:
            unmatched.append(label.video_id)
            continue
        duration = float(video["duration_s"] or 0.0)
        for event in label.events:
            where = f"{path}: video {label.video_id!r}, event {event.category.name!r}: "
            if event.start_time_s >= duration > 0:
                raise IngestError(
                    f"{where}starts at {event.start_time_s} s, after the end of "
                    f"{video['file_name']} ({duration:.3f} s)"
                )
            rows.append(
                {
                    "sample_id": video["sample_id"],
                    "label": event.category.name,
                    "annotation_type": AnnotationType.CLASSIFICATION.value,
                    "source": source,
                    "confidence": event.confidence,
                    # Spans run to the end of the file at most (ActivityNet durations are the
                    # YouTube page's, often a fraction of a second off the file's).
                    "start_s": event.start_time_s,
                    "end_s": min(event.end_time_s, duration) if duration > 0 else event.end_time_s,
                    "where": where,
                }
            )
    count = 0
    if rows:
        frame = pl.DataFrame(
            rows,
            schema={
                "sample_id": pl.Utf8,
                "label": pl.Utf8,
                "annotation_type": pl.Utf8,
                "source": pl.Utf8,
                "confidence": pl.Float64,
                "start_s": pl.Float64,
                "end_s": pl.Float64,
                "where": pl.Utf8,
            },
        )
        with transaction() as con:
            try:
                count = insert_annotation_frame(con, dataset_id, frame)
            except AnnotationError as exc:
                raise IngestError(str(exc)) from exc
    return count, unmatched


def _match_video(by_stem: dict[str, dict], video_id: str) -> dict | None:
    for candidate in (video_id, f"v_{video_id}", video_id.removeprefix("v_")):
        if candidate in by_stem:
            return by_stem[candidate]
    return None
