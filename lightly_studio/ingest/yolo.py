"""YOLO import (Ultralytics layout): boxes and YOLO-seg polygons, one tag per split.

``data.yaml`` gives ``names`` (list or {id: name}), an optional ``path`` (relative paths are
relative to the yaml's folder) and the splits ``train`` / ``val`` / ``test``: image folders,
.txt lists of images, or lists of either. Each image's labels are in the file found by
replacing the last ``/images/`` of its path with ``/labels/`` and the extension with .txt.

A label line is ``class xc yc w h`` (normalised box), ``class xc yc w h conf`` (a prediction)
or ``class x1 y1 x2 y2 … xn yn`` (a polygon of at least 3 points → instance mask). Lines are
parsed in one polars pass; any malformed line raises IngestError naming file and line, and
nothing is stored. Boxes and polygons under the annotator's minimum size (see
:mod:`lightly_studio.shapes.geometry`) are malformed lines too.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lightly_studio.db import transaction
from lightly_studio.errors import AnnotationError, IngestError
from lightly_studio.ingest.coco import ImportResult, insert_ingested
from lightly_studio.ingest.files import IMAGE_EXTENSIONS, list_files, read_sizes
from lightly_studio.ingest.labelset import finish_import, new_image_sizes, store_images
from lightly_studio.shapes import rle
from lightly_studio.shapes.geometry import MIN_SIDE, clip_box, clip_polygon
from lightly_studio.store.annotations import (
    FRAME_SCHEMA,
    GROUND_TRUTH,
    AnnotationType,
    complete_frame,
)
from lightly_studio.store.labels import get_or_create_label_ids
from lightly_studio.store.samples import dataset_sample_sizes

SPLITS = ("train", "val", "test")
_SPLIT_ALIASES = {"valid": "val", "validation": "val"}


@dataclasses.dataclass
class YoloData:
    yaml_path: str
    names: dict[int, str]
    #: file_path_abs, file_name, split, label_path (one row per image, first split wins)
    images: pl.DataFrame
    #: img_idx, line_no, class_id, values (List[f64]: coordinates [+ confidence]), ncols
    lines: pl.DataFrame
    warnings: list[str]


# --- data.yaml ---------------------------------------------------------------------------------


def read_data_yaml(data_yaml: str | os.PathLike) -> tuple[dict[int, str], dict[str, list[Path]]]:
    """Class names and, per split, the image folders / list files it names."""
    import yaml

    yaml_path = Path(data_yaml).expanduser()
    try:
        config = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IngestError(f"{yaml_path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise IngestError(f"{yaml_path}: malformed YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise IngestError(f"{yaml_path}: expected a mapping with 'names' and the splits")
    names = _names(yaml_path, config)
    base = yaml_path.resolve().parent
    if config.get("path"):
        root = Path(str(config["path"])).expanduser()
        base = root if root.is_absolute() else (base / root)
    splits: dict[str, list[Path]] = {}
    for split in SPLITS:
        value = config.get(split)
        if not value:
            continue
        entries = value if isinstance(value, list) else [value]
        splits[split] = [_resolve_entry(yaml_path, base, split, str(e)) for e in entries]
    if not splits:
        raise IngestError(f"{yaml_path}: names none of the splits {', '.join(SPLITS)}")
    return names, splits


def _names(yaml_path: Path, config: dict) -> dict[int, str]:
    raw = config.get("names")
    if raw is None:
        raise IngestError(f"{yaml_path}: missing 'names'")
    if isinstance(raw, list):
        names = dict(enumerate(raw))
    elif isinstance(raw, dict):
        try:
            names = {int(k): v for k, v in raw.items()}
        except (TypeError, ValueError) as exc:
            raise IngestError(f"{yaml_path}: 'names' keys must be class ids (integers)") from exc
    else:
        raise IngestError(f"{yaml_path}: 'names' must be a list or a mapping id → name")
    for cid, name in names.items():
        if not isinstance(name, (str, int, float)) or not str(name).strip():
            raise IngestError(f"{yaml_path}: class {cid} has an empty or invalid name {name!r}")
    names = {cid: str(name) for cid, name in names.items()}
    nc = config.get("nc")
    if nc is not None and (isinstance(nc, bool) or not isinstance(nc, int)):
        raise IngestError(
            f"{yaml_path}: 'nc' must be the number of classes (an integer), got {nc!r}"
        )
    if nc is not None and nc != len(names):
        raise IngestError(f"{yaml_path}: nc is {nc} but 'names' has {len(names)} entries")
    return names


def _resolve_entry(yaml_path: Path, base: Path, split: str, entry: str) -> Path:
    candidate = Path(entry).expanduser()
    candidate = candidate if candidate.is_absolute() else base / candidate
    if not candidate.exists() and entry.startswith("../"):
        # Roboflow exports write '../train/images' next to a data.yaml inside the dataset
        # folder; Ultralytics falls back to the path without the '../', and so do we.
        candidate = base / entry[3:]
    if not candidate.exists():
        raise IngestError(
            f"{yaml_path}: the {split} split {entry!r} does not exist (looked for {candidate})"
        )
    return Path(os.path.abspath(candidate))


# --- listing and parsing -----------------------------------------------------------------------


def label_path_for(image_path: str) -> str:
    """Ultralytics' rule: last '/images/' → '/labels/', extension → '.txt'."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    return os.path.splitext(sb.join(image_path.rsplit(sa, 1)))[0] + ".txt"


