"""ImageDataset: a dataset of image files, with or without labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from lightly_studio.core.dataset_query import DatasetQuery

from lightly_studio.core.dataset import Dataset
from lightly_studio.core.thumbnails import render_thumbnails as _render_thumbnails
from lightly_studio.ingest import (
    coco,
    cvat,
    hf,
    image_folders,
    images,
    labelformats,
    labelme,
    voc,
    yolo,
)
from lightly_studio.quality import compute_image_issues, find_leaky_splits


class ImageDataset(Dataset):
    """A dataset of images. Create with ``ImageDataset.create()``, fill with ``add_*``."""

    kind = "image"
    sample_kind = "image"

    def add_images_from_path(
        self,
        path: str,
        tag_depth: int = 0,
        embed: bool = True,
        allowed_extensions: Sequence[str] | None = None,
    ) -> int:
        """Index every image below ``path`` (a folder or fsspec URL). Returns how many were new.

        Re-running adds only files not indexed yet. ``tag_depth=N`` tags each image with the
        names of the first N folders below ``path``.
        """
        return images.add_images_from_path(
            self, path, tag_depth=tag_depth, embed=embed, allowed_extensions=allowed_extensions
        )

    def add_samples_from_yolo(
        self,
        data_yaml: str,
        input_split: str | None = None,
        embed: bool = True,
        annotation_source: str = "ground_truth",
        task: str | None = None,
    ) -> Any:
        """Index a YOLO dataset (Ultralytics layout) with its boxes or polygons.

        Each split (train/valid/test) becomes a tag; ``input_split`` limits the import to one.
        ``task``: None (each line as it is), 'segment' (polygons only) or 'detect'
        (polygons become their boxes).
        """
        return yolo.add_samples_from_yolo(
            self,
            data_yaml,
            input_split=input_split,
            embed=embed,
            annotation_source=annotation_source,
            task=task,
        )

    def add_samples_from_coco(
        self,
        annotations_json: str,
        images_path: str,
        annotation_type: Any = None,
        embed: bool = True,
        annotation_source: str = "ground_truth",
    ) -> Any:
        """Index a COCO dataset: boxes, or instance masks with
        ``annotation_type=AnnotationType.INSTANCE_SEGMENTATION``."""
        kwargs = {} if annotation_type is None else {"annotation_type": annotation_type}
        return coco.add_samples_from_coco(
            self,
            annotations_json,
            images_path,
            embed=embed,
            annotation_source=annotation_source,
            **kwargs,
        )

    def add_samples_from_coco_caption(
        self, annotations_json: str, images_path: str, embed: bool = True
    ) -> Any:
        """Index a COCO captions dataset."""
        return coco.add_samples_from_coco_caption(self, annotations_json, images_path, embed=embed)

    def add_annotations_from_coco(
        self,
        annotations_json: str,
        images_path: str | None = None,
        annotation_type: Any = None,
        annotation_source: str = "ground_truth",
        images_json: str | None = None,
    ) -> Any:
        """Attach COCO annotations (e.g. predictions, ``score`` as the confidence) to images
        already in the dataset. A bare COCO results list needs ``images_json``, the COCO file
        whose image and category ids it uses."""
        kwargs = {} if annotation_type is None else {"annotation_type": annotation_type}
        return coco.add_annotations_from_coco(
            self,
            annotations_json,
            images_path=images_path,
            annotation_source=annotation_source,
            images_json=images_json,
            **kwargs,
        )

    def add_annotations_from_yolo(
        self,
        data_yaml: str,
        input_split: str | None = None,
        annotation_source: str = "ground_truth",
        task: str | None = None,
    ) -> Any:
        """Attach YOLO labels (e.g. predictions) to images already in the dataset."""
        return yolo.add_annotations_from_yolo(
            self,
            data_yaml,
            input_split=input_split,
            annotation_source=annotation_source,
            task=task,
        )

    # -- more label formats (docs/formats.md) ---------------------------------------------------
    def add_samples_from_pascal_voc(
        self,
        images_path: str,
        annotations_path: str,
        embed: bool = True,
        annotation_source: str | None = None,
    ) -> Any:
        """Index a Pascal VOC detection dataset (one XML per image)."""
        return voc.add_samples_from_pascal_voc(
            self, images_path, annotations_path, embed=embed, annotation_source=annotation_source
        )

    def add_annotations_from_pascal_voc(
        self, images_path: str, annotations_path: str, annotation_source: str | None = None
    ) -> Any:
        """Attach Pascal VOC boxes to images already in the dataset."""
        return voc.add_annotations_from_pascal_voc(
            self, images_path, annotations_path, annotation_source=annotation_source
        )

    def add_samples_from_pascal_voc_segmentations(
        self,
        images_path: str,
        masks_path: str,
        class_id_to_name: dict[int, str],
        split: str | None = None,
        embed: bool = True,
        annotation_source: str | None = None,
        limit: int | None = None,
        instances_path: str | None = None,
    ) -> Any:
        """Index images with Pascal VOC class-id PNG masks (one semantic mask per class), and
        with ``instances_path`` (``SegmentationObject/``) one instance mask per object."""
        return voc.add_samples_from_pascal_voc_segmentations(
            self,
            images_path,
            masks_path,
            class_id_to_name,
            split=split,
            embed=embed,
            annotation_source=annotation_source,
            limit=limit,
            instances_path=instances_path,
        )

    def add_annotations_from_pascal_voc_segmentations(
        self,
        masks_path: str,
        images_root: str,
        class_id_to_name: dict[int, str],
        annotation_source: str | None = None,
        instances_path: str | None = None,
    ) -> Any:
        """Attach Pascal VOC masks (and instance masks from ``instances_path``) to images
        already in the dataset."""
        return voc.add_annotations_from_pascal_voc_segmentations(
            self,
            masks_path,
            images_root,
            class_id_to_name,
            annotation_source=annotation_source,
            instances_path=instances_path,
        )

    def add_samples_from_cvat(
        self,
        annotations_xml: str,
        images_path: str,
        embed: bool = True,
        annotation_source: str | None = None,
    ) -> Any:
        """Index a CVAT for images 1.1 XML: boxes, polygons, masks, tags, attributes."""
        return cvat.add_samples_from_cvat(
            self, annotations_xml, images_path, embed=embed, annotation_source=annotation_source
        )

    def add_annotations_from_cvat(
        self, annotations_xml: str, images_path: str, annotation_source: str | None = None
    ) -> Any:
        """Attach a CVAT XML (e.g. corrected in CVAT) as a further annotation source."""
        return cvat.add_annotations_from_cvat(
            self, annotations_xml, images_path, annotation_source=annotation_source
        )

    def add_samples_from_labelme(
        self, folder: str, embed: bool = True, annotation_source: str | None = None
    ) -> Any:
        """Index a folder of LabelMe JSON files (rectangles, polygons, masks, flags)."""
        return labelme.add_samples_from_labelme(
            self, folder, embed=embed, annotation_source=annotation_source
        )

    def add_annotations_from_labelme(
        self, folder: str, annotation_source: str | None = None
    ) -> Any:
        """Attach LabelMe shapes to images already in the dataset."""
        return labelme.add_annotations_from_labelme(
            self, folder, annotation_source=annotation_source
        )

    def add_samples_from_image_folders(
        self, path: str, embed: bool = True, annotation_source: str | None = None
    ) -> Any:
        """Index a classification dataset: ``<class>/<image>`` or ``<split>/<class>/<image>``."""
        return image_folders.add_samples_from_image_folders(
            self, path, embed=embed, annotation_source=annotation_source
        )

    def add_annotations_from_image_folders(
        self, path: str, annotation_source: str | None = None
    ) -> Any:
        """Attach folder classes to images already in the dataset."""
        return image_folders.add_annotations_from_image_folders(
            self, path, annotation_source=annotation_source
        )

    def add_samples_from_hf_dataset(
        self,
        dataset_or_path: Any,
        image_column: str = "image",
        *,
        objects_column: str | None = "objects",
        label_column: str | None = None,
        bbox_format: str = "xywh",
        images_cache_path: str | None = None,
        embed: bool = True,
        annotation_source: str | None = None,
        semantic_mask_column: str | None = "semantic_mask",
    ) -> Any:
        """Index a Hugging Face dataset (Dataset, DatasetDict, save_to_disk folder or Parquet
        files): images (written once to ``images_cache_path``), COCO-style ``objects`` boxes
        (with instance masks in ``objects.mask``), a semantic mask column of class ids + 1
        and/or a class label column. Each split of a DatasetDict becomes a tag."""
        return hf.add_samples_from_hf_dataset(
            self,
            dataset_or_path,
            image_column,
            objects_column=objects_column,
            label_column=label_column,
            bbox_format=bbox_format,
            images_cache_path=images_cache_path,
            embed=embed,
            annotation_source=annotation_source,
            semantic_mask_column=semantic_mask_column,
        )

    def add_samples_from_labelformat(
        self,
        input_labels: Any,
        images_path: str,
        embed: bool = True,
        annotation_source: str | None = None,
    ) -> Any:
        """Index images with the labels of a labelformat ``ObjectDetectionInput`` or
        ``InstanceSegmentationInput`` (KITTI, Labelbox, YOLOv5-v26, RT-DETR, ...)."""
        return labelformats.add_samples_from_labelformat(
            self, input_labels, images_path, embed=embed, annotation_source=annotation_source
        )

    def add_samples_from_lightly(
        self,
        input_folder: str,
        images_rel_path: str = "../images",
        embed: bool = True,
        annotation_source: str | None = None,
    ) -> Any:
        """Index a Lightly predictions folder (schema.json and one JSON per image)."""
        return labelformats.add_samples_from_lightly(
            self,
            input_folder,
            images_rel_path=images_rel_path,
            embed=embed,
            annotation_source=annotation_source,
        )

    # -- data quality (docs/quality.md) ---------------------------------------------------------
    def compute_image_issues(
        self, checks: Sequence[str] | None = None, query: DatasetQuery | None = None, **kwargs
    ) -> pl.DataFrame:
        """Find blurry, dark, light, low-information, oddly shaped or sized, grayscale and
        duplicate images (CleanVision's definitions). Stores ``<issue>_score`` and
        ``is_<issue>_issue`` metadata per image; returns the flagged (sample_id, issue, score).
        """
        return compute_image_issues(self, checks=checks, query=query, **kwargs)

    def render_thumbnails(
        self,
        query: DatasetQuery | None = None,
        *,
        engine: str = "local",
        ray_address: str | None = None,
        num_workers: int | None = None,
        progress: bool = True,
    ) -> pl.DataFrame:
        """Make the views' cached thumbnails of every image (or those of ``query``) ahead of
        time; ``engine="ray"`` renders them on a Ray cluster (``ray_address``, or a local
        one). One row per image: sample_id, file_path_abs, status (rendered / cached /
        failed), error."""
        return _render_thumbnails(
            query if query is not None else self.query(),
            engine=engine,
            ray_address=ray_address,
            num_workers=num_workers,
            progress=progress,
        )

    def find_leaky_splits(self, tag: str | None = None) -> pl.DataFrame:
        """Exact or near duplicates whose images carry different split tags (train / val /
        test), one row per pair; ``tag`` tags both images of every pair."""
        return find_leaky_splits(self, tag=tag)
