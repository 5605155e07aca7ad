"""The one list of export formats: what ``DatasetExport.to_<name>()`` writes.

The views' export dialog reads it through the ``export_formats`` RPC (``details``), so a
format added here (with its ``to_<name>`` method) is offered there without a JS change.
"""

from __future__ import annotations

import dataclasses
from typing import Literal


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    #: ``DatasetExport.to_<name>()``
    name: str
    #: what the dialog shows
    label: str
    #: 'file' or 'folder'
    writes: Literal["file", "folder"]
    #: the file's suffix (with the dot) for 'file' formats; None for folders
    extension: str | None
    #: what it keeps, one line
    description: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("coco_object_detections", "COCO detection", "file", ".json", "boxes, scores"),
    ExportFormat(
        "coco_instance_segmentations",
        "COCO instance segmentation",
        "file",
        ".json",
        "polygons (as imported or drawn), other masks as RLE",
    ),
    ExportFormat("coco_captions", "COCO captions", "file", ".json", "captions"),
    ExportFormat(
        "yolo_object_detections", "YOLO detection", "folder", None, "boxes, splits from tags"
    ),
    ExportFormat(
        "yolo_instance_segmentations",
        "YOLO segmentation",
        "folder",
        None,
        "polygons (one line per ring), splits from tags",
    ),
    ExportFormat(
        "image_folders",
        "Image folders (classification)",
        "folder",
        None,
        "one folder per class, one per split",
    ),
    ExportFormat(
        "pascal_voc_object_detections",
        "Pascal VOC detection",
        "folder",
        None,
        "boxes, difficult/truncated/occluded/pose and other attributes",
    ),
    ExportFormat(
        "pascal_voc_segmentations",
        "Pascal VOC segmentation",
        "folder",
        None,
        "class-id PNG masks",
    ),
    ExportFormat(
        "cvat", "CVAT for images 1.1", "file", ".xml", "boxes, polygons, masks, tags, attributes"
    ),
    ExportFormat("labelme", "LabelMe", "folder", None, "rectangles, polygons, flags"),
    ExportFormat(
        "hf_dataset",
        "Hugging Face datasets (save_to_disk)",
        "folder",
        None,
        "images, boxes (objects), class label",
    ),
    ExportFormat(
        "csv_classifications", "CSV classifications", "file", ".csv", "file, label, confidence"
    ),
    ExportFormat("file_list", "File list", "file", ".txt", "one file path per line"),
)

_BY_NAME = {f.name: f for f in EXPORT_FORMATS}


def export_format(name: str) -> ExportFormat | None:
    """The registered format called ``name`` (None when there is none)."""
    return _BY_NAME.get(name)


__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_format"]
