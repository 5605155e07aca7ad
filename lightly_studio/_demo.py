"""`make demo`: index the example datasets and open the app on them."""

from __future__ import annotations

import logging

import lightly_studio as ls
from lightly_studio.utils import download_example_dataset


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = download_example_dataset(download_dir="dataset_examples")
    ls.db_manager.connect(db_file="dataset_examples/lightly_studio.db")

    coco = ls.ImageDataset.load_or_create(name="coco_subset_128_images")
    coco.add_samples_from_coco(
        annotations_json=f"{path}/coco_subset_128_images/instances_train2017.json",
        images_path=f"{path}/coco_subset_128_images/images",
        annotation_type=ls.AnnotationType.INSTANCE_SEGMENTATION,
    )
    yolo = ls.ImageDataset.load_or_create(name="road_signs_yolo")
    yolo.add_samples_from_yolo(data_yaml=f"{path}/road_signs_yolo/data.yaml")

    for dataset in (coco, yolo):
        print(f"{dataset.name}: {len(dataset)} samples, tags {dataset.tags}")
    ls.start_gui()


if __name__ == "__main__":
    main()
