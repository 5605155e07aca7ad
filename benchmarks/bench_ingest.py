"""Image-folder ingest throughput (embed=False) and re-scan time of an unchanged folder.

    .venv/bin/python benchmarks/bench_ingest.py [--sizes 10000 100000] [--workdir /tmp/bench]

Generates the JPEGs once (kept in the workdir), then indexes them into a fresh DB.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import time
from pathlib import Path


def generate(folder: Path, n: int, size: tuple[int, int]) -> None:
    from PIL import Image

    marker = folder / f".done_{n}"
    if marker.exists():
        return
    shutil.rmtree(folder, ignore_errors=True)
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 30, 200)).save(buf, format="JPEG", quality=80)
    data = buf.getvalue()
    for i in range(n):
        sub = folder / f"{i // 1000:04d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"img_{i:07d}.jpg").write_bytes(data)
    marker.write_text("ok")


def run(n: int, size: tuple[int, int], workdir: Path) -> None:
    import lightly_studio as ls
    from lightly_studio import db_manager

    folder = workdir / f"images_{n}_{size[0]}"
    generate(folder, n, size)
    db_path = workdir / f"bench_{n}.db"
    for p in (db_path, Path(str(db_path) + ".wal")):
        if p.exists():
            p.unlink()
    db_manager.connect(db_file=db_path)
    # Warm-up on a tiny folder: first use imports polars/pyarrow/duckdb (~1.5 s, once per
    # process), which is not the per-image cost measured here.
    warm = workdir / "warmup"
    generate(warm, 10, (32, 32))
    ls.ImageDataset.create("warmup").add_images_from_path(path=str(warm), embed=False)
    ds = ls.ImageDataset.create(f"bench_{n}")
    t = time.perf_counter()
    added = ds.add_images_from_path(path=str(folder), embed=False)
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = ds.add_images_from_path(path=str(folder), embed=False)
    rescan = time.perf_counter() - t
    assert added == n and again == 0, (added, again)
    print(
        f"{n:>7} images {size[0]}x{size[1]}: first index {first:6.2f} s = "
        f"{n / first:8.0f} img/s; re-scan unchanged {rescan * 1000:7.1f} ms"
    )
    db_manager.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lightly_bench_ingest"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"cpu cores: {os.cpu_count()}")
    for n in args.sizes:
        run(n, (640, 480) if n <= 10_000 else (64, 48), args.workdir)


if __name__ == "__main__":
    main()
