"""VideoDataset: a dataset of video files and the frames sampled from them.

Storage: a video is a row of ``sample`` with kind='video' (fps, duration_s, frame_count,
codec); each sampled frame is a row with kind='frame', ``parent_sample_id`` = its video,
``frame_number``/``timestamp_s``, and the video's file path and size. Frames are samples like
images, so tags, metadata, annotations and embeddings work on them unchanged.
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from lightly_studio.core.dataset import Dataset
from lightly_studio.db import query_frame
from lightly_studio.errors import QueryError
from lightly_studio.ingest.files import report_skipped
from lightly_studio.ingest.video import DEFAULT_TARGET_FPS

if TYPE_CHECKING:
    from lightly_studio.core.dataset_query import DatasetQuery

logger = logging.getLogger("lightly_studio")

#: Videos probed and stored per transaction: a crash keeps whole batches, a rerun adds the rest.
BATCH_VIDEOS = 256


class VideoDataset(Dataset):
    """A dataset of videos. Create with ``VideoDataset.create()``, fill with
    ``add_videos_from_path``; ``dataset.frames()`` and ``video.frames`` query the frames."""

    kind = "video"
    sample_kind = "video"

    # -- indexing ---------------------------------------------------------------------------------
    def add_videos_from_path(self, path: str | os.PathLike, allowed_extensions: Sequence[str] | None = None,
                             target_fps: float | None = DEFAULT_TARGET_FPS,
                             embed: bool = True) -> int:
        """Index every video below ``path`` (a local folder or one file). Returns how many were new.

        For each video, width, height, fps, duration, frame count and codec are read, and one
        frame per ``1 / target_fps`` seconds becomes a frame sample (``None``: every frame).
        Re-running adds only videos not indexed yet (existing ones keep their frames).
        Unreadable or corrupt videos are skipped and listed in one warning. With ``embed``,
        frames get image embeddings and each video the mean of its frames' embeddings.
        """
        from lightly_studio.db import get_connection
        from lightly_studio.ingest.video import list_video_files

        if target_fps is not None and (isinstance(target_fps, bool) or not target_fps > 0):
            raise ValueError(f"target_fps must be a positive number or None, got {target_fps!r}.")
        listing = list_video_files(path, allowed_extensions)
        new_paths = _not_indexed(get_connection(), self.dataset_id, listing.paths)
        failed: list[tuple[str, str]] = list(listing.skipped)
        video_ids: list[str] = []
        frame_ids: list[str] = []
        for start in range(0, len(new_paths), BATCH_VIDEOS):
            videos, frames = self._index_batch(new_paths[start:start + BATCH_VIDEOS],
                                               target_fps, failed, progress=len(new_paths) > 1)
            video_ids += videos
            frame_ids += frames
        n_videos = len(video_ids)
        # Nothing indexed, now or before, from a path whose every file failed: an error.
        nothing = n_videos == 0 and len(new_paths) == len(listing.paths)
        report_skipped(failed, total=len(listing.paths) + len(listing.skipped),
                       root=listing.root, kind="video", nothing_indexed=nothing)
        if not listing.paths and not listing.skipped:
            logger.warning("No videos with extensions %s found below %s.",
                           ", ".join(_extensions(allowed_extensions)), listing.root)
        self._after_ingest(video_ids + frame_ids, embed=embed)
        return n_videos

    def _index_batch(self, paths: list[str], target_fps: float | None,
                     failed: list[tuple[str, str]], progress: bool
                     ) -> tuple[list[str], list[str]]:
        """Probe, sample and store one batch of videos; (new video ids, new frame ids)."""
        from lightly_studio.core.samples_store import insert_samples
        from lightly_studio.db import transaction
        from lightly_studio.ingest.video import probe_videos, sample_frames

        probes, failures = probe_videos(paths, progress=progress)
        failed.extend(failures)
        if not probes:
            return [], []
        videos = pl.DataFrame({
            "file_path_abs": [p.file_path_abs for p in probes],
            "file_name": [os.path.basename(p.file_path_abs) for p in probes],
            "width": [p.width for p in probes],
            "height": [p.height for p in probes],
            "fps": [p.fps for p in probes],
            "duration_s": [p.duration_s for p in probes],
            "frame_count": [p.frame_count for p in probes],
            "codec": [p.codec for p in probes],
        }, schema_overrides={"width": pl.Int32, "height": pl.Int32, "frame_count": pl.Int32})
        sampled = pl.concat([
            sample_frames(p, target_fps).with_columns(
                pl.lit(p.file_path_abs).alias("file_path_abs"))
            for p in probes
        ])
        with transaction() as con:
            stored_videos = insert_samples(con, self.dataset_id,
                                           videos.with_columns(pl.lit("video").alias("kind")))
            parents = stored_videos.filter(pl.col("is_new")).select(
                "file_path_abs", pl.col("sample_id").alias("parent_sample_id"))
            frames = (
                sampled.join(parents, on="file_path_abs", how="inner")
                .join(videos.select("file_path_abs", "file_name", "width", "height"),
                      on="file_path_abs", how="left")
                .with_columns(pl.lit("frame").alias("kind"))
            )
            stored_frames = insert_samples(con, self.dataset_id, frames)
        return (parents["parent_sample_id"].to_list(),
                stored_frames.filter(pl.col("is_new"))["sample_id"].to_list())

    # -- frames -----------------------------------------------------------------------------------
    def frames(self) -> DatasetQuery:
        """A query over the sampled frames of all videos (match, order_by, slice, add_tag…).

        Use ``FrameSampleField`` in expressions; each frame has ``frame_number``,
        ``timestamp_s`` and ``video_sample_id``.
        """
        from lightly_studio.core.dataset_query import DatasetQuery

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
        from lightly_studio.db import get_connection

        video_ids = _ids_of_kind(get_connection(), new_sample_ids, "video")
        frame_ids = _ids_of_kind(get_connection(), new_sample_ids, "frame")
        if frame_ids:
            compute_frame_embeddings(self, frame_ids)
        if video_ids:
            compute_video_embeddings(self, video_ids)

    # -- export -----------------------------------------------------------------------------------
    def export(self, query: DatasetQuery | None = None) -> VideoDatasetExport:
        """Exporter of frames: of every video in ``query`` (a video query) or of the frames in
        ``query`` (a frame query, e.g. ``dataset.frames().match(...)``); default: all frames."""
        return VideoDatasetExport(self, query)

    def to_image_files(self, output_dir: str | os.PathLike,
                       query: DatasetQuery | None = None) -> list[str]:
        """Write the sampled frames as JPEG files; see VideoDatasetExport.to_image_files."""
        return self.export(query).to_image_files(output_dir)


# ------------------------------------------------------------------------------------------------
# Video embeddings: the mean of the frame embeddings, per model
# ------------------------------------------------------------------------------------------------

#: Frames per model batch; decoding runs ahead in threads, one video per thread.
FRAME_BATCH = 64


def compute_frame_embeddings(dataset: VideoDataset, sample_ids: Sequence | None = None,
                             embedding_model: Any = None, *, progress: bool = True) -> int:
    """Embed the dataset's frames that have no vector of the model yet (default: the
    dataset's image model, as for images). Returns how many vectors were stored.

    Each video is decoded in one sequential pass (``iter_frame_samples``); batches are
    committed as they finish, so an interrupted run resumes. Offline without weights: warns
    once and returns 0, like image datasets.
    """
    # lightly_studio.embed.compute_embeddings embeds kind='image' rows by reading their files;
    # frames need the video decoded, so embed_decoded_images gets them from iter_frame_samples
    # (same model resolution and vector store, so search and plots see one model).
    from lightly_studio.db import get_connection
    from lightly_studio.embed import embed_decoded_images
    from lightly_studio.ingest.video import iter_frame_samples

    sql = ("SELECT CAST(s.sample_id AS VARCHAR) AS sample_id, s.file_path_abs, s.timestamp_s "
           "FROM sample s WHERE s.dataset_id = $1 AND s.kind = 'frame'")
    params: list[Any] = [str(dataset.dataset_id)]
    if sample_ids is not None:
        params.append([str(i) for i in sample_ids])
        sql += f" AND s.sample_id IN (SELECT unnest(${len(params)}::UUID[]))"
    frames = query_frame(sql + " ORDER BY s.file_path_abs, s.frame_number", params,
                         con=get_connection())
    if frames.is_empty():
        return 0
    paths = dict(zip(frames["sample_id"], frames["file_path_abs"], strict=True))
    unreadable: list[str] = []

    def read_frames(todo: list[str], side: int):
        # Decode at about twice the model's input size: swscale downsizes while converting.
        wanted = frames.filter(pl.col("sample_id").is_in(todo))
        for sample_id, image in iter_frame_samples(wanted, max_size=2 * side,
                                                   cache_thumbnails=True):
            if image is None:
                unreadable.append(paths[sample_id])
            yield sample_id, image

    stored = embed_decoded_images(dataset, frames["sample_id"], read_frames, embedding_model,
                                  batch_size=FRAME_BATCH,
                                  progress=progress and frames.height >= 200)
    if unreadable:
        files = sorted(set(unreadable))
        warnings.warn(f"{len(unreadable)} frame(s) of {len(files)} video(s) could not be "
                      f"decoded and have no embedding: {', '.join(files[:3])}"
                      f"{' …' if len(files) > 3 else ''}", UserWarning, stacklevel=2)
    return stored


def compute_video_embeddings(dataset: VideoDataset, video_ids: Sequence | None = None) -> int:
    """Store, for every embedding model of the dataset, each video's mean frame embedding
    (L2-normalised). Videos without embedded frames get none. Returns how many were stored."""
    from lightly_studio.db import get_connection
    from lightly_studio.embed import add_embeddings, embedding_model_names, get_embeddings

    con = get_connection()
    stored = 0
    frames_sql, frames_params = _frames_of_videos_sql(dataset.dataset_id, video_ids)
    parents = query_frame(
        f"SELECT CAST(sample_id AS VARCHAR) AS sample_id, "
        f"CAST(parent_sample_id AS VARCHAR) AS video_id FROM ({frames_sql})",
        frames_params, con=con)
    if parents.is_empty():
        return 0
    for model_name in embedding_model_names(dataset):
        ids, vectors = get_embeddings(dataset, sample_ids_subquery=(
            f"SELECT sample_id FROM ({frames_sql})", frames_params), model_name=model_name)
        if len(ids) == 0:
            continue
        order = pl.DataFrame({"sample_id": [str(i) for i in ids],
                              "row": np.arange(len(ids))})
        grouped = (order.join(parents, on="sample_id", how="inner")
                   .group_by("video_id", maintain_order=True).agg(pl.col("row")))
        means = np.stack([np.asarray(vectors)[rows].mean(axis=0)
                          for rows in grouped["row"].to_list()])
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        means = means / np.where(norms > 0, norms, 1.0)
        add_embeddings(dataset, model_name, [uuid.UUID(v) for v in grouped["video_id"]],
                       means.astype(np.float32))
        stored += len(grouped)
    return stored


def _frames_of_videos_sql(dataset_id: uuid.UUID, video_ids: Sequence | None) -> tuple[str, list]:
    sql = ("SELECT sample_id, parent_sample_id FROM sample "
           "WHERE dataset_id = $1 AND kind = 'frame'")
    params: list[Any] = [str(dataset_id)]
    if video_ids is not None:
        sql += " AND parent_sample_id IN (SELECT unnest($2::UUID[]))"
        params.append([str(v) for v in video_ids])
    return sql, params


# ------------------------------------------------------------------------------------------------
# Export: frames as image files, frame-level boxes as COCO
# ------------------------------------------------------------------------------------------------

class VideoDatasetExport:
    """Writes the frames selected by a query (see VideoDataset.export)."""

    def __init__(self, dataset: VideoDataset, query: DatasetQuery | None = None) -> None:
        self.dataset = dataset
        self.query = query if query is not None else dataset.frames()

    def __getattr__(self, name: str) -> Any:
        # Exports that need no decoded pixels (CSV, captions, …) come from the generic
        # exporter, run on the same query.
        if name.startswith("_"):
            raise AttributeError(name)
        from lightly_studio.export import DatasetExport

        return getattr(DatasetExport(self.dataset, self.query), name)

    def _frames(self) -> pl.DataFrame:
        """The frames to export with the relative file name each gets, in video/time order."""
        from lightly_studio.db import get_connection

        con = get_connection()
        sub_sql, sub_params = self.query.sample_ids_subquery()
        if self.query.kind not in ("frame", "video"):
            raise QueryError(f"Cannot export frames of a query over {self.query.kind} samples.")
        # A frame query names the frames; a video query names videos whose frames to export.
        column = "sample_id" if self.query.kind == "frame" else "parent_sample_id"
        n = len(sub_params)
        frames = query_frame(
            f"""SELECT CAST(f.sample_id AS VARCHAR) AS sample_id,
                       CAST(f.parent_sample_id AS VARCHAR) AS video_id,
                       f.file_path_abs, f.file_name, f.width, f.height,
                       f.frame_number, f.timestamp_s
                FROM sample f
                WHERE f.dataset_id = ${n + 1} AND f.kind = 'frame'
                  AND f.{column} IN (SELECT sample_id FROM ({sub_sql}))
                ORDER BY f.file_path_abs, f.frame_number""",
            [*sub_params, str(self.dataset.dataset_id)], con=con)
        if frames.is_empty():
            return frames.with_columns(pl.lit("").alias("export_name"))
        # Folder per video, named by its file stem; stems shared by several videos get a
        # piece of the video id so names stay unique and stable across runs.
        videos = frames.select("video_id", "file_name").unique(maintain_order=True)
        stems = videos.with_columns(
            pl.col("file_name").map_elements(lambda n: Path(n).stem, return_dtype=pl.Utf8)
            .alias("stem"))
        stems = stems.with_columns(
            pl.when(pl.col("stem").is_duplicated())
            .then(pl.col("stem") + "_" + pl.col("video_id").str.slice(0, 8))
            .otherwise(pl.col("stem")).alias("folder"))
        frames = frames.join(stems.select("video_id", "folder"), on="video_id", how="left")
        return frames.with_columns(
            (pl.col("folder") + "/" + pl.col("folder") + "_"
             + pl.col("frame_number").cast(pl.Utf8).str.zfill(6) + ".jpg").alias("export_name"))

    def to_image_files(self, output_dir: str | os.PathLike, *, quality: int = 95,
                       max_size: int | None = None) -> list[str]:
        """Decode the frames and write ``<output_dir>/<video>/<video>_<frame:06d>.jpg``.

        Videos are decoded in parallel, each in one sequential pass. Returns the written
        paths in video/time order.
        """
        import concurrent.futures

        frames = self._frames()
        out = Path(output_dir)
        if frames.is_empty():
            return []
        out.mkdir(parents=True, exist_ok=True)
        jobs = frames.group_by("file_path_abs", maintain_order=True).agg(
            "timestamp_s", "export_name")

        def write_video(path: str, timestamps: list[float], names: list[str]) -> None:
            from lightly_studio.ingest.video import iter_frames

            by_time = dict(zip(timestamps, names, strict=True))
            (out / names[0]).parent.mkdir(parents=True, exist_ok=True)
            for timestamp, image in iter_frames(path, timestamps, max_size=max_size):
                image.save(out / by_time[timestamp], format="JPEG", quality=quality)

        workers = min(4, os.cpu_count() or 2)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(write_video, *row) for row in jobs.iter_rows()]
            for future in futures:
                future.result()
        return [str(out / name) for name in frames["export_name"]]

    def to_coco_object_detections(self, output_json: str | os.PathLike = "coco_export.json",
                                  *, images_dir: str | os.PathLike | None = None,
                                  annotation_source: str | None = "ground_truth") -> Path:
        """Write the frames' boxes as COCO (with COCO-VID ``videos`` and per-image
        ``video_id``/``frame_id``), image file names as written by ``to_image_files``.

        ``images_dir``: also write the frame images there. ``annotation_source=None`` exports
        boxes of every source (predictions carry ``score``).
        """
        import json

        from lightly_studio.db import get_connection

        frames = self._frames()
        if images_dir is not None:
            self.to_image_files(images_dir)
        con = get_connection()
        labels = query_frame(
            "SELECT CAST(label_id AS VARCHAR) AS label_id, name FROM annotation_label "
            "WHERE dataset_id = $1 ORDER BY name", [str(self.dataset.dataset_id)], con=con)
        labels = labels.with_columns(pl.int_range(1, labels.height + 1).alias("category_id"))
        frames = frames.with_columns(pl.int_range(1, frames.height + 1).alias("image_id"))
        boxes = pl.DataFrame(schema={"sample_id": pl.Utf8, "label_id": pl.Utf8})
        if not frames.is_empty():
            con.register("_export_frames", frames.select("sample_id"))
            try:
                source_clause = "" if annotation_source is None else " AND a.source = $2"
                params: list[Any] = [str(self.dataset.dataset_id)]
                if annotation_source is not None:
                    params.append(annotation_source)
                boxes = query_frame(
                    f"""SELECT CAST(a.sample_id AS VARCHAR) AS sample_id,
                               CAST(a.label_id AS VARCHAR) AS label_id,
                               a.x, a.y, a.width, a.height, a.confidence, a.iscrowd
                        FROM annotation a
                        JOIN _export_frames f ON CAST(f.sample_id AS UUID) = a.sample_id
                        JOIN annotation_label l ON l.label_id = a.label_id
                             AND l.dataset_id = $1
                        WHERE a.annotation_type = 'object_detection'{source_clause}
                        ORDER BY a.sample_id, a.created_at, a.annotation_id""",
                    params, con=con)
            finally:
                con.unregister("_export_frames")
        videos = frames.select("video_id", "file_path_abs", "file_name").unique(
            maintain_order=True).with_columns(pl.int_range(1, pl.len() + 1).alias("coco_video_id"))
        frames = frames.join(videos.select("video_id", "coco_video_id"), on="video_id",
                             how="left")
        annotations = []
        if not boxes.is_empty():
            joined = (boxes.join(frames.select("sample_id", "image_id"), on="sample_id")
                      .join(labels.select("label_id", "category_id"), on="label_id")
                      .sort("image_id", maintain_order=True))
            for i, row in enumerate(joined.iter_rows(named=True), start=1):
                entry = {"id": i, "image_id": row["image_id"], "category_id": row["category_id"],
                         "bbox": [row["x"], row["y"], row["width"], row["height"]],
                         "area": row["width"] * row["height"], "iscrowd": int(row["iscrowd"])}
                if row["confidence"] is not None:
                    entry["score"] = row["confidence"]
                annotations.append(entry)
        document = {
            "info": {"description": f"Frames of video dataset {self.dataset.name!r}"},
            "videos": [{"id": r["coco_video_id"], "file_name": r["file_name"],
                        "file_path_abs": r["file_path_abs"]}
                       for r in videos.iter_rows(named=True)],
            "images": [{"id": r["image_id"], "file_name": r["export_name"], "width": r["width"],
                        "height": r["height"], "video_id": r["coco_video_id"],
                        "frame_id": r["frame_number"], "timestamp_s": r["timestamp_s"]}
                       for r in frames.iter_rows(named=True)],
            "annotations": annotations,
            "categories": [{"id": r["category_id"], "name": r["name"]}
                           for r in labels.iter_rows(named=True)],
        }
        path = Path(output_json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document), encoding="utf-8")
        return path


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

def _extensions(allowed_extensions: Sequence[str] | None) -> tuple[str, ...]:
    from lightly_studio.ingest.files import normalize_extensions
    from lightly_studio.ingest.video import DEFAULT_VIDEO_EXTENSIONS

    return normalize_extensions(allowed_extensions, DEFAULT_VIDEO_EXTENSIONS)


def _not_indexed(con, dataset_id: uuid.UUID, paths: list[str]) -> list[str]:
    if not paths:
        return []
    listed = pl.DataFrame({"file_path_abs": paths})
    con.register("_listed_videos", listed)
    try:
        missing = query_frame(
            """SELECT l.file_path_abs FROM _listed_videos l
               ANTI JOIN (SELECT file_path_abs FROM sample
                          WHERE dataset_id = $1 AND kind = 'video') s
               ON s.file_path_abs = l.file_path_abs""",
            [str(dataset_id)], con=con)
    finally:
        con.unregister("_listed_videos")
    return sorted(missing["file_path_abs"].to_list())


def _ids_of_kind(con, sample_ids: list, kind: str) -> list[str]:
    """The ids among ``sample_ids`` whose sample is of ``kind`` (one semi-join)."""
    if not sample_ids:
        return []
    found = query_frame(
        "SELECT CAST(sample_id AS VARCHAR) AS sample_id FROM sample WHERE kind = $2 "
        "AND sample_id IN (SELECT unnest($1::UUID[]))", [[str(i) for i in sample_ids], kind],
        con=con)
    return found["sample_id"].to_list()


