"""Export of video datasets: sampled frames as image files, frame-level boxes as COCO-VID,
object tracks as YouTube-VIS."""

from __future__ import annotations

import concurrent.futures
import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.export import DatasetExport
from lightly_studio.export._coco import _json_list, _ndjson_rows, _write
from lightly_studio.ingest.video import iter_frames
from lightly_studio.shapes import rle
from lightly_studio.store import videos
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.labels import label_names


class VideoDatasetExport:
    """Writes the frames selected by a query (see VideoDataset.export)."""

    def __init__(self, dataset: Any, query: Any = None) -> None:
        self.dataset = dataset
        self.query = query if query is not None else dataset.frames()

    def __getattr__(self, name: str) -> Any:
        # Exports that need no decoded pixels (CSV, captions, …) come from the generic
        # exporter, run on the same query.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(DatasetExport(self.dataset, self.query), name)

    def _frames(self) -> pl.DataFrame:
        """The frames to export with the relative file name each gets, in video/time order."""
        if self.query.kind not in ("frame", "video"):
            raise QueryError(f"Cannot export frames of a query over {self.query.kind} samples.")
        # A frame query names the frames; a video query names videos whose frames to export.
        frames = videos.frames_for_export(
            get_connection(),
            self.dataset.dataset_id,
            self.query.sample_ids_subquery(),
            of_videos=self.query.kind == "video",
        )
        if frames.is_empty():
            return frames.with_columns(pl.lit("").alias("export_name"))
        # Folder per video, named by its file stem; stems shared by several videos get a
        # piece of the video id so names stay unique and stable across runs.
        stems = (
            frames.select("video_id", "file_name")
            .unique(maintain_order=True)
            .with_columns(
                pl.col("file_name")
                .map_elements(lambda n: Path(n).stem, return_dtype=pl.Utf8)
                .alias("stem")
            )
        )
        stems = stems.with_columns(
            pl.when(pl.col("stem").is_duplicated())
            .then(pl.col("stem") + "_" + pl.col("video_id").str.slice(0, 8))
            .otherwise(pl.col("stem"))
            .alias("folder")
        )
        frames = frames.join(stems.select("video_id", "folder"), on="video_id", how="left")
        return frames.with_columns(
            (
                pl.col("folder")
                + "/"
                + pl.col("folder")
                + "_"
                + pl.col("frame_number").cast(pl.Utf8).str.zfill(6)
                + ".jpg"
            ).alias("export_name")
        )

    def to_image_files(
        self, output_dir: str | os.PathLike, *, quality: int = 95, max_size: int | None = None
    ) -> list[str]:
        """Decode the frames and write ``<output_dir>/<video>/<video>_<frame:06d>.jpg``.

        Videos are decoded in parallel, each in one sequential pass. Returns the written
        paths in video/time order.
        """
        return self._write_images(self._frames(), output_dir, quality, max_size)

    @staticmethod
    def _write_images(
        frames: pl.DataFrame, output_dir: str | os.PathLike, quality: int, max_size: int | None
    ) -> list[str]:
        out = Path(output_dir)
        if frames.is_empty():
            return []
        out.mkdir(parents=True, exist_ok=True)
        jobs = frames.group_by("file_path_abs", maintain_order=True).agg(
            "timestamp_s", "export_name"
        )

        def write_video(path: str, timestamps: list[float], names: list[str]) -> None:
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

    def to_youtube_vis(
        self,
        output_json: str | os.PathLike = "youtube_vis_export.json",
        *,
        annotation_source: str | None = "ground_truth",
    ) -> Path:
        """Write the object tracks on the frames as YouTube-VIS (see ``write_youtube_vis``):
        boxes and masks with their track ids, readable again with
        ``VideoDataset.add_videos_from_youtube_vis``."""
        return write_youtube_vis(
            get_connection(),
            self.dataset,
            self._frames(),
            output_json,
            annotation_source=annotation_source,
        )

    def to_coco_object_detections(
        self,
        output_json: str | os.PathLike = "coco_export.json",
        *,
        images_dir: str | os.PathLike | None = None,
        annotation_source: str | None = "ground_truth",
    ) -> Path:
        """Write the frames' boxes as COCO (with COCO-VID ``videos`` and per-image
        ``video_id``/``frame_id``), image file names as written by ``to_image_files``.

        ``images_dir``: also write the frame images there. ``annotation_source=None`` exports
        boxes of every source (predictions carry ``score``).
        """
        frames = self._frames()
        if images_dir is not None:
            self._write_images(frames, images_dir, quality=95, max_size=None)
        return write_video_coco(
            get_connection(), self.dataset, frames, output_json, annotation_source=annotation_source
        )


