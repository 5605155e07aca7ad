"""Data-quality throughput: image checks against CleanVision on the same files, and label issues.

Measures, in one run:
  - compute_image_issues (all nine checks, no embeddings) on N generated images, and
    CleanVision's Imagelab.find_issues (its default: the same nine checks) on the same files,
    each with as many workers as the machine has cores; images/s of both and the ratio.
    The images are variants of the example images (COCO subset and road signs): each one
    rescaled (0.5x to 2.5x, so 320 to 1600 px on the long side), cropped at random and saved
    as JPEG (9 in 10) or PNG, so no two files are equal. They are generated once into
    --workdir and reused.
  - compute_label_issues on --boxes ground-truth boxes (5 per image): the geometric checks
    alone, and with twice as many predicted boxes (cleanlab's object-detection scores).

Run:  .venv/bin/python benchmarks/bench_quality.py [--images 10000] [--boxes 100000]
      [--workdir /tmp/bench_quality] [--skip-cleanvision] [--skip-labels]
Needs LIGHTLY_STUDIO_EXAMPLE_DATA (or ../shared/dataset_examples) for the source images.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_evaluation import cpu_flags

SCALES = (0.5, 0.75, 1.0, 1.5, 2.5)


def _examples() -> Path:
    root = os.environ.get("LIGHTLY_STUDIO_EXAMPLE_DATA")
    path = Path(root) if root else Path(__file__).resolve().parents[2] / "shared/dataset_examples"
    if not path.is_dir():
        raise SystemExit(f"No example images at {path}: set LIGHTLY_STUDIO_EXAMPLE_DATA.")
    return path


def generate(folder: Path, n: int, seed: int = 0) -> list[str]:
    """n distinct variants of the example images in ``folder`` (kept: reused if complete)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(str(p) for p in folder.iterdir() if p.suffix in (".jpg", ".png"))
    if len(existing) >= n:
        return existing[:n]
    sources = sorted(p for p in _examples().rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(sources), n)
    scales = rng.choice(SCALES, n)
    crops = rng.uniform(0, 0.1, (n, 4))
    as_png = rng.random(n) < 0.1

    def make(i: int) -> None:
        with Image.open(sources[picks[i]]) as im:
            im = im.convert("RGB")
            w, h = im.size
            left, top = int(crops[i, 0] * w), int(crops[i, 1] * h)
            right, bottom = w - int(crops[i, 2] * w), h - int(crops[i, 3] * h)
            im = im.crop((left, top, right, bottom))
            size = (max(1, int(im.width * scales[i])), max(1, int(im.height * scales[i])))
            im = im.resize(size, Image.Resampling.BILINEAR)
            if as_png[i]:
                im.save(folder / f"{i:06d}.png", compress_level=1)
            else:
                im.save(folder / f"{i:06d}.jpg", quality=90)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(make, range(n)))
    return sorted(str(p) for p in folder.iterdir() if p.suffix in (".jpg", ".png"))[:n]


def bench_images(args) -> None:
    import lightly_studio as ls
    from lightly_studio import db_manager

    workdir = Path(args.workdir)
    start = time.perf_counter()
    files = generate(workdir / f"images_{args.images}", args.images)
    print(f"{len(files)} images ready in {time.perf_counter() - start:.1f} s ({workdir})")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        dataset = ls.ImageDataset.create("bench")
        # A folder of the same files (links), so ingest reads exactly these.
        linked = Path(tmp) / "images"
        linked.mkdir()
        for f in files:
            os.symlink(f, linked / Path(f).name)
        start = time.perf_counter()
        dataset.add_images_from_path(str(linked), embed=False)
        print(f"ingest (embed=False): {time.perf_counter() - start:.1f} s")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no embeddings": expected here
            start = time.perf_counter()
            found = dataset.compute_image_issues()
            ours = time.perf_counter() - start
        print(
            f"ours: compute_image_issues, 9 checks, {cores + 2} threads: {ours:.1f} s = "
            f"{len(files) / ours:.0f} images/s ({found.height} flags)"
        )
    if args.skip_cleanvision:
        return
    from cleanvision import Imagelab

    lab = Imagelab(filepaths=files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        lab.find_issues(n_jobs=cores, verbose=False)
        theirs = time.perf_counter() - start
    print(
        f"CleanVision {_version()}: find_issues, 9 checks, n_jobs={cores}: {theirs:.1f} s = "
        f"{len(files) / theirs:.0f} images/s ({int(lab.issues.filter(like='is_').sum().sum())} "
        "flags)"
    )
    print(f"ratio ours / CleanVision: {theirs / ours:.1f}x")


def _version() -> str:
    from importlib.metadata import version

    return version("cleanvision")


def bench_labels(args) -> None:
    from bench_evaluation import generate as generate_boxes
    from bench_evaluation import load

    import lightly_studio as ls
    from lightly_studio import db_manager

    n_images = args.boxes // 5
    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        dataset = ls.ImageDataset.create("bench")
        gt, pred = generate_boxes(n_images, 5.0)
        load(dataset, n_images, gt, pred)
        n_gt, n_pred = len(gt["img"]), len(pred["img"])
        start = time.perf_counter()
        found = dataset.compute_label_issues()
        geometric = time.perf_counter() - start
        print(
            f"label issues, geometric checks: {n_gt} boxes on {n_images} images: "
            f"{geometric:.2f} s ({found.height} scores)"
        )
        start = time.perf_counter()
        found = dataset.compute_label_issues(pred_annotation_source="model")
        with_model = time.perf_counter() - start
        print(
            f"label issues, geometric + cleanlab object detection: {n_gt} boxes, {n_pred} "
            f"predicted: {with_model:.2f} s ({found.height} scores)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--boxes", type=int, default=100_000)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "bench_quality"))
    parser.add_argument("--skip-cleanvision", action="store_true")
    parser.add_argument("--skip-labels", action="store_true")
    parser.add_argument("--skip-images", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load {load:.1f}; CPU flags: {cpu_flags()}")
    if not args.skip_images:
        bench_images(args)
    if not args.skip_labels:
        bench_labels(args)


if __name__ == "__main__":
    main()
