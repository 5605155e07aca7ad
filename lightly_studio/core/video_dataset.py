"""VideoDataset: a dataset of video files and the frames sampled from them.

Storage: a video is a row of ``sample`` with kind='video' (fps, duration_s, frame_count,
codec); each sampled frame is a row with kind='frame', ``parent_sample_id`` = its video,
``frame_number``/``timestamp_s``, and the video's file path and size. Frames are samples like
images, so tags, metadata, annotations and embeddings work on them unchanged.

This module is the façade: indexing lives in ``ingest/video.py``, frame and video embeddings
in ``embed/_video.py``, frame export in ``export/_video.py``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from lightly_studio.core.dataset import Dataset
from lightly_studio.core.dataset_query import DatasetQuery
from lightly_studio.embed._video import compute_frame_embeddings, compute_video_embeddings
from lightly_studio.export._video import VideoDatasetExport
from lightly_studio.ingest.video import DEFAULT_TARGET_FPS, index_videos, new_ids_by_kind


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
    ) -> int:
        """Index every video below ``path`` (a local folder or one file). Returns how many were new.

        For each video, width, height, fps, duration, frame count and codec are read, and one
        frame per ``1 / target_fps`` seconds becomes a frame sample (``None``: every frame).
        Re-running adds only videos not indexed yet (existing ones keep their frames).
        Unreadable or corrupt videos are skipped and listed in one warning. With ``embed``,
        frames get image embeddings and each video the mean of its frames' embeddings.
        """
        video_ids, frame_ids = index_videos(self.dataset_id, path, allowed_extensions, target_fps)
        self._after_ingest(video_ids + frame_ids, embed=embed)
        return len(video_ids)

    # -- frames -----------------------------------------------------------------------------------
    def frames(self) -> DatasetQuery:
        """A query over the sampled frames of all videos (match, order_by, slice, add_tag…).

        Use ``FrameSampleField`` in expressions; each frame has ``frame_number``,
        ``timestamp_s`` and ``video_sample_id``.
        """
        return DatasetQuery(self, kind="frame")

    # -- embeddings -------------------------------------------------------------------------------
    def compute_embeddings(self, embedding_model: Any = None) -> int:
        """Embed every frame without a vector of the model, then set each video's vector to
        the mean of its frames'. Returns how many frames were embedded."""
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