def write_youtube_vis(
    con,
    dataset: Any,
    frames: pl.DataFrame,
    output_json: str | os.PathLike,
    *,
    annotation_source: str | None,
) -> Path:
    """YouTube-VIS of ``frames`` (as ``VideoDatasetExport._frames`` gives them): one entry per
    video listing all its frames (``<video>/<frame:05d>.jpg``, so list index = frame number),
    and one annotation per object track with a box (and mask) per frame or null.

    A track is the boxes of one video sharing a ``track_id`` and label; a box without a track
    id is a track of its own. Track ids are kept where they are unique in the file.
    """
    category_id = {
        name: i for i, name in enumerate(sorted(label_names(con, dataset.dataset_id)), start=1)
    }
    stored = videos.video_rows(con, dataset.dataset_id).rename({"sample_id": "video_id"})
    chosen = (
        frames.select("video_id", "folder")
        .unique(maintain_order=True)
        .join(stored, on="video_id", how="left")
        .with_columns(pl.int_range(1, pl.len() + 1).alias("coco_video_id"))
    )
    videos_json = [
        {
            "id": row["coco_video_id"],
            "file_names": [f"{row['folder']}/{n:05d}.jpg" for n in range(row["frame_count"])],
            "width": row["width"],
            "height": row["height"],
            "length": row["frame_count"],
        }
        for row in chosen.iter_rows(named=True)
    ]
    tracks_json: list[dict[str, Any]] = []
    if not frames.is_empty():
        boxes = annotations_frame(
            con,
            dataset.dataset_id,
            sample_ids=frames["sample_id"].to_list(),
            source=annotation_source,
            types=["object_detection", "instance_segmentation"],
        ).join(frames.select("sample_id", "video_id", "frame_number"), on="sample_id")
        # A box without a track is its own track: key it by its annotation id.
        boxes = boxes.with_columns(
            pl.coalesce(pl.col("track_id").cast(pl.Utf8), "annotation_id").alias("track_key")
        )
        grouped = boxes.group_by(["video_id", "track_key", "label"], maintain_order=True).agg(
            pl.col("track_id").first(),
            "frame_number",
            "x",
            "y",
            "width",
            "height",
            "segmentation_mask",
            pl.col("iscrowd").any(),
            pl.col("confidence").mean(),
        )
        grouped = grouped.join(
            chosen.select("video_id", "coco_video_id", "frame_count", "width", "height"),
            on="video_id",
            suffix="_video",
        )
        # Keep a stored track id unless another track in the file has it too.
        ids = grouped["track_id"]
        unique_ids = set(ids.filter(~ids.is_duplicated() & ids.is_not_null()).to_list())
        next_id = (ids.max() or 0) + 1  # type: ignore[operator]
        for row in grouped.iter_rows(named=True):
            track_id = row["track_id"]
            if track_id not in unique_ids:
                track_id, next_id = next_id, next_id + 1
            length, width, height = row["frame_count"], row["width_video"], row["height_video"]
            bboxes: list[Any] = [None] * length
            areas: list[Any] = [None] * length
            masks: list[Any] = [None] * length
            for n, x, y, w, h, runs in zip(
                row["frame_number"],
                row["x"],
                row["y"],
                row["width"],
                row["height"],
                row["segmentation_mask"],
                strict=True,
            ):
                bboxes[n] = [x, y, w, h]
                areas[n] = w * h if runs is None else rle.area(runs)
                if runs is not None:
                    masks[n] = rle.rle_to_coco_rle(runs, width, height, compressed=True)
            track: dict[str, Any] = {
                "id": track_id,
                "video_id": row["coco_video_id"],
                "category_id": category_id[row["label"]],
                "bboxes": bboxes,
                "areas": areas,
                "segmentations": masks,
                "iscrowd": int(row["iscrowd"]),
                "width": width,
                "height": height,
                "length": length,
            }
            if row["confidence"] is not None:
                track["score"] = row["confidence"]
            tracks_json.append(track)
    path = Path(output_json).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "info": {"description": f"Object tracks of video dataset {dataset.name!r}"},
        "videos": videos_json,
        "categories": [{"id": i, "name": n} for n, i in category_id.items()],
        "annotations": tracks_json,
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path.resolve()


