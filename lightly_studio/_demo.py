"""`make demo` and `lightly-studio quickstart`: index the example datasets, open the app on them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import lightly_studio as ls
from lightly_studio.core.dataset import Dataset
from lightly_studio.errors import ExampleDataError
from lightly_studio.utils import download_example_dataset

DOWNLOAD_DIR = "dataset_examples"


def index_examples(download_dir: str = DOWNLOAD_DIR) -> list[Dataset]:
    """Fetch the example data into ``download_dir`` and index it in its own database there.

    Re-running reuses the folder and the database and adds nothing twice. Returns the
    datasets: the COCO subset (instance masks as ground truth) and the YOLO road signs.
    """
    path = download_example_dataset(download_dir=download_dir)
    ls.db_manager.connect(db_file=Path(download_dir) / "lightly_studio.db")

    coco = ls.ImageDataset.load_or_create(name="coco_subset_128_images")
    coco.add_samples_from_coco(
        annotations_json=f"{path}/coco_subset_128_images/instances_train2017.json",
        images_path=f"{path}/coco_subset_128_images/images",
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
    )
    yolo = ls.ImageDataset.load_or_create(name="road_signs_yolo")
    yolo.add_samples_from_yolo(data_yaml=f"{path}/road_signs_yolo/data.yaml")
    # Hook for model evaluation (#18): the example data holds ground truth only. Once the
    # evaluation service exists, add model predictions as a second annotation source here and
    # run one evaluation of them against "ground_truth", so the app opens with a result.
    return [coco, yolo]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        datasets = index_examples()
    except ExampleDataError as exc:
        # One line that says what to do, not a traceback of urllib's internals.
        sys.exit(f"make demo: {exc}")
    for dataset in datasets:
        print(f"{dataset.name}: {len(dataset)} samples, tags {dataset.tags}")
    ls.start_gui()


if __name__ == "__main__":
    main()
