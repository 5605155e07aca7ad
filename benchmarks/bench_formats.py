"""Label formats throughput: every importer in boxes/s, every exporter in seconds.

The same generated data as bench_labels.py (10,000 images of 640x480, ~5 boxes each, hard
links of one JPEG; boxes with 2-decimal pixel coordinates) is imported from COCO (baseline),
then exported to each format and that export imported again. Exports write labels only
(images='none') where the format allows, so they compare with the COCO export, which
writes no images either; linking 10,000 images costs the same in every format.

Targets (issue #23): every importer ≥ 20,000 boxes/s; every exporter writes 10,000 images
with ~50,000 boxes in < 2 s.

Run:  .venv/bin/python benchmarks/bench_formats.py [--images 10000] [--tmp-dir /dev/shm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_labels import generate


def cpu_flags() -> str:
    try:
        flags = next(
            line for line in Path("/proc/cpuinfo").read_text().splitlines() if "flags" in line
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    return " ".join(f for f in ("avx2", "avx512f", "avx512bw", "amx_tile") if f in flags) or "-"


def timed(fn):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--boxes-per-image", type=float, default=5.4)
    parser.add_argument("--tmp-dir", default=None)
    args = parser.parse_args()

    import json

    # Imported before any timing: the first import of datasets alone takes seconds.
    import datasets  # noqa: F401
    import labelformat.formats  # noqa: F401

    import lightly_studio as ls
    from lightly_studio import db_manager

    tmp = Path(tempfile.mkdtemp(prefix="bench_formats_", dir=args.tmp_dir))
    images = tmp / "data" / "images"
    rows: list[tuple[str, float, float]] = []  # format, export s, import s
    try:
        json_path = generate(tmp / "data", args.images, args.boxes_per_image)
        n_boxes = len(json.loads(json_path.read_text())["annotations"])
        print(
            f"data: {args.images} images, {n_boxes} boxes; CPU flags: {cpu_flags()}; "
            f"cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}"
        )
        db_manager.connect(tmp / "bench.db")
        ds = ls.ImageDataset.create("bench")
        _, coco_in = timed(
            lambda: ds.add_samples_from_coco(str(json_path), str(images), embed=False)
        )
        _, coco_out = timed(lambda: ds.export().to_coco_object_detections(tmp / "coco.json"))
        rows.append(("COCO (baseline)", coco_out, coco_in))
        ex = ds.export()

        def run(name, export, load):
            _, out_s = timed(export)
            target = ls.ImageDataset.create(f"in_{len(rows)}")
            result, in_s = timed(lambda: load(target))
            assert result.annotations_added == n_boxes, (name, result.annotations_added)
            rows.append((name, out_s, in_s))

        run(
            "Pascal VOC detection",
            lambda: ex.to_pascal_voc_object_detections(tmp / "voc", images="none"),
            lambda t: t.add_samples_from_pascal_voc(
                str(images), str(tmp / "voc/Annotations"), embed=False
            ),
        )
        run(
            "CVAT for images 1.1",
            lambda: ex.to_cvat(tmp / "cvat.xml"),
            lambda t: t.add_samples_from_cvat(str(tmp / "cvat.xml"), str(images), embed=False),
        )
        run(
            "LabelMe",
            lambda: ex.to_labelme(tmp / "labelme", images="none"),
            lambda t: t.add_samples_from_labelme(str(tmp / "labelme"), embed=False),
        )
        run(
            "YOLO detection (existing)",
            lambda: ex.to_yolo_object_detections(tmp / "yolo"),
            lambda t: t.add_samples_from_yolo(str(tmp / "yolo/data.yaml"), embed=False),
        )
        cache = tmp / "hf_cache"
        run(
            "Hugging Face datasets (bytes in Arrow)",
            lambda: ex.to_hf_dataset(tmp / "hf"),
            lambda t: t.add_samples_from_hf_dataset(
                str(tmp / "hf"), images_cache_path=str(cache), embed=False
            ),
        )
        from labelformat.formats.coco import COCOObjectDetectionInput, COCOObjectDetectionOutput

        run(
            "labelformat (COCO output/input)",
            lambda: ex.to_labelformat(COCOObjectDetectionOutput(output_file=tmp / "lf.json")),
            lambda t: t.add_samples_from_labelformat(
                COCOObjectDetectionInput(tmp / "lf.json"), str(images), embed=False
            ),
        )
        print()
        print(
            f"{'format':<40s} {'export s':>9s} {'import s':>9s} {'import boxes/s':>15s} "
            f"{'out vs COCO':>11s} {'in vs COCO':>10s}"
        )
        for name, out_s, in_s in rows:
            print(
                f"{name:<40s} {out_s:9.2f} {in_s:9.2f} {n_boxes / in_s:15,.0f} "
                f"{out_s / coco_out:10.1f}x {in_s / coco_in:9.1f}x"
            )
    finally:
        db_manager.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
