"""Object-detection evaluation end to end, against pycocotools' COCOeval on the same data.

Data: 10,000 images (640x480), ~50,000 ground-truth boxes over 80 classes, ~100,000 predicted
boxes (each ground truth jittered, 15% dropped, 10% given another class, plus random false
positives), random scores. Samples and annotations are inserted straight through the store
(no image files: evaluation never opens them).

Measures:
  - ours: ``dataset.evaluate().object_detection(...)`` end to end: read both sources, match at
    every COCO threshold and the run's, COCO stats, and store the run with every per-sample and
    per-match row (one transaction);
  - baseline: pycocotools COCOeval ``evaluate()`` + ``accumulate()`` (index building and
    ``summarize()`` not counted), on the same boxes;
  - a confusion-cell filter: the samples of one cell of the matrix, as the view asks for them;
  - the outcomes of one grid page (120 samples), as the views ask for them to colour boxes;
  and checks that our twelve stats equal COCOeval's.

Run:  .venv/bin/python benchmarks/bench_evaluation.py [--images 10000] [--gt-per-image 5]
      [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import polars as pl


def cpu_flags() -> str:
    try:
        flags = next(
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    return (
        " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags) or "none"
    )


def generate(n_images: int, gt_per_image: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(gt_per_image, n_images)
    n_gt = int(counts.sum())
    g_img = np.repeat(np.arange(n_images), counts)
    gw, gh = rng.uniform(8, 300, n_gt), rng.uniform(8, 200, n_gt)
    gx, gy = rng.uniform(0, 1, n_gt) * (640 - gw), rng.uniform(0, 1, n_gt) * (480 - gh)
    g_cls = rng.integers(0, 80, n_gt)
    keep = rng.random(n_gt) > 0.15
    p_img = g_img[keep]
    pw = np.clip(gw[keep] * rng.uniform(0.85, 1.15, keep.sum()), 1, None)
    ph = np.clip(gh[keep] * rng.uniform(0.85, 1.15, keep.sum()), 1, None)
    px = np.clip(gx[keep] + rng.normal(0, 0.08, keep.sum()) * gw[keep], 0, 640 - pw)
    py = np.clip(gy[keep] + rng.normal(0, 0.08, keep.sum()) * gh[keep], 0, 480 - ph)
    p_cls = np.where(rng.random(keep.sum()) < 0.9, g_cls[keep], rng.integers(0, 80, keep.sum()))
    n_fp = 2 * n_gt - len(p_img)  # predictions total twice the ground truth
    fw, fh = rng.uniform(8, 300, n_fp), rng.uniform(8, 200, n_fp)
    f_img = rng.integers(0, n_images, n_fp)
    fx, fy = rng.uniform(0, 1, n_fp) * (640 - fw), rng.uniform(0, 1, n_fp) * (480 - fh)
    gt = dict(img=g_img, cls=g_cls, x=gx, y=gy, w=gw, h=gh)
    pred = dict(
        img=np.concatenate([p_img, f_img]),
        cls=np.concatenate([p_cls, rng.integers(0, 80, n_fp)]),
        x=np.concatenate([px, fx]),
        y=np.concatenate([py, fy]),
        w=np.concatenate([pw, fw]),
        h=np.concatenate([ph, fh]),
        score=rng.random(len(p_img) + n_fp),
    )
    return gt, pred


def load(ds, n_images: int, gt: dict, pred: dict) -> None:
    from lightly_studio.db import transaction
    from lightly_studio.store.annotations import insert_annotation_frame
    from lightly_studio.store.samples import insert_samples

    with transaction() as con:
        samples = insert_samples(
            con,
            ds.dataset_id,
            pl.DataFrame(
                {
                    "file_path_abs": [f"/bench/{i:06d}.jpg" for i in range(n_images)],
                    "file_name": [f"{i:06d}.jpg" for i in range(n_images)],
                    "width": [640] * n_images,
                    "height": [480] * n_images,
                }
            ),
        ).sort("file_path_abs")
        ids = samples["sample_id"]
        for source, boxes in (("ground_truth", gt), ("model", pred)):
            frame = pl.DataFrame(
                {
                    "sample_id": ids.gather(boxes["img"]),
                    "label": [f"class_{c:02d}" for c in boxes["cls"]],
                    "annotation_type": "object_detection",
                    "source": source,
                    "confidence": boxes.get("score"),
                    "x": boxes["x"],
                    "y": boxes["y"],
                    "width": boxes["w"],
                    "height": boxes["h"],
                    "img_width": 640,
                    "img_height": 480,
                }
            )
            insert_annotation_frame(con, ds.dataset_id, frame)


def cocoeval(ds) -> tuple[float, np.ndarray]:
    """COCOeval on the stored boxes, images in our evaluation order."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from lightly_studio.db import get_connection
    from lightly_studio.store.annotations import annotations_frame

    con = get_connection()
    order = [str(i) for i in ds.query().sample_ids()]
    image_id = {s: i + 1 for i, s in enumerate(order)}
    frames = {
        side: annotations_frame(con, ds.dataset_id, source=source)
        for side, source in (("gt", "ground_truth"), ("dt", "model"))
    }
    labels = sorted(set(frames["gt"]["label"]) | set(frames["dt"]["label"]))
    cat = {n: i + 1 for i, n in enumerate(labels)}

    def anns(frame: pl.DataFrame, scored: bool) -> list[dict]:
        out = []
        for k, r in enumerate(frame.iter_rows(named=True)):
            a = {
                "id": k + 1,
                "image_id": image_id[r["sample_id"]],
                "category_id": cat[r["label"]],
                "bbox": [r["x"], r["y"], r["width"], r["height"]],
                "area": r["width"] * r["height"],
                "iscrowd": 0,
            }
            if scored:
                a["score"] = r["confidence"]
            out.append(a)
        return out

    images = [{"id": i, "width": 640, "height": 480} for i in image_id.values()]
    categories = [{"id": i, "name": n} for n, i in cat.items()]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": images,
            "categories": categories,
            "annotations": anns(frames["gt"], False),
        }
        gt.createIndex()
        dt = COCO()
        dt.dataset = {
            "images": images,
            "categories": categories,
            "annotations": anns(frames["dt"], True),
        }
        dt.createIndex()
        evaluator = COCOeval(gt, dt, "bbox")
        start = time.perf_counter()
        evaluator.evaluate()
        evaluator.accumulate()
        seconds = time.perf_counter() - start
        evaluator.summarize()
    return seconds, evaluator.stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--gt-per-image", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import lightly_studio as ls
    from lightly_studio import db_manager
    from lightly_studio.core.dataset_query import AnnotationMetricQuery
    from lightly_studio.evaluation._coco import STAT_NAMES

    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        ds = ls.ImageDataset.create("bench")
        gt, pred = generate(args.images, args.gt_per_image)
        load(ds, args.images, gt, pred)
        print(
            f"{args.images} images, {len(gt['img'])} ground-truth boxes, {len(pred['img'])} "
            f"predicted boxes, 80 classes; CPU flags: {cpu_flags()}"
        )
        ours = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = ds.evaluate().object_detection("bench", "ground_truth", "model")
            ours.append(time.perf_counter() - start)
        rows = result.matches().height
        print(
            f"ours, end to end (read, match, COCO stats, store {args.images} sample rows and "
            f"{rows} match rows): best {min(ours):.2f} s of {args.repeat}"
        )
        coco_s, stats = cocoeval(ds)
        print(f"pycocotools COCOeval evaluate+accumulate: {coco_s:.2f} s")
        print(f"ratio COCOeval / ours: {coco_s / min(ours):.1f}x")
        ours_stats = np.array(
            [result.metrics[k] if result.metrics[k] is not None else -1 for k in STAT_NAMES]
        )
        print(
            f"max |stats difference|: {np.abs(ours_stats - stats).max():.2e}  (mAP {stats[0]:.4f})"
        )
        cell_times = []
        for _ in range(5):
            start = time.perf_counter()
            query = ds.match(AnnotationMetricQuery.confusion("bench", "class_07", "class_07"))
            count = query.count()
            page = query[0:100].to_list()
            cell_times.append(time.perf_counter() - start)
        print(
            f"confusion cell -> filtered grid (count + first page of 100 of {count}): "
            f"best {min(cell_times) * 1000:.0f} ms"
        )
        del page
        # What the views ask per grid page while a run colours the boxes: the outcome and the
        # matrix cell of each judged annotation of 120 samples (api evaluation_outcomes).
        from lightly_studio import api

        first_page = [str(i) for i in ds.query()[0:120].to_polars()["sample_id"]]
        outcome_times = []
        for _ in range(5):
            start = time.perf_counter()
            reply, _ = api.dispatch(
                "evaluation_outcomes",
                {"dataset_id": str(ds.dataset_id), "name": "bench", "sample_ids": first_page},
            )
            outcome_times.append(time.perf_counter() - start)
        judged = sum(len(v) for v in reply["samples"].values())
        print(
            f"outcomes of a grid page (120 samples, {judged} annotations): "
            f"best {min(outcome_times) * 1000:.0f} ms"
        )
        db_manager.close()


if __name__ == "__main__":
    main()
