"""Label import/export throughput: a generated COCO file of 10,000 images / ~50,000 boxes.

Measures (embed=False, so no model is involved):
  - add_samples_from_coco (parse JSON, check files, insert samples, labels, boxes)
  - to_coco_object_detections
  - to_yolo_object_detections (images hard-linked, symlinked, and labels only)
  - add_samples_from_yolo of that export (reads 10,000 image headers)

Run:  .venv/bin/python benchmarks/bench_labels.py [--images 10000] [--boxes-per-image 5]
      [--tmp-dir /dev/shm]   (tmpfs: file creation no longer depends on a busy disk)
Images are hard links of one small JPEG, so generating the data set takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def generate(root: Path, n_images: int, boxes_per_image: int, seed: int = 0) -> Path:
    from PIL import Image

    rng = np.random.default_rng(seed)
    images_dir = root / "images"
    images_dir.mkdir(parents=True)
    template = root / "template.jpg"
    Image.new("RGB", (640, 480), (90, 120, 200)).save(template, quality=70)
    names = [f"{i:012d}.jpg" for i in range(n_images)]
    for name in names:
        os.link(template, images_dir / name)
    n_boxes = rng.poisson(boxes_per_image, n_images)
    total = int(n_boxes.sum())
    w = rng.uniform(5, 300, total)
    h = rng.uniform(5, 200, total)
    x = rng.uniform(0, 1, total) * (640 - w)
    y = rng.uniform(0, 1, total) * (480 - h)
    image_ids = np.repeat(np.arange(1, n_images + 1), n_boxes)
    cats = rng.integers(1, 81, total)
    coco = {
        "images": [
            {"id": i + 1, "file_name": n, "width": 640, "height": 480} for i, n in enumerate(names)
        ],
        "categories": [
            {"id": c, "name": f"class_{c:02d}", "supercategory": "thing"} for c in range(1, 81)
        ],
        "annotations": [
            {
                "id": k + 1,
                "image_id": int(image_ids[k]),
                "category_id": int(cats[k]),
                "bbox": [
                    round(float(x[k]), 2),
                    round(float(y[k]), 2),
                    round(float(w[k]), 2),
                    round(float(h[k]), 2),
                ],
                "area": round(float(w[k] * h[k]), 2),
                "iscrowd": 0,
            }
            for k in range(total)
        ],
    }
    path = root / "instances.json"
    path.write_text(json.dumps(coco))
    return path


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<52s} {seconds:8.3f} s")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--boxes-per-image", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--tmp-dir",
        default=None,
        help="where to generate data and write exports (e.g. /dev/shm to "
        "measure the code without a busy disk)",
    )
    args = parser.parse_args()

    import lightly_studio as ls
    from lightly_studio import db_manager

    tmp = Path(tempfile.mkdtemp(prefix="bench_labels_", dir=args.tmp_dir))
    try:
        json_path, _gen_s = timed(
            "generate data", lambda: generate(tmp / "data", args.images, args.boxes_per_image)
        )
        n_boxes = len(json.loads(json_path.read_text())["annotations"])
        print(
            f"data: {args.images} images, {n_boxes} boxes, "
            f"{json_path.stat().st_size / 1e6:.1f} MB JSON"
        )
        db_manager.connect(tmp / "bench.db")
        ds = ls.ImageDataset.create("bench")
        result, import_s = timed(
            "import COCO (add_samples_from_coco, embed=False)",
            lambda: ds.add_samples_from_coco(
                str(json_path), str(tmp / "data" / "images"), embed=False
            ),
        )
        assert result.samples_added == args.images and result.annotations_added == n_boxes
        _, coco_s = timed(
            "export COCO (to_coco_object_detections)",
            lambda: ds.export().to_coco_object_detections(tmp / "out.json"),
        )
        _, yolo_s = timed(
            "export YOLO (to_yolo_object_detections, hard links)",
            lambda: ds.export().to_yolo_object_detections(tmp / "yolo"),
        )
        _, yolo_sym_s = timed(
            "export YOLO (images='symlink')",
            lambda: ds.export().to_yolo_object_detections(tmp / "yolo_sym", images="symlink"),
        )
        _, yolo_none_s = timed(
            "export YOLO (labels only, images='none')",
            lambda: ds.export().to_yolo_object_detections(tmp / "yolo_labels", images="none"),
        )
        ds2 = ls.ImageDataset.create("bench_yolo")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result2, yolo_import_s = timed(
                "import YOLO export (add_samples_from_yolo)",
                lambda: ds2.add_samples_from_yolo(str(tmp / "yolo" / "data.yaml"), embed=False),
            )
        assert result2.annotations_added == n_boxes
        print()
        print(
            f"COCO import: {args.images / import_s:,.0f} images/s, "
            f"{n_boxes / import_s:,.0f} boxes/s"
        )
        print(
            f"COCO export: {coco_s:.2f} s   YOLO export: {yolo_s:.2f} s "
            f"(symlinks {yolo_sym_s:.2f} s, labels only {yolo_none_s:.2f} s)   "
            f"YOLO import: {yolo_import_s:.2f} s"
        )
        print(f"cpu count: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    finally:
        db_manager.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