def _split_images(entry: Path) -> list[str]:
    if entry.is_dir():
        return list_files(str(entry), IMAGE_EXTENSIONS).paths
    # A .txt list of image paths, relative to the list's folder.
    paths = []
    for line in entry.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            p = Path(line).expanduser()
            paths.append(os.path.abspath(p if p.is_absolute() else entry.parent / p))
    return paths


def parse_yolo(data_yaml: str | os.PathLike, input_split: str | None = None) -> YoloData:
    """List the images of the chosen splits and parse all their label lines."""
    yaml_path = str(Path(data_yaml).expanduser())
    names, splits = read_data_yaml(data_yaml)
    if input_split is not None:
        wanted = _SPLIT_ALIASES.get(input_split, input_split)
        if wanted not in splits:
            raise IngestError(f"{yaml_path}: no split {input_split!r} (it has {', '.join(splits)})")
        splits = {wanted: splits[wanted]}
    paths, split_of = [], []
    for split, entries in splits.items():
        for entry in entries:
            found = _split_images(entry)
            paths.extend(found)
            split_of.extend([split] * len(found))
    images = pl.DataFrame(
        {"file_path_abs": paths, "split": split_of},
        schema={"file_path_abs": pl.Utf8, "split": pl.Utf8},
    ).unique("file_path_abs", keep="first", maintain_order=True)
    images = images.with_columns(
        pl.col("file_path_abs")
        .map_batches(
            lambda s: pl.Series([os.path.basename(p) for p in s], dtype=pl.Utf8),
            return_dtype=pl.Utf8,
        )
        .alias("file_name"),
        pl.col("file_path_abs")
        .map_batches(
            lambda s: pl.Series([label_path_for(p) for p in s], dtype=pl.Utf8), return_dtype=pl.Utf8
        )
        .alias("label_path"),
    )
    notes: list[str] = []
    texts = []
    for label_path in images["label_path"].to_list():
        try:
            with open(label_path, encoding="utf-8") as f:
                texts.append(f.read())
        except FileNotFoundError:
            texts.append("")  # an image without labels (background)
        except (OSError, UnicodeDecodeError) as exc:
            raise IngestError(f"{label_path}: cannot read the label file ({exc})") from exc
    _note_orphan_labels(images, notes)
    lines = _parse_lines(images["label_path"], texts, names)
    return YoloData(yaml_path, names, images, lines, notes)


def _note_orphan_labels(images: pl.DataFrame, notes: list[str]) -> None:
    """Label files without an image are reported (the image file is missing)."""
    folders = {os.path.dirname(p) for p in images["label_path"].to_list()}
    have = set(images["label_path"].to_list())
    orphans = []
    for folder in sorted(folders):
        if os.path.isdir(folder):
            orphans += [
                os.path.join(folder, n)
                for n in sorted(os.listdir(folder))
                if n.endswith(".txt") and os.path.join(folder, n) not in have
            ]
    if orphans:
        notes.append(
            f"{len(orphans)} label files have no image and were skipped (the image "
            f"file is missing), e.g. {orphans[0]}"
        )


