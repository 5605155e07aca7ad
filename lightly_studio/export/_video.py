"""Export of video datasets: sampled frames as image files, frame-level boxes as COCO-VID."""

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
