"""The video player's data: a video's frame samples, every frame annotation (with its track
id) and the video's time-span classifications, in one call when the player opens.

Why everything at once: the overlays follow playback frame by frame; a call per frame would
put a network round trip between each frame and its boxes, whereas a video's annotations are
a few hundred kilobytes at most (masks included) and then cost nothing to look up.
"""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, uuid_param
from lightly_studio.api.samples import _annotation_json as annotation_json
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.store import videos as videos_store
from lightly_studio.store.annotations import annotations_frame


@method("video_frames", c.SampleRef, c.VideoFramesResult)
def video_frames(params: dict) -> tuple[Any, list[bytes]]:
    """A video's frame samples (columns), their annotations (each with ``frame_number`` and
    ``track_id``) and the video's time spans (classifications with ``start_s``/``end_s``)."""
    dataset = dataset_of(params.get("dataset_id"))
    video_id = str(uuid_param(params.get("sample_id"), "sample"))
    try:
        sample = dataset.get_sample(video_id)
    except KeyError as exc:
        raise QueryError(str(exc.args[0])) from None
    fields = sample.fields
    if fields.get("kind") != "video":
        raise QueryError(f"Sample {video_id} is not a video.")
    con = get_connection()
    frames = videos_store.frames_of_video(con, video_id)
    number_of = dict(zip(frames["sample_id"], frames["frame_number"], strict=True))
    annotations = []
    if not frames.is_empty():
        rows = annotations_frame(
            con, dataset.dataset_id, sample_ids_subquery=videos_store.frame_subquery(video_id)
        )
        for row in rows.iter_rows(named=True):
            out = annotation_json(row)
            out["frame_number"] = number_of[row["sample_id"]]
            annotations.append(out)
    own = annotations_frame(con, dataset.dataset_id, sample_ids=[video_id])
    spans = [
        {
            "annotation_id": r["annotation_id"],
            "label": r["label"],
            "source": r["source"],
            "confidence": r["confidence"],
            "start_s": r["start_s"],
            "end_s": r["end_s"],
        }
        for r in own.iter_rows(named=True)
        if r["start_s"] is not None
    ]
    video = {
        k: fields.get(k)
        for k in ("file_name", "width", "height", "fps", "duration_s", "frame_count", "codec")
    }
    video["sample_id"] = video_id
    return {
        "video": video,
        "frames": {
            "sample_id": frames["sample_id"].to_list(),
            "frame_number": frames["frame_number"].to_list(),
            "timestamp_s": frames["timestamp_s"].to_list(),
            "tags": frames["has_tags"].to_list(),
            "captions": frames["has_captions"].to_list(),
        },
        "annotations": annotations,
        "spans": spans,
    }, []