def _parse_lines(label_paths: pl.Series, texts: list[str], names: dict[int, str]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "img_idx": pl.int_range(len(texts), eager=True, dtype=pl.UInt32),
            "text": pl.Series(texts, dtype=pl.Utf8),
        }
    )
    lines = (
        frame.with_columns(pl.col("text").str.split("\n").alias("line"))
        .drop("text")
        .with_columns(pl.int_ranges(1, pl.col("line").list.len() + 1).alias("line_no"))
        .explode(["line", "line_no"])
        .with_columns(pl.col("line").str.strip_chars())
        .filter(pl.col("line").is_not_null() & (pl.col("line") != ""))
    )
    tokens = pl.col("line").str.replace_all(r"\s+", " ").str.split(" ")
    lines = lines.with_columns(tokens.alias("tokens")).with_columns(
        pl.col("tokens").list.len().alias("ncols"),
        pl.col("tokens").list.eval(pl.element().cast(pl.Float64, strict=False)).alias("nums"),
    )

    def where(row_idx: int) -> str:
        row = lines.row(row_idx, named=True)
        return f"{label_paths[row['img_idx']]}, line {row['line_no']}"

    ncols = pl.col("ncols")
    bad_cols = ~((ncols == 5) | (ncols == 6) | ((ncols >= 7) & (ncols % 2 == 1)))
    _raise_first(
        lines,
        bad_cols,
        where,
        lambda r: (
            f"has {r['ncols']} values; expected 5 (class xc yc w h), 6 (… confidence) or an odd "
            "number ≥ 7 (class and polygon points x y …)"
        ),
    )
    _raise_first(
        lines,
        pl.col("nums").list.eval(pl.element().is_null() | pl.element().is_nan()).list.any(),
        where,
        lambda r: f"has a value that is not a number: {r['line']!r}",
    )
    cls = pl.col("nums").list.first()
    _raise_first(
        lines,
        (cls != cls.round()) | ~cls.is_in([float(k) for k in names]),
        where,
        lambda r: (
            f"has class id {r['tokens'][0]!r}, which is not in 'names' "
            f"(ids {min(names)}..{max(names)})"
            if names
            else "has a class id but 'names' is empty"
        ),
    )
    coords = pl.col("nums").list.slice(1)
    out_of_range = coords.list.eval((pl.element() < 0) | (pl.element() > 1)).list.any()
    _raise_first(
        lines,
        out_of_range,
        where,
        lambda r: (
            f"has coordinates outside [0, 1] (YOLO coordinates are normalised): {r['line']!r}"
        ),
    )
    return lines.select(
        "img_idx", "line_no", cls.cast(pl.Int64).alias("class_id"), coords.alias("values"), "ncols"
    )


def _raise_first(lines: pl.DataFrame, condition: pl.Expr, where, message) -> None:
    hits = lines.select(condition.fill_null(True).alias("bad"))["bad"]
    if hits.any():
        i = int(hits.arg_true()[0])
        more = int(hits.sum()) - 1
        suffix = f" ({more} more lines have this problem)" if more else ""
        raise IngestError(f"{where(i)}: {message(lines.row(i, named=True))}{suffix}")


