"""Export through labelformat: our samples as a labelformat input, saved by any of its
``ObjectDetectionOutput`` (boxes, confidences) or ``InstanceSegmentationOutput`` (polygons
where kept, else binary masks) classes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from lightly_studio.errors import ExportError
from lightly_studio.export._coco import write_coco
from lightly_studio.export._labelset import (
    ANNOTATION_COLUMNS,
    ExportData,
    export_data,
    named_rows,
)
from lightly_studio.store.annotations import BOXED, MASKED


def write_labelformat(
    con,
    dataset: Any,
    query: Any,
    output: Any,
    *,
    root: str | os.PathLike | None = None,
    annotation_source: str | None = None,
) -> Any:
    from labelformat.formats.coco import COCOObjectDetectionOutput
    from labelformat.model.instance_segmentation import InstanceSegmentationOutput
    from labelformat.model.object_detection import ObjectDetectionOutput

    if isinstance(output, InstanceSegmentationOutput):
        masks = True
    elif isinstance(output, ObjectDetectionOutput):
        masks = False
    else:
        raise ExportError(
            "output must be a labelformat ObjectDetectionOutput or InstanceSegmentationOutput, "
            f"got {type(output).__name__}"
        )
    if type(output) is COCOObjectDetectionOutput:
        # The file labelformat would write (images, categories, annotations with image_id,
        # category_id, bbox and score where known), written by our COCO writer: labelformat
        # builds an object per box and saves through json.dump(indent=2), ~10x slower.
        write_coco(
            con,
            dataset,
            query,
            output.output_file,
            masks=False,
            root=root,
            annotation_source=annotation_source,
        )
        return output
    data = export_data(
        con,
        dataset,
        query,
        root=root,
        annotation_source=annotation_source,
        types=MASKED if masks else BOXED,
    )
    output.save(_input(data, masks))
    return output


def _input(data: ExportData, masks: bool) -> Any:
    from labelformat.model.binary_mask_segmentation import BinaryMaskSegmentation
    from labelformat.model.bounding_box import BoundingBox
    from labelformat.model.category import Category
    from labelformat.model.image import Image
    from labelformat.model.instance_segmentation import (
        ImageInstanceSegmentation,
        InstanceSegmentationInput,
        SingleInstanceSegmentation,
    )
    from labelformat.model.multipolygon import MultiPolygon
    from labelformat.model.object_detection import (
        ImageObjectDetection,
        ObjectDetectionInput,
        SingleObjectDetection,
    )

    categories = [Category(id=i, name=n) for i, n in enumerate(data.label_names)]
    by_name = {c.name: c for c in categories}
    s = data.samples
    images = [
        Image(id=i, filename=rel, width=w, height=h)
        for i, (rel, w, h) in enumerate(
            zip(s["rel"].to_list(), s["width"].to_list(), s["height"].to_list(), strict=True)
        )
    ]
    index = {sid: i for i, sid in enumerate(s["sample_id"].to_list())}
    objects: list[list] = [[] for _ in images]
    a = data.annotations
    if not masks:  # column-wise: no dict per row
        for sid, name, x, y, w, h, conf in named_rows(
            a, ("sample_id", "label", "x", "y", "width", "height", "confidence")
        ):
            box = BoundingBox(xmin=x, ymin=y, xmax=x + w, ymax=y + h)
            objects[index[sid]].append(SingleObjectDetection(by_name[name], box, conf))
    for values in named_rows(a, ANNOTATION_COLUMNS) if masks else ():
        row = dict(zip(ANNOTATION_COLUMNS, values, strict=True))
        image = images[index[row["sample_id"]]]
        category = by_name[row["label"]]
        if row["polygon"] is not None and not row["iscrowd"]:
            rings = [[(r[i], r[i + 1]) for i in range(0, len(r), 2)] for r in row["polygon"]]
            objects[image.id].append(SingleInstanceSegmentation(category, MultiPolygon(rings)))
        else:
            seg = BinaryMaskSegmentation.from_rle(
                list(row["segmentation_mask"]), image.width, image.height
            )
            objects[image.id].append(SingleInstanceSegmentation(category, seg))

    class _Input(InstanceSegmentationInput if masks else ObjectDetectionInput):  # type: ignore[misc]
        @staticmethod
        def add_cli_arguments(parser: Any) -> None:
            raise NotImplementedError

        def get_categories(self) -> Iterable[Category]:
            return categories

        def get_images(self) -> Iterable[Image]:
            return images

        def get_labels(self) -> Iterable[Any]:
            cls = ImageInstanceSegmentation if masks else ImageObjectDetection
            return [cls(image=im, objects=objs) for im, objs in zip(images, objects, strict=True)]

    return _Input()
