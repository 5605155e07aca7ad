"""ImageDataset: a dataset of image files, with or without labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from lightly_studio.core.dataset_query import DatasetQuery

from lightly_studio.core.dataset import Dataset
from lightly_studio.ingest import coco, images, yolo
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
    ) -> Any:
        """Index a YOLO dataset (Ultralytics layout) with its boxes or polygons.

        Each split (train/valid/test) becomes a tag; ``input_split`` limits the import to one.
        """
        return yolo.add_samples_from_yolo(
            self,
            data_yaml,
            input_split=input_split,
            embed=embed,
            annotation_source=annotation_source,
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
    ) -> Any:
        """Attach COCO annotations (e.g. predictions) to images already in the dataset."""
        kwargs = {} if annotation_type is None else {"annotation_type": annotation_type}
        return coco.add_annotations_from_coco(
            self,
            annotations_json,
            images_path=images_path,
            annotation_source=annotation_source,
            **kwargs,
        )

    def add_annotations_from_yolo(
        self,
        data_yaml: str,
        input_split: str | None = None,
        annotation_source: str = "ground_truth",
    ) -> Any:
        """Attach YOLO labels (e.g. predictions) to images already in the dataset."""
        return yolo.add_annotations_from_yolo(
            self, data_yaml, input_split=input_split, annotation_source=annotation_source
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

    def find_leaky_splits(self, tag: str | None = None) -> pl.DataFrame:
        """Exact or near duplicates whose images carry different split tags (train / val /
        test), one row per pair; ``tag`` tags both images of every pair."""
        return find_leaky_splits(self, tag=tag)
