"""COCO writers: detections, instance segmentations (polygons kept, else RLE), captions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from lightly_studio.export._frames import relative_names
from lightly_studio.shapes import rle
from lightly_studio.store.annotations import BOXED, MASKED, annotations_frame
from lightly_studio.store.captions import captions_frame
from lightly_studio.store.labels import label_names
from lightly_studio.store.samples import export_rows


def _images(con, query: Any, root) -> tuple[pl.DataFrame, str]:
    """Samples with their COCO image_id, and the JSON text of the 'images' list."""
    samples = export_rows(con, query.sample_ids_subquery())
    _, rel = relative_names(samples["file_path_abs"].to_list(), root)
    samples = samples.with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("image_id"),
        pl.Series("file_name", rel, dtype=pl.Utf8),
    )
    images = _json_list(
        samples.select(pl.col("image_id").alias("id"), "file_name", "width", "height")
    )
    return samples, images


def write_coco(
    con,
    dataset: Any,
    query: Any,
    output_json: str | os.PathLike,
    *,
    masks: bool,
    root: str | os.PathLike | None = None,
    annotation_source: str | None = None,
) -> Path:
    """Write a COCO instances file for the query; returns its path."""
    samples, images = _images(con, query, root)
    names = label_names(con, dataset.dataset_id)
    category_id = {n: i + 1 for i, n in enumerate(names)}
    sub = query.sample_ids_subquery()
    anns = annotations_frame(
        con,
        dataset.dataset_id,
        sample_ids_subquery=sub,
        source=annotation_source,
        types=MASKED if masks else BOXED,
    )
    anns = anns.join(
        samples.select("sample_id", "image_id", "width", "height").rename(
            {"width": "img_width", "height": "img_height"}
        ),
        on="sample_id",
        how="inner",
        maintain_order="left",
    ).sort("image_id", maintain_order=True)
    area = (
        pl.col("segmentation_mask").list.gather_every(2, offset=1).list.sum().cast(pl.Float64)
        if masks
        else pl.col("width") * pl.col("height")
    )
    columns = [
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"),
        "image_id",
        pl.col("label").replace_strict(category_id, return_dtype=pl.Int64).alias("category_id"),
        pl.concat_list("x", "y", "width", "height").alias("bbox"),
        area.alias("area"),
        pl.col("iscrowd").cast(pl.Int64),
    ]
    if anns["confidence"].null_count() < anns.height:
        columns.append(pl.col("confidence").alias("score"))
    table = anns.select(columns)
    if masks:
        segmentations = [
            _segmentation(runs, poly, crowd, w, h)
            for runs, poly, crowd, w, h in zip(
                anns["segmentation_mask"].to_list(),
                anns["polygon"].to_list(),
                anns["iscrowd"].to_list(),
                anns["img_width"].to_list(),
                anns["img_height"].to_list(),
                strict=True,
            )
        ]
        rows = _ndjson_rows(table)
        annotations = (
            "["
            + ",".join(
                row[:-1] + ',"segmentation":' + seg + "}"
                for row, seg in zip(rows, segmentations, strict=True)
            )
            + "]"
        )
    else:
        # A box without a score has no "score" key (COCO readers take a present score as a
        # number); score is the last column, so its null is the row's last field.
        annotations = _json_list(table).replace(',"score":null}', "}")
    categories = json.dumps(
        [{"id": i, "name": n, "supercategory": ""} for n, i in category_id.items()],
        ensure_ascii=False,
    )
    return _write(output_json, _info(dataset), images, annotations, categories)


def _segmentation(runs: list[int], poly: list | None, crowd: bool, w: int, h: int) -> str:
    if poly is not None and not crowd:
        return json.dumps([list(ring) for ring in poly])
    # A mask without a polygon (RLE in the source, a brush, from_binary_mask): uncompressed
    # COCO RLE keeps every pixel.
    return json.dumps(rle.rle_to_coco_rle(runs, w, h))


def write_coco_captions(
    con,
    dataset: Any,
    query: Any,
    output_json: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
) -> Path:
    samples, images = _images(con, query, root)
    caps = captions_frame(con, query.sample_ids_subquery())
    caps = caps.join(
        samples.select("sample_id", "image_id"), on="sample_id", how="inner", maintain_order="left"
    ).sort("image_id", maintain_order=True)
    annotations = _json_list(
        caps.select(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id"),
            "image_id",
            pl.col("text").alias("caption"),
        )
    )
    return _write(output_json, _info(dataset), images, annotations, None)


def _info(dataset: Any) -> str:
    return json.dumps(
        {"description": f"Exported from lightly_studio dataset {dataset.name!r}"},
        ensure_ascii=False,
    )


def _ndjson_rows(frame: pl.DataFrame) -> list[str]:
    text = frame.write_ndjson()
    return text.rstrip("\n").split("\n") if text else []


def _json_list(frame: pl.DataFrame) -> str:
    """A JSON array of the frame's rows, serialised by polars (Rust) rather than json.dumps,
    which is much slower on large exports. Floats keep their shortest round-trip text."""
    if frame.is_empty():
        return "[]"
    return "[" + frame.write_ndjson().rstrip("\n").replace("\n", ",") + "]"


def _write(
    output_json: str | os.PathLike,
    info: str,
    images: str,
    annotations: str,
    categories: str | None,
    *,
    videos: str | None = None,
) -> Path:
    """Assemble the COCO file from its pre-serialised JSON parts; returns its resolved path."""
    path = Path(output_json).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = ['{"info":', info]
    if videos is not None:  # COCO-VID
        parts += [',"videos":', videos]
    parts += [',"images":', images, ',"annotations":', annotations]
    if categories is not None:
        parts += [',"categories":', categories]
    parts.append("}")
    path.write_text("".join(parts), encoding="utf-8")
    return path.resolve()
