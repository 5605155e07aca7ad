"""Predictions made by perturbing the example COCO ground truth, and COCOeval on stored data."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import lightly_studio as ls
from lightly_studio.db import get_connection
from lightly_studio.store.annotations import annotations_frame

COCO = "coco_subset_128_images"


def coco_dataset(examples: Path, masks: bool = False) -> ls.ImageDataset:
    ds = ls.ImageDataset.create()
    kwargs = {"annotation_type": ls.AnnotationType.INSTANCE_SEGMENTATION} if masks else {}
    ds.add_samples_from_coco(
        annotations_json=str(examples / COCO / "instances_train2017.json"),
        images_path=str(examples / COCO / "images"),
        embed=False,
        **kwargs,
    )
    return ds


def perturbed_predictions(examples: Path, seed: int = 0, masks: bool = False) -> dict[str, Any]:
    """A full COCO file of predictions: each ground-truth object jittered (or dropped, 15%),
    plus false positives, with random scores (some tied)."""
    from pycocotools import mask as mask_utils

    rng = np.random.default_rng(seed)
    data = json.loads((examples / COCO / "instances_train2017.json").read_text())
    sizes = {img["id"]: (img["width"], img["height"]) for img in data["images"]}
    cats = [c["id"] for c in data["categories"]]
    out = []
    for ann in data["annotations"]:
        if rng.random() < 0.15:
            continue
        w_img, h_img = sizes[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        dx, dy = rng.normal(0, 0.08 * w), rng.normal(0, 0.08 * h)
        category = ann["category_id"] if rng.random() < 0.9 else int(rng.choice(cats))
        pred: dict[str, Any] = {
            "image_id": ann["image_id"],
            "category_id": category,
            "score": float(np.round(rng.random(), 2)),
        }
        if masks:
            rle = ann["segmentation"]
            if isinstance(rle, list):
                rle = mask_utils.merge(mask_utils.frPyObjects(rle, h_img, w_img))
            elif isinstance(rle["counts"], list):
                rle = mask_utils.frPyObjects(rle, h_img, w_img)
            mask = mask_utils.decode(rle)
            mask = np.roll(mask, (int(dy), int(dx)), axis=(0, 1))
            encoded = mask_utils.encode(np.asfortranarray(mask))
            encoded["counts"] = encoded["counts"].decode()
            pred["segmentation"] = encoded
        x0 = min(max(x + dx, 0.0), w_img - 1)
        y0 = min(max(y + dy, 0.0), h_img - 1)
        pred["bbox"] = [
            x0,
            y0,
            max(min(w * rng.uniform(0.85, 1.15), w_img - x0), 0.5),
            max(min(h * rng.uniform(0.85, 1.15), h_img - y0), 0.5),
        ]
        out.append(pred)
    for img in data["images"]:
        for _ in range(int(rng.integers(0, 3))):
            w_img, h_img = img["width"], img["height"]
            w, h = rng.uniform(5, w_img / 2), rng.uniform(5, h_img / 2)
            x, y = rng.uniform(0, w_img - w), rng.uniform(0, h_img - h)
            pred = {
                "image_id": img["id"],
                "category_id": int(rng.choice(cats)),
                "bbox": [x, y, w, h],
                "score": float(np.round(rng.random(), 2)),
            }
            if masks:
                mask = np.zeros((h_img, w_img), dtype=np.uint8)
                mask[int(y) : int(y + h), int(x) : int(x + w)] = 1
                encoded = mask_utils.encode(np.asfortranarray(mask))
                encoded["counts"] = encoded["counts"].decode()
                pred["segmentation"] = encoded
            out.append(pred)
    for i, pred in enumerate(out):
        pred["id"] = i + 1
    return {"images": data["images"], "categories": data["categories"], "annotations": out}


def cocoeval_stats(ds, query, gt_source: str, pred_source: str, iou_type: str) -> np.ndarray:
    """pycocotools COCOeval ``stats`` on the stored annotations of the query's samples
    (areas as our evaluation defines them: box area, or mask pixel count)."""
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO as PyCOCO
    from pycocotools.cocoeval import COCOeval

    from lightly_studio.core import rle

    con = get_connection()
    samples = {s.sample_id: s for s in query}
    order = list(samples)  # the evaluation's image order (it breaks ties between scores)
    image_id = {str(s): i + 1 for i, s in enumerate(order)}
    kind = "object_detection" if iou_type == "bbox" else "instance_segmentation"
    frames = {
        side: annotations_frame(con, ds.dataset_id, source=source, types=[kind]).filter(
            pl.col("sample_id").is_in(list(image_id))
        )
        for side, source in (("gt", gt_source), ("dt", pred_source))
    }
    by_text = {str(s): samples[s] for s in order}
    labels = sorted(set(frames["gt"]["label"]) | set(frames["dt"]["label"]))
    cat = {name: i + 1 for i, name in enumerate(labels)}

    def convert(row: dict) -> dict:
        sample = by_text[row["sample_id"]]
        out = {
            "image_id": image_id[row["sample_id"]],
            "category_id": cat[row["label"]],
            "bbox": [row["x"], row["y"], row["width"], row["height"]],
            "area": row["width"] * row["height"],
            "iscrowd": int(bool(row["iscrowd"])),
        }
        if iou_type == "segm":
            mask = rle.decode(row["segmentation_mask"], sample.width, sample.height)
            encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            out["segmentation"] = encoded
            out["area"] = float(mask_utils.area(encoded))
        if row["confidence"] is not None:
            out["score"] = row["confidence"]
        return out

    gts = [convert(r) for r in frames["gt"].iter_rows(named=True)]
    dts = [convert(r) for r in frames["dt"].iter_rows(named=True)]
    for i, g in enumerate(gts):
        g["id"] = i + 1
    for i, d in enumerate(dts):
        d["id"] = i + 1
    images = [
        {"id": image_id[str(s)], "width": samples[s].width, "height": samples[s].height}
        for s in order
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        cocogt = PyCOCO()
        cocogt.dataset = {
            "images": images,
            "categories": [{"id": i, "name": n} for n, i in cat.items()],
            "annotations": gts,
        }
        cocogt.createIndex()
        cocodt = PyCOCO()
        cocodt.dataset = {
            "images": images,
            "categories": cocogt.dataset["categories"],
            "annotations": dts,
        }
        cocodt.createIndex()
        evaluator = COCOeval(cocogt, cocodt, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats
