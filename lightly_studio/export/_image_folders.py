"""Classification folders writer: ``<split>/<class>/<image>`` (or ``<class>/<image>``).

The split level is written when any exported sample has a split tag (untagged samples then
go to train), as ``add_samples_from_image_folders`` reads it back. A sample with several
classifications is placed in each class folder (and reported); one without is left out.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from lightly_studio.errors import ExportError
from lightly_studio.export._labelset import check_image_mode, export_data, out_dir, place_images
from lightly_studio.store.annotations import AnnotationType


def _folder_name(label: str) -> str:
    if label in (".", "..") or "/" in label or "\\" in label or "\0" in label:
        raise ExportError(f"The label {label!r} cannot be a folder name")
    return label


def write_image_folders(
    con,
    dataset: Any,
    query: Any,
    output_folder: str | os.PathLike,
    *,
    root: str | os.PathLike | None = None,
    images: str = "link",
    annotation_source: str | None = None,
) -> Path:
    data = export_data(
        con,
        dataset,
        query,
        root=root,
        annotation_source=annotation_source,
        types=[AnnotationType.CLASSIFICATION.value],
    )
    check_image_mode(images, data.samples, "image folders")
    if images == "none":
        raise ExportError(
            "Image folders are made of the images: pass images='link', 'symlink' or 'copy'"
        )
    out = out_dir(output_folder)
    s = data.samples
    with_splits = bool(data.split_tagged & set(s["sample_id"].to_list()))
    where = dict(
        zip(
            s["sample_id"].to_list(),
            zip(
                s["file_path_abs"].to_list(), s["rel"].to_list(), s["split"].to_list(), strict=True
            ),
            strict=True,
        )
    )
    pairs, seen, several = [], set(), 0
    for sid, label in zip(
        data.annotations["sample_id"].to_list(), data.annotations["label"].to_list(), strict=True
    ):
        if sid in seen:
            several += 1
        seen.add(sid)
        path, rel, split = where[sid]
        folder = out / split if with_splits else out
        pairs.append((path, str(folder / _folder_name(label) / rel)))
    if several:
        warnings.warn(
            f"{several} extra classifications: their samples were placed in several class folders",
            stacklevel=3,
        )
    unlabelled = s.height - len(seen)
    if unlabelled:
        warnings.warn(
            f"{unlabelled} samples have no classification and were left out", stacklevel=3
        )
    place_images(pairs, images)
    return out
