"""YOLO writer (Ultralytics layout): <split>/images, <split>/labels/*.txt and data.yaml.

Samples tagged train / val (valid) / test go to that split; untagged samples go to train.
Label lines are built for all samples at once in polars; the only per-file Python work is
writing each .txt file (and linking or copying its image).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Literal

import polars as pl

from lightly_studio.errors import ExportError
from lightly_studio.export._frames import relative_names
from lightly_studio.store.annotations import BOXED, MASKED, annotations_frame
from lightly_studio.store.labels import label_names
from lightly_studio.store.samples import export_rows

ImageMode = Literal["link", "symlink", "copy", "none"]


def write_yolo(
    con,
    dataset: Any,
    query: Any,
    output_folder: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    images: ImageMode = "link",
    annotation_source: str | None = None,
    task: Literal["detect", "segment"] = "detect",
) -> Path:
    """Write the query's boxes as a YOLO dataset; returns the path of its data.yaml.

    ``task='segment'``: polygons instead of boxes (Ultralytics segment labels), one line
    per annotation; a polygon of several rings is written as one ring joining them with
    zero-width bridges (as Ultralytics does), masks without a polygon are left out (reported).

    ``images``: 'link' (default) hard-links each image into ``<split>/images`` (falling back
    to a symlink, then a copy, where the filesystem refuses), 'symlink', 'copy', or 'none'
    (labels and data.yaml only). A hard link costs one directory entry and reads as a plain
    file everywhere; a symlink with a long target costs a block write, so many symlinks are
    much slower than hard links (docs/performance.md). File names inside a split are
    relative to ``root`` (default: the common folder of that split's images).
    """
    import yaml

    if images not in ("link", "symlink", "copy", "none"):
        raise ExportError(f"images must be 'link', 'symlink', 'copy' or 'none', got {images!r}")
    out = Path(output_folder).expanduser().resolve()
    samples = export_rows(con, query.sample_ids_subquery(), with_split=True)
    if images != "none" and any("://" in p for p in samples["file_path_abs"].head(1)):
        raise ExportError(
            "Images in cloud storage cannot be linked or copied into a "
            "YOLO export; pass images='none' to write labels only."
        )
    names = label_names(con, dataset.dataset_id)
    class_id = {n: i for i, n in enumerate(names)}

    # Relative names per split, so each split's folder mirrors its own image folder.
    parts = []
    for split in ("train", "val", "test"):
        part = samples.filter(pl.col("split") == split)
        if part.is_empty():
            continue
        _, rel = relative_names(part["file_path_abs"].to_list(), root)
        parts.append(part.with_columns(pl.Series("rel", rel, dtype=pl.Utf8)))
    samples = (
        pl.concat(parts)
        if parts
        else samples.with_columns(pl.lit(None, dtype=pl.Utf8).alias("rel"))
    )
    samples = samples.with_columns(
        (pl.lit(str(out) + "/") + pl.col("split") + "/images/" + pl.col("rel")).alias("image_out"),
        (
            pl.lit(str(out) + "/")
            + pl.col("split")
            + "/labels/"
            + pl.col("rel").str.replace(r"\.[^./]*$", "")
            + ".txt"
        ).alias("label_out"),
    )

    anns = annotations_frame(
        con,
        dataset.dataset_id,
        sample_ids_subquery=query.sample_ids_subquery(),
        source=annotation_source,
        types=MASKED if task == "segment" else BOXED,
    )
    if task == "segment":
        anns = _polygon_rows(anns)
    anns = anns.join(
        samples.select("sample_id", "width", "height").rename(
            {"width": "img_w", "height": "img_h"}
        ),
        on="sample_id",
        how="inner",
        maintain_order="left",
    )
    w, h = pl.col("img_w").cast(pl.Float64), pl.col("img_h").cast(pl.Float64)
    # Shortest round-trip float text: re-importing gives the same pixel boxes.
    line = pl.concat_str(
        [
            pl.col("label").replace_strict(class_id, return_dtype=pl.Int64).cast(pl.Utf8),
            ((pl.col("x") + pl.col("width") / 2) / w).cast(pl.Utf8),
            ((pl.col("y") + pl.col("height") / 2) / h).cast(pl.Utf8),
            (pl.col("width") / w).cast(pl.Utf8),
            (pl.col("height") / h).cast(pl.Utf8),
        ],
        separator=" ",
    )
    if task == "segment":
        anns = anns.with_columns(_normalised_points(anns))
        line = pl.concat_str(
            [
                pl.col("label").replace_strict(class_id, return_dtype=pl.Int64).cast(pl.Utf8),
                pl.col("points"),
            ],
            separator=" ",
        )
    line = (
        pl.when(pl.col("confidence").is_not_null() & pl.lit(task != "segment"))
        .then(pl.concat_str([line, pl.col("confidence").cast(pl.Utf8)], separator=" "))
        .otherwise(line)
    )
    per_sample = anns.group_by("sample_id", maintain_order=True).agg(
        line.str.join("\n").alias("text")
    )
    files = samples.join(per_sample, on="sample_id", how="left", maintain_order="left")

    for folder in files["label_out"].str.replace(r"/[^/]*$", "").unique().to_list():
        os.makedirs(folder, exist_ok=True)
    jobs = list(zip(files["label_out"].to_list(), files["text"].to_list(), strict=True))
    _in_threads(_write_labels, jobs)
    if images != "none":
        for folder in files["image_out"].str.replace(r"/[^/]*$", "").unique().to_list():
            os.makedirs(folder, exist_ok=True)
        pairs = list(
            zip(files["file_path_abs"].to_list(), files["image_out"].to_list(), strict=True)
        )
        _in_threads(lambda chunk: _place_images(chunk, images), pairs)

    config: dict[str, Any] = {}
    for split in ("train", "val", "test"):
        if (files["split"] == split).any():
            config[split] = f"{split}/images"
    config["nc"] = len(names)
    config["names"] = names
    yaml_path = out / "data.yaml"
    out.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return yaml_path


def _polygon_rows(anns: pl.DataFrame) -> pl.DataFrame:
    """Segmentations with a polygon, its rings joined into one (``flat``, pixels)."""
    import warnings

    has = anns["polygon"].is_not_null() & ~anns["iscrowd"].fill_null(False)
    left_out = int((~has).sum())
    if left_out:
        warnings.warn(
            f"{left_out} masks have no polygon (RLE, brush, crowd) and were left out of the "
            "YOLO segmentation export",
            stacklevel=4,
        )
    anns = anns.filter(has)
    flat = [_join_rings(rings) for rings in anns["polygon"].to_list()]
    return anns.with_columns(pl.Series("flat", flat, dtype=pl.List(pl.Float64)))


def _join_rings(rings: list[list[float]]) -> list[float]:
    """One ring for several: go to each next ring and come back the same way (zero-width
    bridges), as Ultralytics' merge_multi_segment does."""
    if len(rings) == 1:
        return list(rings[0])
    rings = [_counter_clockwise(r) for r in rings]  # so the rings' areas add up
    out: list[float] = list(rings[0]) + list(rings[0][:2])
    for ring in rings[1:]:
        out += list(ring) + list(ring[:2]) + list(rings[0][:2])
    return out


def _counter_clockwise(ring: list[float]) -> list[float]:
    xs, ys = ring[0::2], ring[1::2]
    area2 = sum(xs[i - 1] * ys[i] - xs[i] * ys[i - 1] for i in range(len(xs)))
    if area2 >= 0:
        return list(ring)
    return [v for i in range(len(xs) - 1, -1, -1) for v in (xs[i], ys[i])]


def _normalised_points(anns: pl.DataFrame) -> pl.Series:
    """'x0 y0 x1 y1 …' normalised by the image size, shortest round-trip float text."""
    import numpy as np

    texts = []
    for flat, w, h in zip(
        anns["flat"].to_list(), anns["img_w"].to_list(), anns["img_h"].to_list(), strict=True
    ):
        pts = np.asarray(flat, dtype=np.float64).reshape(-1, 2) / (float(w), float(h))
        texts.append(" ".join(map(repr, pts.ravel().tolist())))
    return pl.Series("points", texts, dtype=pl.Utf8)


def _in_threads(fn, items: list, chunk: int = 256) -> None:
    """Run ``fn`` over chunks of ``items`` in threads: file creation is latency-bound (each
    create is a metadata round trip), so overlapping them beats creating them one by one."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    if len(chunks) <= 1:
        for c in chunks:
            fn(c)
        return
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in pool.map(fn, chunks):
            pass


def _write_labels(jobs: list[tuple[str, str | None]]) -> None:
    for path, text in jobs:
        with open(path, "w", encoding="utf-8") as f:
            if text:
                f.write(text + "\n")


def _place_images(pairs: list[tuple[str, str]], mode: str) -> None:
    for src, dst in pairs:
        if os.path.abspath(src) == os.path.abspath(dst):
            continue
        if os.path.lexists(dst):
            os.remove(dst)
        if mode == "link":
            try:
                os.link(src, dst)
                continue
            except OSError:  # another filesystem, or not allowed: try a symlink
                pass
        if mode in ("link", "symlink"):
            try:
                os.symlink(src, dst)
                continue
            except OSError:  # no symlinks on this filesystem: copy
                pass
        shutil.copy2(src, dst)
