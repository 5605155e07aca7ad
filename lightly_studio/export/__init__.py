"""Export a dataset or a query of it: COCO, YOLO (detection, segmentation), COCO captions,
CSV classifications, Pascal VOC (detection, segmentation), CVAT, LabelMe, image folders.

Every format is listed in :mod:`lightly_studio.export.formats` (what the views offer).

``dataset.export(query=None)`` returns a :class:`DatasetExport`; each ``to_*`` method writes
its files and returns the path written. Image file names are written relative to ``root``
(default: the images' common folder), so ``images_path=root`` finds them again on import.
``annotation_source`` picks one source ('ground_truth' or a model's name); None exports all.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import polars as pl

from lightly_studio.db import get_connection
from lightly_studio.export._coco import write_coco, write_coco_captions
from lightly_studio.export._cvat import write_cvat
from lightly_studio.export._frames import relative_names
from lightly_studio.export._hf import to_hf_dataset
from lightly_studio.export._image_folders import write_image_folders
from lightly_studio.export._labelformat import write_labelformat
from lightly_studio.export._labelme import write_labelme
from lightly_studio.export._voc import write_voc_detections, write_voc_segmentations
from lightly_studio.export._yolo import ImageMode, write_yolo
from lightly_studio.store.annotations import AnnotationType, annotations_frame
from lightly_studio.store.samples import export_rows, file_paths

DEFAULT_COCO_FILENAME = "coco_export.json"
DEFAULT_CAPTIONS_FILENAME = "coco_captions_export.json"
DEFAULT_CSV_FILENAME = "classifications_export.csv"


class DatasetExport:
    """Exporter for the samples of ``query`` (all samples of ``dataset`` when None)."""

    def __init__(self, dataset: Any, query: Any = None) -> None:
        self.dataset = dataset
        self.query = query if query is not None else dataset.query()

    def _con(self):
        return get_connection()

    def to_file_list(self, output_path: str | Path) -> Path:
        """One absolute file path per line (frames in order): the list other tools read."""
        paths = file_paths(self._con(), self.query.sample_ids_subquery())
        out = Path(output_path)
        out.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
        return out

    def to_coco_object_detections(
        self,
        output_json: str | os.PathLike | None = None,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Path:
        """Boxes of every boxed annotation (detections and segmentations) as COCO JSON.

        Default file: ``coco_export.json`` in the working directory.
        """
        return write_coco(
            self._con(),
            self.dataset,
            self.query,
            output_json or DEFAULT_COCO_FILENAME,
            masks=False,
            root=root,
            annotation_source=annotation_source,
        )

    def to_coco_instance_segmentations(
        self,
        output_json: str | os.PathLike | None = None,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Path:
        """Segmentations as COCO JSON: polygons as imported or drawn, other masks as RLE."""
        return write_coco(
            self._con(),
            self.dataset,
            self.query,
            output_json or DEFAULT_COCO_FILENAME,
            masks=True,
            root=root,
            annotation_source=annotation_source,
        )

    # The reference product's name for the same export.
    to_coco_segmentation_masks = to_coco_instance_segmentations

    def to_coco_captions(
        self, output_json: str | os.PathLike | None = None, *, root: str | os.PathLike | None = None
    ) -> Path:
        """Captions as a COCO captions JSON (default file ``coco_captions_export.json``)."""
        return write_coco_captions(
            self._con(),
            self.dataset,
            self.query,
            output_json or DEFAULT_CAPTIONS_FILENAME,
            root=root,
        )

    def to_yolo_object_detections(
        self,
        output_folder: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """Boxes as a YOLO dataset in ``output_folder``; returns the path of its data.yaml.

        Splits come from the tags train / val (valid) / test; untagged samples go to train.
        ``images``: 'link' (default: hard link, else symlink, else copy), 'symlink', 'copy'
        or 'none' (labels and data.yaml only).
        """
        return write_yolo(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            root=root,
            images=images,
            annotation_source=annotation_source,
        )

    def to_yolo_instance_segmentations(
        self,
        output_folder: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """Polygons as a YOLO segmentation dataset (Ultralytics ``task=segment``); returns
        the path of its data.yaml. Masks without a polygon are left out (reported)."""
        return write_yolo(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            root=root,
            images=images,
            annotation_source=annotation_source,
            task="segment",
        )

    def to_pascal_voc_object_detections(
        self,
        output_folder: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """Boxes as Pascal VOC XML (``Annotations/``), images in ``JPEGImages/``, splits in
        ``ImageSets/Main/``; returns the folder. Attributes (difficult, truncated, …) kept."""
        return write_voc_detections(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            root=root,
            images=images,
            annotation_source=annotation_source,
        )

    def to_pascal_voc_segmentations(
        self,
        output_folder: str | os.PathLike,
        *,
        class_id_to_name: dict[int, str] | None = None,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """Masks as class-id PNGs (``SegmentationClass/``, VOC palette) with ``labelmap.txt``;
        returns the folder. Default ids: the labels in order from 1 (0 = unlabelled)."""
        return write_voc_segmentations(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            class_id_to_name=class_id_to_name,
            root=root,
            images=images,
            annotation_source=annotation_source,
        )

    def to_cvat(
        self,
        output_xml: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Path:
        """Everything as CVAT for images 1.1 XML (boxes, polygons, masks, tags, attributes)."""
        return write_cvat(
            self._con(),
            self.dataset,
            self.query,
            output_xml,
            root=root,
            annotation_source=annotation_source,
        )

    def to_labelme(
        self,
        output_folder: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """One LabelMe JSON per image next to the image (linked into ``output_folder``)."""
        return write_labelme(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            root=root,
            images=images,
            annotation_source=annotation_source,
        )

    def to_image_folders(
        self,
        output_folder: str | os.PathLike,
        *,
        root: str | os.PathLike | None = None,
        images: ImageMode = "link",
        annotation_source: str | None = None,
    ) -> Path:
        """Classifications as ``<split>/<class>/<image>`` folders (``<class>/<image>`` when
        no sample has a split tag); returns the folder."""
        return write_image_folders(
            self._con(),
            self.dataset,
            self.query,
            output_folder,
            root=root,
            images=images,
            annotation_source=annotation_source,
        )

    def to_hf_dataset(
        self,
        output_folder: str | os.PathLike | None = None,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Any:
        """A ``datasets.Dataset`` with the images (bytes), boxes and instance masks
        (``objects``), semantic masks (``semantic_mask``) and class (``label``), ready for ``push_to_hub`` or ``save_to_disk``. With ``output_folder``
        it is also saved there (``save_to_disk``) and that folder is returned."""
        hf = to_hf_dataset(
            self._con(), self.dataset, self.query, root=root, annotation_source=annotation_source
        )
        if output_folder is None:
            return hf
        out = Path(output_folder).expanduser().resolve()
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # save_to_disk refuses an existing folder
        hf.save_to_disk(str(out))
        return out

    def to_labelformat(
        self,
        output: Any,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Any:
        """Save through a labelformat output class, e.g.
        ``to_labelformat(YOLOv8ObjectDetectionOutput(output_file=..., output_split="train"))``
        or ``COCOInstanceSegmentationOutput(output_file=...)``. Returns ``output``."""
        return write_labelformat(
            self._con(),
            self.dataset,
            self.query,
            output,
            root=root,
            annotation_source=annotation_source,
        )

    def to_csv_classifications(
        self,
        output_csv: str | os.PathLike | None = None,
        *,
        root: str | os.PathLike | None = None,
        annotation_source: str | None = None,
    ) -> Path:
        """One row per classification: file_name, label, confidence (empty when none).

        Safe to open in a spreadsheet: every text cell is quoted, and one that starts with
        ``= + - @``, a tab or a carriage return gets a leading ``'`` (OWASP's advice against
        CSV formula injection), so a label like ``=cmd|...`` is shown, never run. Strip that
        ``'`` when reading such a label back in code.
        """
        con = self._con()
        samples = export_rows(con, self.query.sample_ids_subquery())
        _, rel = relative_names(samples["file_path_abs"].to_list(), root)
        samples = samples.with_columns(pl.Series("file_name", rel, dtype=pl.Utf8))
        anns = annotations_frame(
            con,
            self.dataset.dataset_id,
            sample_ids_subquery=self.query.sample_ids_subquery(),
            source=annotation_source,
            types=[AnnotationType.CLASSIFICATION.value],
        )
        table = (
            samples.select("sample_id", "file_name")
            .join(
                anns.select("sample_id", "label", "confidence"),
                on="sample_id",
                how="inner",
                maintain_order="left",
            )
            .drop("sample_id")
        )
        path = Path(output_csv or DEFAULT_CSV_FILENAME).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)  # numbers bare, text quoted
            writer.writerow(["file_name", "label", "confidence"])
            for file_name, label, confidence in table.iter_rows():
                writer.writerow(
                    [
                        _spreadsheet_safe(file_name),
                        _spreadsheet_safe(label),
                        "" if confidence is None else confidence,
                    ]
                )
        return path.resolve()


# Cell starts a spreadsheet reads as a formula (or that hide one after a tab / line break).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str | None) -> str:
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


__all__ = ["DatasetExport"]
