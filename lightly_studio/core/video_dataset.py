"""VideoDataset: a dataset of video files and the frames sampled from them.

Storage: a video is a row of ``sample`` with kind='video' (fps, duration_s, frame_count,
codec); each sampled frame is a row with kind='frame', ``parent_sample_id`` = its video,
``frame_number``/``timestamp_s``, and the video's file path and size. Frames are samples like
images, so tags, metadata, annotations and embeddings work on them unchanged.

This module is the façade: indexing lives in ``ingest/video.py``, frame and video embeddings
in ``embed/_video.py``, frame export in ``export/_video.py``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from lightly_studio.core.dataset import Dataset
from lightly_studio.core.dataset_query import DatasetQuery
from lightly_studio.db import get_connection
from lightly_studio.embed._video import compute_frame_embeddings, compute_video_embeddings
from lightly_studio.errors import EmbeddingError
from lightly_studio.export._video import VideoDatasetExport
from lightly_studio.ingest.video import DEFAULT_TARGET_FPS, index_videos, new_ids_by_kind
from lightly_studio.ingest.video_annotations import import_activitynet, import_youtube_vis
from lightly_studio.ingest.video_strip import build_seek_strips as _build_strips
from lightly_studio.store.annotations import AnnotationType
from lightly_studio.store.videos import video_rows

logger = logging.getLogger("lightly_studio")


class VideoDataset(Dataset):
    """A dataset of videos. Create with ``VideoDataset.create()``, fill with
    ``add_videos_from_path``; ``dataset.frames()`` and ``video.frames`` query the frames."""

    kind = "video"
    sample_kind = "video"

    # -- indexing ---------------------------------------------------------------------------------
    def add_videos_from_path(
        self,
        path: str | os.PathLike,
        allowed_extensions: Sequence[str] | None = None,
        target_fps: float | None = DEFAULT_TARGET_FPS,
        embed: bool = True,
        seek_strips: bool = False,
    ) -> int:
        """Index every video below ``path`` (a local folder or one file). Returns how many were new.

        For each video, width, height, fps, duration, frame count and codec are read, and one
        frame per ``1 / target_fps`` seconds becomes a frame sample (``None``: every frame).
        Re-running adds only videos not indexed yet (existing ones keep their frames).
        Unreadable or corrupt videos are skipped and listed in one warning. With ``embed``,
        frames get image embeddings and each video the mean of its frames' embeddings.
        ``seek_strips``: also build the new videos' seek strips (see ``build_seek_strips``).
        """
        video_ids, frame_ids = index_videos(self.dataset_id, path, allowed_extensions, target_fps)
        self._after_ingest(video_ids + frame_ids, embed=embed)
        if seek_strips and video_ids:
            self.build_seek_strips(video_ids)
        return len(video_ids)

    def add_videos_from_youtube_vis(
        self,
        annotations_json: str | os.PathLike,
        videos_path: str | os.PathLike,
        allowed_extensions: Sequence[str] | None = None,
        annotation_type: AnnotationType | str = AnnotationType.OBJECT_DETECTION,
        embed: bool = True,
        embed_frames: bool = True,
        limit: int | None = None,
        seek_strips: bool = False,
    ) -> int:
        """Index the videos of a YouTube-VIS file with their object tracks. Returns how many
        videos were new.

        Each video entry names its frames ``<video>/<n>.jpg``: the video is the file
        ``<videos_path>/<video>`` with one of ``allowed_extensions`` (default: the video
        extensions), and frame n of the list is frame n of the file. Every frame of these
        videos becomes a frame sample; each track's box (``OBJECT_DETECTION``) or mask
        (``INSTANCE_SEGMENTATION``) on a frame becomes an annotation of that frame whose
        ``track_id`` is the track's ``id`` (query it with
        ``FrameSampleField.annotations.exists(track_id=...)``). ``limit``: only the first
        videos of the file. Missing or unreadable videos, boxes on frames the file lacks and
        sizes that differ from the file's raise IngestError before anything is stored.
        ``embed_frames``: embed the new frames; ``embed``: give each new video the mean of
        its frames' vectors; ``seek_strips``: build the new videos' seek strips.
        """
        result = import_youtube_vis(
            self.dataset_id,
            annotations_json,
            videos_path,
            allowed_extensions,
            annotation_type,
            limit,
        )
        if embed_frames and result.frame_ids:
            compute_frame_embeddings(self, result.frame_ids)
        if embed and result.video_ids:
            compute_video_embeddings(self, result.video_ids)
        if seek_strips and result.video_ids:
            self.build_seek_strips(result.video_ids)
        return len(result.video_ids)

    def build_seek_strips(self, video_ids: Sequence[str] | None = None, workers: int = 2) -> int:
        """Decode every frame of these videos (default: all) once into a seek strip: each
        frame as a small JPEG in one file in the frame cache, so the player shows any frame
        the moment it is sought (at low resolution, until the browser's decoder reaches it).
        Costs one full decode per video (10–18 ms per 1080p frame on 2 cores) and ~20 KB
        per frame on disk; an existing strip is kept. Returns how many videos have a strip;
        the ones that fail to decode are listed in one warning."""
        rows = video_rows(get_connection(), self.dataset_id)
        if video_ids is not None:
            wanted = {str(v) for v in video_ids}
            rows = rows.filter(rows["sample_id"].is_in(wanted))
        paths = rows["file_path_abs"].to_list()
        failed = _build_strips(paths, workers=workers)
        if failed:
            logger.warning(
                "No seek strip for %d video(s): %s",
                len(failed),
                "; ".join(reason for _, reason in failed),
            )
        return len(paths) - len(failed)

    def add_annotations_from_activitynet(
        self, annotations_json: str | os.PathLike, annotation_source: str | None = None
    ) -> list[str]:
        """Add ActivityNet events (``segment`` [start, end] in seconds, ``label``) as
        classifications of the indexed videos over that time span (``start_s``, ``end_s``).

        A video id matches the video whose file stem is the id (with or without the ``v_``
        prefix). ``annotation_source``: the source name (default ground truth; ``results``
        files carry a score, stored as confidence). Returns the ids no video matched.
        """
        _, unmatched = import_activitynet(self.dataset_id, annotations_json, annotation_source)
        return unmatched

    # -- frames -----------------------------------------------------------------------------------
    def frames(self) -> DatasetQuery:
        """A query over the sampled frames of all videos (match, order_by, slice, add_tag…).

        Use ``FrameSampleField`` in expressions; each frame has ``frame_number``,
        ``timestamp_s`` and ``video_sample_id``.
        """
        return DatasetQuery(self, kind="frame")

    # -- embeddings -------------------------------------------------------------------------------
    def compute_embeddings(
        self, embedding_model: Any = None, *, engine: str = "local", **_: Any
    ) -> int:
        """Embed every frame without a vector of the model, then set each video's vector to
        the mean of its frames'. Returns how many frames were embedded.

        Frames are decoded by this process, so only ``engine="local"`` is offered."""
        if engine != "local":
            raise EmbeddingError(
                f"engine={engine!r} embeds image files; video frames are decoded by this "
                "process, so VideoDataset.compute_embeddings runs locally."
            )
        count = compute_frame_embeddings(self, embedding_model=embedding_model)
        compute_video_embeddings(self)
        return count

    def _after_ingest(self, new_sample_ids: list, embed: bool) -> None:
        # Frames are embedded with the image model; a video's vector is the mean of its
        # frames', so text search, similarity, plot and selection work on videos too.
        if not embed or not new_sample_ids:
            return
        video_ids, frame_ids = new_ids_by_kind(new_sample_ids)
        if frame_ids:
            compute_frame_embeddings(self, frame_ids)
        if video_ids:
            compute_video_embeddings(self, video_ids)

    # -- export -----------------------------------------------------------------------------------
    def export(self, query: DatasetQuery | None = None) -> VideoDatasetExport:
        """Exporter of frames: of every video in ``query`` (a video query) or of the frames in
        ``query`` (a frame query, e.g. ``dataset.frames().match(...)``); default: all frames."""
        return VideoDatasetExport(self, query)

    def to_image_files(
        self, output_dir: str | os.PathLike, query: DatasetQuery | None = None
    ) -> list[str]:
        """Write the sampled frames as JPEG files; see VideoDatasetExport.to_image_files."""
        return self.export(query).to_image_files(output_dir)