def yolo_annotation_frame(
    data: YoloData, sized: pl.DataFrame, source: str
) -> tuple[pl.DataFrame, list[str]]:
    """Annotation frame (FRAME_SCHEMA) for the images in ``sized``.

    ``sized``: img_idx, sample_id, img_width, img_height. Boxes reaching outside the image are
    clipped to it (reported); polygons become instance masks through pycocotools.
    """
    notes: list[str] = []
    lines = data.lines.join(sized, on="img_idx", how="inner", maintain_order="left")
    lines = lines.with_columns(
        pl.col("class_id").replace_strict(data.names, return_dtype=pl.Utf8).alias("label"),
        pl.lit(source).alias("source"),
        pl.format(
            "{}, line {}: ",
            pl.col("img_idx").map_batches(
                lambda s: data.images["label_path"].gather(s), return_dtype=pl.Utf8
            ),
            pl.col("line_no"),
        ).alias("where"),
    )
    W, H = pl.col("img_width").cast(pl.Float64), pl.col("img_height").cast(pl.Float64)
    v = pl.col("values")
    boxes = lines.filter(pl.col("ncols") <= 6).with_columns(
        ((v.list.get(0) - v.list.get(2) / 2) * W).alias("x0"),
        ((v.list.get(1) - v.list.get(3) / 2) * H).alias("y0"),
        ((v.list.get(0) + v.list.get(2) / 2) * W).alias("x1"),
        ((v.list.get(1) + v.list.get(3) / 2) * H).alias("y1"),
        pl.when(pl.col("ncols") == 6).then(v.list.get(4)).otherwise(None).alias("confidence"),
    )
    # Tolerate float noise (1e-9 px) silently; clip larger overshoots and say so.
    overshoot = (
        (pl.col("x0") < -1e-9)
        | (pl.col("y0") < -1e-9)
        | (pl.col("x1") > W + 1e-9)
        | (pl.col("y1") > H + 1e-9)
    )
    clipped = boxes.filter(overshoot)
    if clipped.height:
        notes.append(
            f"{clipped.height} boxes reach outside their image and were clipped to it "
            f"(first: {clipped['where'][0].rstrip(': ')})"
        )
    boxes = boxes.with_columns(
        pl.col("x0").clip(0, W),
        pl.col("y0").clip(0, H),
        pl.col("x1").clip(0, W),
        pl.col("y1").clip(0, H),
    ).with_columns(
        pl.col("x0").alias("x"),
        pl.col("y0").alias("y"),
        (pl.col("x1") - pl.col("x0")).alias("width"),
        (pl.col("y1") - pl.col("y0")).alias("height"),
        pl.lit(AnnotationType.OBJECT_DETECTION.value).alias("annotation_type"),
    )
    _refuse_degenerate_boxes(boxes)
    frames = [boxes]
    polys = lines.filter(pl.col("ncols") >= 7)
    if polys.height:
        masks, rings, bbs = [], [], []
        for values, w, h, where in zip(
            polys["values"].to_list(),
            polys["img_width"].to_list(),
            polys["img_height"].to_list(),
            polys["where"].to_list(),
            strict=True,
        ):
            # Rounded to 1e-9 px: x / w * w is not always x again, and pycocotools rounds
            # pixel coordinates at half steps, so that noise could move a mask's edge pixel.
            pts = np.round(np.asarray(values, dtype=np.float64).reshape(-1, 2) * (w, h), 9)
            ring = pts.ravel().tolist()
            try:
                clip_polygon([ring], w, h, where)  # the annotator's rule: ≥ 3 points, ≥ 1 px²
                mask = rle.coco_segmentation_to_mask([ring], w, h)
            except AnnotationError as exc:
                raise IngestError(str(exc)) from exc
            except ValueError as exc:
                raise IngestError(f"{where}{exc}") from exc
            masks.append(rle.encode(mask))
            rings.append([ring])
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            bbs.append((float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        bb = np.asarray(bbs, dtype=np.float64).reshape(-1, 4)
        frames.append(
            polys.with_columns(
                pl.Series("x", bb[:, 0]),
                pl.Series("y", bb[:, 1]),
                pl.Series("width", bb[:, 2]),
                pl.Series("height", bb[:, 3]),
                pl.lit(None, dtype=pl.Float64).alias("confidence"),
                pl.lit(AnnotationType.INSTANCE_SEGMENTATION.value).alias("annotation_type"),
                pl.Series("segmentation_mask", masks, dtype=pl.List(pl.Int32)),
                pl.Series("polygon", rings, dtype=pl.List(pl.List(pl.Float64))),
            )
        )
    cols = ["img_idx", "line_no", *FRAME_SCHEMA]
    out = pl.concat([complete_frame(f).select(cols) for f in frames], how="vertical_relaxed")
    # Keep file order: image, then line.
    out = out.sort("img_idx", "line_no").drop("img_idx", "line_no")
    return out, notes


def _refuse_degenerate_boxes(boxes: pl.DataFrame) -> None:
    """Boxes under the annotator's minimum size (after clipping) are malformed lines."""
    small = boxes.filter((pl.col("width") < MIN_SIDE) | (pl.col("height") < MIN_SIDE))
    for row in small.iter_rows(named=True):
        try:
            clip_box(
                [row["x"], row["y"], row["width"], row["height"]],
                row["img_width"],
                row["img_height"],
                row["where"],
            )
        except AnnotationError as exc:
            more = f" ({small.height - 1} more boxes are degenerate)" if small.height > 1 else ""
            raise IngestError(f"{exc}{more}; remove the line or give the box a size") from exc


TASKS = ("detect", "segment")


def apply_task(data: YoloData, task: str | None) -> YoloData:
    """``task='segment'``: every line must be a polygon; ``'detect'``: polygons become the
    boxes around them (what Ultralytics trains a detector on); None: each line as it is."""
    if task is None:
        return data
    if task not in TASKS:
        raise IngestError(f"task must be 'detect', 'segment' or None, got {task!r}")
    lines = data.lines
    if task == "segment":
        boxes = lines.filter(pl.col("ncols") <= 6)
        if boxes.height:
            row = boxes.row(0, named=True)
            more = f" ({boxes.height - 1} more lines are boxes)" if boxes.height > 1 else ""
            raise IngestError(
                f"{data.images['label_path'][row['img_idx']]}, line {row['line_no']}: is a box "
                f"(class xc yc w h) but task='segment' expects polygons (class x1 y1 x2 y2 …)"
                f"{more}"
            )
        return data
    xs = pl.col("values").list.gather_every(2)
    ys = pl.col("values").list.gather_every(2, offset=1)
    poly = pl.col("ncols") >= 7
    boxed = lines.with_columns(
        pl.when(poly)
        .then(
            pl.concat_list(
                (xs.list.min() + xs.list.max()) / 2,
                (ys.list.min() + ys.list.max()) / 2,
                xs.list.max() - xs.list.min(),
                ys.list.max() - ys.list.min(),
            )
        )
        .otherwise(pl.col("values"))
        .alias("values"),
        pl.when(poly)
        .then(pl.lit(5))
        .otherwise(pl.col("ncols"))
        .cast(lines.schema["ncols"])
        .alias("ncols"),
    )
    return dataclasses.replace(data, lines=boxed)


# --- into the database -------------------------------------------------------------------------


def add_samples_from_yolo(
    dataset: Any,
    data_yaml: str | os.PathLike,
    input_split: str | None = None,
    embed: bool = True,
    annotation_source: str = GROUND_TRUTH,
    task: str | None = None,
):
    """Index a YOLO dataset: images, their boxes/polygons, a tag per split (one transaction).

    Images already in the dataset get their split tag but not their labels a second time.
    ``task``: see :func:`apply_task`.
    """
    data = apply_task(parse_yolo(data_yaml, input_split), task)
    result = ImportResult(warnings=list(data.warnings))
    sizes = read_sizes(data.images["file_path_abs"].to_list())
    ok = pl.Series([isinstance(s, tuple) for s in sizes], dtype=pl.Boolean)
    if data.images.height and not ok.any():
        raise IngestError(
            f"{data.yaml_path}: none of the {data.images.height} images could be "
            f"read (first: {data.images['file_path_abs'][0]}: {sizes[0]})"
        )
    if not ok.all():
        bad = [
            (p, s)
            for p, s in zip(data.images["file_path_abs"], sizes, strict=True)
            if isinstance(s, str)
        ]
        result.warnings.append(
            f"{len(bad)} images could not be read and were skipped with "
            f"their labels (first: {bad[0][0]}: {bad[0][1]})"
        )
    images = (
        data.images.with_row_index("img_idx")
        .with_columns(
            pl.Series("width", [s[0] if isinstance(s, tuple) else 0 for s in sizes], pl.Int64),
            pl.Series("height", [s[1] if isinstance(s, tuple) else 0 for s in sizes], pl.Int64),
        )
        .filter(ok)
    )
    with transaction() as con:
        images = store_images(
            con,
            dataset,
            images.with_columns(pl.concat_list("split").alias("tags")),
            result,
            data.yaml_path,
            "add_annotations_from_yolo",
        )
        get_or_create_label_ids(
            con, dataset.dataset_id, [data.names[k] for k in sorted(data.names)]
        )
        frame, notes = yolo_annotation_frame(data, new_image_sizes(images), annotation_source)
        result.warnings.extend(notes)
        result.annotations_added = insert_ingested(con, dataset.dataset_id, frame)
    return finish_import(dataset, result, images, embed)


def add_annotations_from_yolo(
    dataset: Any,
    data_yaml: str | os.PathLike,
    input_split: str | None = None,
    annotation_source: str = GROUND_TRUTH,
    task: str | None = None,
):
    """Attach YOLO labels to images already in the dataset (matched by absolute path).

    Image sizes come from the dataset, so no image is opened. One transaction.
    """
    data = apply_task(parse_yolo(data_yaml, input_split), task)
    result = ImportResult(warnings=list(data.warnings))
    with transaction() as con:
        samples = dataset_sample_sizes(con, dataset.dataset_id, ("image",)).rename(
            {"width": "img_width", "height": "img_height"}
        )
        sized = data.images.with_row_index("img_idx").join(
            samples.with_columns(
                pl.col("img_width").cast(pl.Int64), pl.col("img_height").cast(pl.Int64)
            ),
            on="file_path_abs",
            how="inner",
        )
        unmatched = data.images.height - sized.height
        if unmatched:
            result.warnings.append(
                f"{data.yaml_path}: {unmatched} images are not in the dataset "
                "and their labels were skipped"
            )
        get_or_create_label_ids(
            con, dataset.dataset_id, [data.names[k] for k in sorted(data.names)]
        )
        frame, notes = yolo_annotation_frame(
            data, sized.select("img_idx", "sample_id", "img_width", "img_height"), annotation_source
        )
        result.warnings.extend(notes)
        result.annotations_added = insert_ingested(con, dataset.dataset_id, frame)
    for note in result.warnings:
        warnings.warn(note, stacklevel=2)
    return result
