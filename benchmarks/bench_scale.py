"""Scaling figures for docs/scaling.md: queries, counts, tagging and the first grid page at
growing sizes, and embedding throughput on 1 vs 2 Ray workers.

    python benchmarks/bench_scale.py --sizes 1000000 3000000 10000000
    python benchmarks/bench_scale.py --ray-images 96            # Ray 1 vs 2 workers only

The datasets are generated straight into the tables by benchmarks/bench_query.py `build`
(3 tags per sample on average, 5 metadata keys, 3 boxes per sample; no image files). The
first grid page is the api call the views make first (`samples_page`, 100 rows, with the
count), i.e. the server's share of first paint; the browser's share at 1M is in
benchmarks/bench_views.py --million. Ray throughput uses the random-weights ViT-S-32 test
model on generated 320x240 JPEGs and a local cluster; it shows how the work spreads, not a
GPU figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_query import build, p50

RANDOM_SPEC = "open_clip:ViT-S-32:random"


def cpu_flags() -> str:
    flags = Path("/proc/cpuinfo").read_text().split()
    return " ".join(sorted({f for f in flags if f.startswith(("avx2", "avx512"))}))


def bench_size(n: int, repeats: int, folder: Path) -> None:
    from lightly_studio.api import dispatch
    from lightly_studio.core.dataset_query import AND, ImageSampleField

    f = ImageSampleField
    t = time.perf_counter()
    ds = build(n, folder / f"scale_{n}.db")
    build_s = time.perf_counter() - t
    spec = {"dataset_id": str(ds.dataset_id), "tags": ["night"]}
    rows = {
        "count (whole dataset)": lambda: ds.query().count(),
        "count of tag+width filter": lambda: ds.match(
            AND(f.width > 600, f.tags.contains("night"))
        ).count(),
        "metadata range, first 100": lambda: ds.match(f.metadata["speed"] < 5.0)[:100].to_list(),
        "annotation predicate, count": lambda: ds.match(
            f.annotations.exists(label="car", min_area=1500)
        ).count(),
        "first grid page (samples_page + count)": lambda: dispatch(
            "samples_page", {"spec": spec, "offset": 0, "limit": 100}
        ),
    }
    print(f"\n{n:,} samples (built in {build_s:.0f} s, load_avg={os.getloadavg()[0]:.1f})")
    for name, fn in rows.items():
        print(f"  {name:42s} p50 {p50(fn, repeats):8.1f} ms", flush=True)
    tagged = ds.query()[: n // 10]
    times = []
    for _ in range(2):
        tagged.remove_tag("bulk")
        t = time.perf_counter()
        tagged.add_tag("bulk")
        times.append(time.perf_counter() - t)
    print(f"  {'tag 10% of the samples':42s} p50 {statistics.median(times) * 1000:8.1f} ms")


def bench_ray(images: int, folder: Path) -> None:
    import ray
    from PIL import Image

    import lightly_studio as ls
    from lightly_studio import db_manager

    src = folder / "ray_images"
    src.mkdir(exist_ok=True)
    for i in range(images):
        Image.new("RGB", (320, 240), (i * 7 % 256, i * 13 % 256, 90)).save(src / f"{i:05d}.jpg")
    db_manager.connect(db_file=folder / "local.db")
    ds = ls.ImageDataset.create("local")
    ds.add_images_from_path(str(src), embed=False)
    t = time.perf_counter()
    stored = ds.compute_embeddings(RANDOM_SPEC)
    dt = time.perf_counter() - t
    print(f"local path (baseline): {stored} images in {dt:.1f} s = {stored / dt:.1f} img/s")
    db_manager.close()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for workers in (1, 2):
            db_manager.connect(db_file=folder / f"ray_{workers}.db")
            ds = ls.ImageDataset.create("ray")
            ds.add_images_from_path(str(src), embed=False)
            t = time.perf_counter()
            stored = ds.compute_embeddings(
                RANDOM_SPEC, engine="ray", num_workers=workers, batch_size=16
            )
            dt = time.perf_counter() - t
            print(
                f"Ray, {workers} worker(s): {stored} images in {dt:.1f} s = {stored / dt:.1f} img/s "
                f"(includes actor start and model load; load_avg={os.getloadavg()[0]:.1f})",
                flush=True,
            )
            db_manager.close()
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ray-images", type=int, default=0, help="images for the Ray run")
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, flags {cpu_flags()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        for n in args.sizes:
            bench_size(n, args.repeats, folder)
        if args.ray_images:
            bench_ray(args.ray_images, folder)


if __name__ == "__main__":
    main()
