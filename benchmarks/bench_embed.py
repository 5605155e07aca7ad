"""Embedding throughput: the full pipeline (read + decode + resize + forward) against the
bare forward pass on pre-decoded tensors, plus text-query latency and peak memory.

    .venv/bin/python benchmarks/bench_embed.py                      # default arch, random weights
    .venv/bin/python benchmarks/bench_embed.py --compare            # ViT-B-32 vs MobileCLIP2-S0
    .venv/bin/python benchmarks/bench_embed.py --images /path/to/jpgs --device cuda
    .venv/bin/python benchmarks/bench_embed.py --precision int8      # the opt-in int8 path
    .venv/bin/python benchmarks/bench_embed.py --quality /work/shared/dataset_examples

--quality embeds the images of a folder with fp32 and with --precision (default int8) from
the same weights and prints the cosine similarity of the two vectors of each image and how
far the nearest-neighbour lists agree. ``--outliers F``
first multiplies the LayerNorm scale of a few channels by F in every block, a stand-in for
the outlier features of trained CLIP models that random weights lack.

Random weights cost exactly what trained ones cost, so no download is needed; they are saved
once as a .safetensors checkpoint in a temp folder and loaded from there, so that loading
(and its memory) goes the way it goes for downloaded weights. Without --images, 640x480
JPEGs (COCO's typical size) are generated once into a temp folder.
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


def list_images(folder: str, n: int | None = None) -> list[str]:
    """The images under ``folder``; repeated or cut to ``n`` when given."""
    exts = {".jpg", ".jpeg", ".png"}
    files = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in exts)
    return files if n is None else (files * (n // max(1, len(files)) + 1))[:n]


def as_checkpoint(spec: str) -> str:
    """``open_clip:<arch>:random`` -> the same random weights as a checkpoint file spec."""
    from lightly_studio.embed._spec import parse_spec

    parsed = parse_spec(spec)
    if parsed.kind != "random":
        return spec
    path = Path(tempfile.gettempdir()) / f"ls_bench_{parsed.arch}_random.safetensors"
    if not path.exists():
        import subprocess

        # In a child process, so that building the model does not count in this one's memory.
        # As built for `random` (seed 0), before any inference-time rewrites of the model.
        code = (
            "import sys, warnings, torch, open_clip; warnings.simplefilter('ignore'); "
            "from safetensors.torch import save_file; torch.manual_seed(0); "
            "m = open_clip.create_model(sys.argv[1], pretrained=None); "
            "save_file({k: v.contiguous() for k, v in m.state_dict().items()}, sys.argv[2])"
        )
        subprocess.run([sys.executable, "-c", code, parsed.arch, str(path) + ".tmp"], check=True)
        os.replace(str(path) + ".tmp", path)
    return f"open_clip:{parsed.arch}:{path}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(
    spec: str, paths: list[str], batch: int, device: str | None, workers: int | None, seconds: float
) -> dict:
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
    count = sum(
        len(p)
        for p, _ in embed_paths(model, paths, batch_size=batch, num_workers=workers, progress=False)
    )
    sync()
    pipeline = count / (time.perf_counter() - t)
    images_rss = peak_rss_mb()

    model.embed_texts(["warm up"])
    times = []
    for i in range(15):
        t = time.perf_counter()
        model.embed_texts([f"a photo of a red car number {i}"])
        times.append((time.perf_counter() - t) * 1000)
    return {
        "spec": spec,
        "device": model.device,
        "dtype": model.precision,
        "threads": torch.get_num_threads(),
        "load_s": load_s,
        "bare_img_s": bare,
        "pipeline_img_s": pipeline,
        "ratio": pipeline / bare,
        "text_ms_p50": statistics.median(times),
        "images": count,
        "images_rss_mb": images_rss,
    }


def quality(spec: str, paths: list[str], batch: int, outliers: float, fast: str | None) -> None:
    import copy

    import torch

    from lightly_studio.embed._open_clip import PRECISION_ENV, load_model
    from lightly_studio.embed._pipeline import embed_paths
    from lightly_studio.embed._quantise import quantise_image_tower

    fast = fast or "int8"
    os.environ[PRECISION_ENV] = "fp32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = load_model(spec, device="cpu")
    del os.environ[PRECISION_ENV]
    if outliers != 1.0:
        rng = np.random.default_rng(0)
        with torch.no_grad():
            for mod in ref.model.visual.modules():
                if isinstance(mod, torch.nn.LayerNorm):
                    channels = torch.from_numpy(rng.choice(mod.weight.numel(), 4, replace=False))
                    mod.weight[channels] *= outliers
    test = copy.copy(ref)
    test.model = copy.deepcopy(ref.model)
    if fast == "int8":
        assert quantise_image_tower(test.model), "no int8 image tower on this machine"
    else:
        test.model.to(
            dtype={"bf16": torch.bfloat16, "fp16": torch.float16}.get(fast, torch.float32)
        )
        test.dtype = next(test.model.parameters()).dtype

    def embed(model) -> np.ndarray:
        out = np.zeros((len(paths), ref.dim), np.float32)
        for pos, vec in embed_paths(model, paths, batch_size=batch, progress=False):
            out[pos] = vec
        return out

    a, b = embed(ref), embed(test)
    cos = (a * b).sum(axis=1)
    k = min(10, len(paths) - 1)

    def neighbours(x: np.ndarray) -> np.ndarray:
        s = x @ x.T
        np.fill_diagonal(s, -np.inf)
        return np.argsort(-s, axis=1)[:, :k]

    na, nb = neighbours(a), neighbours(b)
    overlap = np.mean([len(set(r) & set(t)) / k for r, t in zip(na, nb, strict=True)])
    top1 = np.mean(na[:, 0] == nb[:, 0])
    spread = (a @ a.T)[~np.eye(len(a), dtype=bool)].mean()
    print(
        f"{spec} fp32 vs {fast}, {len(paths)} images (mean cosine between images {spread:.3f}), "
        f"LayerNorm outlier factor {outliers:g}: "
        f"cosine min {cos.min():.5f} mean {cos.mean():.5f}; nearest neighbour same "
        f"{100 * top1:.1f} %, top-{k} overlap {100 * overlap:.1f} %"
    )


def main() -> None:
    from lightly_studio.embed._spec import DEFAULT_MODEL_SPEC, parse_spec

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    default_arch = parse_spec(DEFAULT_MODEL_SPEC).arch
    ap.add_argument("--model", default=f"open_clip:{default_arch}:random")
    ap.add_argument(
        "--compare",
        action="store_true",
        help="benchmark ViT-B-32 and MobileCLIP2-S0 (random weights)",
    )
    ap.add_argument("--images", help="folder of images (default: generated 640x480 JPEGs)")
    ap.add_argument(
        "-n",
        type=int,
        help="images through the pipeline (default 256; with --quality: every image of the folder)",
    )
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of the bare forward run")
    ap.add_argument(
        "--precision",
        choices=["fp32", "int8", "bf16", "fp16"],
        help="override the automatic choice (sets LIGHTLY_STUDIO_EMBEDDING_PRECISION)",
    )
    ap.add_argument(
        "--random-init",
        action="store_true",
        help="build random weights in process instead of loading them from a file",
    )
    ap.add_argument(
        "--quality", metavar="DIR", help="compare fp32 and the fast path on these images"
    )
    ap.add_argument("--outliers", type=float, default=1.0, help="see --quality")
    args = ap.parse_args()
    if args.precision:
        os.environ["LIGHTLY_STUDIO_EMBEDDING_PRECISION"] = args.precision

    from lightly_studio.embed._open_clip import cpu_has_bf16, pick_device
    from lightly_studio.embed._pipeline import default_batch_size

    device = pick_device(args.device)
    batch = args.batch or default_batch_size(device)
    if args.quality:
        quality(args.model, list_images(args.quality, args.n), batch, args.outliers, args.precision)
        return
    n = args.n or 256
    paths = list_images(args.images, n) if args.images else make_jpegs(n)
    specs = (
        ["open_clip:ViT-B-32:random", "open_clip:MobileCLIP2-S0:random"]
        if args.compare
        else [args.model]
    )
    print(
        f"cpus={os.cpu_count()} load_avg={os.getloadavg()[0]:.1f} cpu_bf16={cpu_has_bf16()} "
        f"device={device} batch={batch} images={len(paths)}",
        flush=True,
    )
    for spec in specs:
        r = bench(
            spec if args.random_init else as_checkpoint(spec),
            paths,
            batch,
            args.device,
            args.workers,
            args.seconds,
        )
        print(
            f"{r['spec'].rsplit(':', 1)[0] + ':…':<24} {r['device']}/{r['dtype']} threads={r['threads']} "
            f"load={r['load_s']:.1f}s  bare forward {r['bare_img_s']:.1f} img/s  "
            f"pipeline {r['pipeline_img_s']:.1f} img/s ({100 * r['ratio']:.0f}% of bare)  "
            f"text query p50 {r['text_ms_p50']:.0f} ms",
            flush=True,
        )
        print(f"peak RSS while embedding images {r['images_rss_mb']:.0f} MB", flush=True)
    print(
        f"peak RSS {peak_rss_mb():.0f} MB (after text queries too)  "
        f"load_avg_after={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