def write_video_coco(
    con,
    dataset: Any,
    frames: pl.DataFrame,
    output_json: str | os.PathLike,
    *,
    annotation_source: str | None,
) -> Path:
    """COCO detections of ``frames`` (as ``VideoDatasetExport._frames`` gives them) plus the
    COCO-VID ``videos`` list; categories in name order. Returns the path written."""
    category_id = {
        name: i for i, name in enumerate(sorted(label_names(con, dataset.dataset_id)), start=1)
    }
    frames = frames.with_columns(pl.int_range(1, frames.height + 1).alias("image_id"))
    video_rows = (
        frames.select("video_id", "file_path_abs", "file_name")
        .unique(maintain_order=True)
        .with_columns(pl.int_range(1, pl.len() + 1).alias("coco_video_id"))
    )
    frames = frames.join(video_rows.select("video_id", "coco_video_id"), on="video_id", how="left")
    annotations = "[]"
    if not frames.is_empty():
        boxes = annotations_frame(
            con,
            dataset.dataset_id,
            sample_ids=frames["sample_id"].to_list(),
            source=annotation_source,
            types=["object_detection"],
        )
        boxes = boxes.join(frames.select("sample_id", "image_id"), on="sample_id").sort(
            "image_id", maintain_order=True
        )
        table = boxes.select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"),
            "image_id",
            pl.col("label").replace_strict(category_id, return_dtype=pl.Int64).alias("category_id"),
            pl.concat_list("x", "y", "width", "height").alias("bbox"),
            (pl.col("width") * pl.col("height")).alias("area"),
            pl.col("iscrowd").cast(pl.Int64),
            # COCO-VID's (mmtracking) name for the object track of a box.
            pl.col("track_id").alias("instance_id"),
        )
        # Predictions carry a score, ground truth none (not a null one).
        annotations = (
            "["
            + ",".join(
                row if score is None else f'{row[:-1]},"score":{json.dumps(score)}}}'
                for row, score in zip(
                    _ndjson_rows(table), boxes["confidence"].to_list(), strict=True
                )
            )
            + "]"
        )
    images = _json_list(
        frames.select(
            pl.col("image_id").alias("id"),
            pl.col("export_name").alias("file_name"),
            "width",
            "height",
            pl.col("coco_video_id").alias("video_id"),
            pl.col("frame_number").alias("frame_id"),
            "timestamp_s",
        )
    )
    videos_json = _json_list(
        video_rows.select(pl.col("coco_video_id").alias("id"), "file_name", "file_path_abs")
    )
    categories = json.dumps([{"id": i, "name": n} for n, i in category_id.items()])
    info = json.dumps({"description": f"Frames of video dataset {dataset.name!r}"})
    return _write(output_json, info, images, annotations, categories, videos=videos_json)
