"""`make demo` and `lightly-studio quickstart`: index the example datasets, open the app on them."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import polars as pl

import lightly_studio as ls
from lightly_studio.core.dataset import Dataset
from lightly_studio.errors import ExampleDataError
from lightly_studio.shapes import rle
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
    # The example data holds ground truth only: made-up predictions as a second source and
    # one evaluation of them, so the app opens with an evaluation result to look at.
    add_example_predictions(coco)
    evaluate_example_predictions(coco)
    return [coco, yolo]


PREDICTIONS = "predictions"
EVALUATION = "predictions_vs_ground_truth"


def add_example_predictions(dataset: Dataset, seed: int = 0) -> int:
    """Store made-up predictions of the dataset's ground-truth instance masks as the source
    ``predictions``: each object shifted a little (its box jittered and resized too), 15%
    dropped, 10% given another class, 0-2 false positives per image, scores from a seeded RNG,
    so every run makes the same ones. Does nothing when the source exists (re-runs add
    nothing). Returns how many were added."""
    from lightly_studio.db import get_connection, transaction
    from lightly_studio.store.annotations import (
        GROUND_TRUTH,
        AnnotationType,
        annotation_sources,
        annotations_frame,
        insert_annotation_frame,
    )
    from lightly_studio.store.samples import dataset_sample_sizes

    con = get_connection()
    if PREDICTIONS in annotation_sources(con, dataset.dataset_id):
        return 0
    kind = AnnotationType.INSTANCE_SEGMENTATION.value
    # In file order (sample ids are random), so the RNG meets the objects in the same order.
    sizes = dataset_sample_sizes(con, dataset.dataset_id, ("image",)).sort("file_path_abs")
    gt = (
        annotations_frame(con, dataset.dataset_id, source=GROUND_TRUTH, types=[kind])
        .join(sizes.select("sample_id", "file_path_abs"), on="sample_id", maintain_order="left")
        .sort("file_path_abs", maintain_order=True)
    )
    size = {
        sid: (int(w), int(h)) for sid, w, h in sizes.select("sample_id", "width", "height").rows()
    }
    labels = sorted(set(gt["label"].to_list()))
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for sid, label, x, y, w, h, runs in zip(
        *(gt[c].to_list() for c in ("sample_id", "label", "x", "y", "width", "height")),
        gt["segmentation_mask"].to_list(),
        strict=True,
    ):
        if rng.random() < 0.15:
            continue
        width, height = size[sid]
        dx, dy = int(rng.normal(0, 0.08 * w)), int(rng.normal(0, 0.08 * h))
        mask = _shifted(rle.decode(runs, width, height), dx, dy)
        if not mask.any():
            continue
        x0, y0 = min(max(x + dx, 0.0), width - 1.0), min(max(y + dy, 0.0), height - 1.0)
        rows.append(
            {
                "sample_id": sid,
                "label": label if rng.random() < 0.9 else str(rng.choice(labels)),
                "x": x0,
                "y": y0,
                "width": max(min(w * rng.uniform(0.85, 1.15), width - x0), 1.0),
                "height": max(min(h * rng.uniform(0.85, 1.15), height - y0), 1.0),
                "segmentation_mask": rle.encode(mask),
            }
        )
    for sid, (width, height) in size.items():
        for _ in range(int(rng.integers(0, 3))):  # false positives: boxes of a random class
            w, h = int(rng.uniform(5, width / 2)), int(rng.uniform(5, height / 2))
            x, y = int(rng.uniform(0, width - w)), int(rng.uniform(0, height - h))
            mask = np.zeros((height, width), dtype=bool)
            mask[y : y + h, x : x + w] = True
            rows.append(
                {
                    "sample_id": sid,
                    "label": str(rng.choice(labels)),
                    "x": float(x),
                    "y": float(y),
                    "width": float(w),
                    "height": float(h),
                    "segmentation_mask": rle.encode(mask),
                }
            )
    frame = pl.DataFrame(rows).with_columns(
        pl.Series("confidence", np.round(rng.random(len(rows)), 2)),
        pl.lit(kind).alias("annotation_type"),
        pl.lit(PREDICTIONS).alias("source"),
    )
    with transaction() as tx:
        return insert_annotation_frame(tx, dataset.dataset_id, frame)


def _shifted(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The mask moved by (dx, dy) pixels; what leaves the image is cut off."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    src = mask[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def evaluate_example_predictions(dataset: Dataset):
    """The instance-segmentation evaluation of ``predictions`` against ``ground_truth``
    (the example's ground truth is instance masks, so masks are what is compared), run once:
    a stored run of that name is returned as it is."""
    runs = {run.name: run for run in dataset.evaluation_runs()}
    if EVALUATION in runs:
        return runs[EVALUATION]
    return dataset.evaluate().instance_segmentation(EVALUATION, "ground_truth", PREDICTIONS)


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
