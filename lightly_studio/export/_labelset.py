"""What the label-format writers share: the query's samples and annotations, read in bulk.

Samples come with their file name relative to ``root`` (default: the images' common folder)
and their split (train/val/test tags, train where none); annotations with their label name
and the attributes the importers kept (``annotation_attributes`` metadata).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from lightly_studio.errors import ExportError
from lightly_studio.export._frames import relative_names
from lightly_studio.export._yolo import _in_threads, _place_images
from lightly_studio.ingest.labelset import ATTRIBUTES_KEY, IMAGE_FLAGS_KEY
from lightly_studio.store.annotations import annotations_frame
from lightly_studio.store.labels import label_names
from lightly_studio.store.metadata import get_metadata_values
from lightly_studio.store.samples import SPLIT_TAGS, export_rows, subquery_ids
from lightly_studio.store.tags import get_tag_id, tagged_subquery

IMAGE_MODES = ("link", "symlink", "copy", "none")


@dataclasses.dataclass
class ExportData:
    #: sample_id, file_path_abs, width, height, split, rel (file name relative to root)
    samples: pl.DataFrame
    #: annotations_frame columns, in insertion order
    annotations: pl.DataFrame
    label_names: list[str]
    #: annotation_id → {name: value}
    attributes: dict[str, dict]
    #: sample_id → {flag: value}
    flags: dict[str, dict]
    #: the samples that carry a split tag (train/val/test…), not just the default 'train'
    split_tagged: set[str]

    def attributes_of(self, annotation_id: str) -> dict:
        return self.attributes.get(annotation_id) or {}


def export_data(
    con,
    dataset: Any,
    query: Any,
    *,
    root: str | os.PathLike | None,
    annotation_source: str | None,
    types: Sequence[str] | None,
) -> ExportData:
    sub = query.sample_ids_subquery()
    samples = export_rows(con, sub, with_split=True)
    _, rel = relative_names(samples["file_path_abs"].to_list(), root)
    samples = samples.with_columns(pl.Series("rel", rel, dtype=pl.Utf8))
    anns = annotations_frame(
        con, dataset.dataset_id, sample_ids_subquery=sub, source=annotation_source, types=types
    )
    return ExportData(
        samples,
        anns,
        label_names(con, dataset.dataset_id),
        _merged(get_metadata_values(con, dataset.dataset_id, ATTRIBUTES_KEY, sub)),
        _by_sample(get_metadata_values(con, dataset.dataset_id, IMAGE_FLAGS_KEY, sub)),
        _split_tagged(con, dataset.dataset_id),
    )


def _split_tagged(con, dataset_id: Any) -> set[str]:
    tagged: set[str] = set()
    for name in SPLIT_TAGS:
        tag_id = get_tag_id(con, dataset_id, name)
        if tag_id is not None:
            tagged.update(subquery_ids(con, tagged_subquery(tag_id))["sample_id"].to_list())
    return tagged


def _merged(frame: pl.DataFrame) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for value in frame["value"].to_list() if frame.height else []:
        out.update(value if isinstance(value, dict) else json.loads(value))
    return out


def _by_sample(frame: pl.DataFrame) -> dict[str, dict]:
    if not frame.height:
        return {}
    return {
        s: (v if isinstance(v, dict) else json.loads(v))
        for s, v in zip(frame["sample_id"].to_list(), frame["value"].to_list(), strict=True)
    }


def check_image_mode(images: str, samples: pl.DataFrame, what: str) -> None:
    if images not in IMAGE_MODES:
        raise ExportError(f"images must be one of {', '.join(IMAGE_MODES)}, got {images!r}")
    if images != "none" and any("://" in p for p in samples["file_path_abs"].head(1)):
        raise ExportError(
            f"Images in cloud storage cannot be linked or copied into a {what} export; pass "
            "images='none' to write labels only."
        )


def place_images(pairs: list[tuple[str, str]], images: str) -> None:
    """Hard-link (else symlink, else copy) each source image to its destination."""
    if images == "none" or not pairs:
        return
    for folder in {os.path.dirname(dst) for _, dst in pairs}:
        os.makedirs(folder, exist_ok=True)
    _in_threads(lambda chunk: _place_images(chunk, images), pairs)


def write_texts(jobs: list[tuple[str, str]]) -> None:
    """Write many small text files (threads overlap the file-creation round trips)."""
    for folder in {os.path.dirname(p) for p, _ in jobs}:
        os.makedirs(folder, exist_ok=True)

    def write(chunk: list[tuple[str, str]]) -> None:
        for path, text in chunk:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)

    _in_threads(write, jobs)


def named_rows(frame: pl.DataFrame, columns: Sequence[str]):
    """The frame's rows as tuples of ``columns`` (a zip of lists: faster than iter_rows)."""
    return zip(*(frame[c].to_list() for c in columns), strict=True)


ANNOTATION_COLUMNS = (
    "annotation_id",
    "sample_id",
    "label",
    "annotation_type",
    "x",
    "y",
    "width",
    "height",
    "segmentation_mask",
    "polygon",
    "iscrowd",
    "confidence",
)


def stem(rel: str) -> str:
    return os.path.splitext(rel)[0]


def out_dir(output_folder: str | os.PathLike) -> Path:
    out = Path(output_folder).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out
