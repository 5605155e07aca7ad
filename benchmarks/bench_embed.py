"""Embedding throughput: the full pipeline (read + decode + resize + forward) against the
bare forward pass on pre-decoded tensors, plus text-query latency and peak memory.

    .venv/bin/python benchmarks/bench_embed.py                      # default arch, random weights
    .venv/bin/python benchmarks/bench_embed.py --compare            # ViT-B-32 vs MobileCLIP2-S0
    .venv/bin/python benchmarks/bench_embed.py --images /path/to/jpgs --device cuda

Random weights cost exactly what trained ones cost, so no download is needed. Without
--images, 640x480 JPEGs (COCO's typical size) are generated once into a temp folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_jpegs(n: int) -> list[str]:
    from PIL import Image

    folder = Path(tempfile.gettempdir()) / f"ls_bench_jpegs_{n}"
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = folder / f"{i:05d}.jpg"
        if not path.exists():
            # Smooth gradients + noise compress like photos (a pure-noise JPEG decodes slowly).
            base = np.linspace(0, 255, 640, dtype=np.float32)[None, :, None]
            img = base + rng.normal(0, 20, (480, 640, 3)) + rng.integers(0, 80, 3)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(str(path))
    return paths


def list_images(folder: str, n: int) -> list[str]:
    exts = {".jpg", ".jpeg", ".png"}
    files = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in exts)
    return (files * (n // max(1, len(files)) + 1))[:n]


def bench(spec: str, paths: list[str], batch: int, device: str | None, workers: int | None,
          seconds: float) -> dict:
    import torch

    from lightly_studio.embed._open_clip import load_model, unload_models
    from lightly_studio.embed._pipeline import embed_paths

    unload_models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        model = load_model(spec, device=device)
        load_s = time.perf_counter() - t
    h, w = model.image_size
    x = np.random.default_rng(0).integers(0, 255, (batch, h, w, 3), dtype=np.uint8)

    def sync():
        if model.device.startswith("cuda"):
            torch.cuda.synchronize()

    model.forward_uint8(x)  # warm-up (allocations, cudnn autotune)
    sync()
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds or n < 2 * batch:
        model.forward_uint8(x)
        n += batch
    sync()
    bare = n / (time.perf_counter() - t)

    list(embed_paths(model, paths[:batch], batch_size=batch, num_workers=workers, progress=False))
    t = time.perf_counter()
    count = sum(len(p) for p, _ in embed_paths(model, paths, batch_size=batch,
                                                num_workers=workers, progress=False))
    sync()
    pipeline = count / (time.perf_counter() - t)

    model.embed_texts(["warm up"])
    times = []
    for i in range(15):
        t = time.perf_counter()
        model.embed_texts([f"a photo of a red car number {i}"])
        times.append((time.perf_counter() - t) * 1000)
    return {
        "spec": spec, "device": model.device, "dtype": str(model.dtype).replace("torch.", ""),
        "threads": torch.get_num_threads(), "load_s": load_s, "bare_img_s": bare,
        "pipeline_img_s": pipeline, "ratio": pipeline / bare, "text_ms_p50": statistics.median(times),
        "images": count,
    }


def main() -> None:
    from lightly_studio.embed._spec import DEFAULT_MODEL_SPEC, parse_spec

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    default_arch = parse_spec(DEFAULT_MODEL_SPEC).arch
    ap.add_argument("--model", default=f"open_clip:{default_arch}:random")
    ap.add_argument("--compare", action="store_true",
                    help="benchmark ViT-B-32 and MobileCLIP2-S0 (random weights)")
    ap.add_argument("--images", help="folder of images (default: generated 640x480 JPEGs)")
    ap.add_argument("-n", type=int, default=256, help="images through the pipeline")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of the bare forward run")
    args = ap.parse_args()

    from lightly_studio.embed._open_clip import cpu_has_bf16, pick_device
    from lightly_studio.embed._pipeline import default_batch_size

    device = pick_device(args.device)
    batch = args.batch or default_batch_size(device)
    paths = list_images(args.images, args.n) if args.images else make_jpegs(args.n)
    specs = (["open_clip:ViT-B-32:random", "open_clip:MobileCLIP2-S0:random"]
             if args.compare else [args.model])
    print(f"cpus={os.cpu_count()} load_avg={os.getloadavg()[0]:.1f} cpu_bf16={cpu_has_bf16()} "
          f"device={device} batch={batch} images={len(paths)}", flush=True)
    for spec in specs:
        r = bench(spec, paths, batch, args.device, args.workers, args.seconds)
        print(f"{r['spec']:<36} {r['device']}/{r['dtype']} threads={r['threads']} "
              f"load={r['load_s']:.1f}s  bare forward {r['bare_img_s']:.1f} img/s  "
              f"pipeline {r['pipeline_img_s']:.1f} img/s ({100 * r['ratio']:.0f}% of bare)  "
              f"text query p50 {r['text_ms_p50']:.0f} ms", flush=True)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss_mb:.0f} MB  load_avg_after={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
