"""Search, typicality and projection at scale, on synthetic clustered unit vectors.

    .venv/bin/python benchmarks/bench_search.py search        # 1,000,000 x 512 top-k p50
    .venv/bin/python benchmarks/bench_search.py search --db   # ... through DuckDB + similarity_scores
    .venv/bin/python benchmarks/bench_search.py search --dtypes  # ... and with 16-bit storage
    .venv/bin/python benchmarks/bench_search.py typicality    # 100k, with accuracy vs exact
    .venv/bin/python benchmarks/bench_search.py projection --points 10000 100000

Clustered data (a Gaussian mixture) is used because real embeddings are clustered; uniform
random vectors on a 512-sphere would be a worst case no image set has.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def clustered(
    n: int, dim: int = 512, clusters: int = 200, seed: int = 0, noise: float = 0.8
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        block = centres[rng.integers(0, clusters, m)] + rng.normal(
            scale=noise, size=(m, dim)
        ).astype(np.float32)
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def load() -> str:
    return f"load_avg={os.getloadavg()[0]:.1f}"


def bench_scan_dtypes(x: np.ndarray, queries: np.ndarray, k: int) -> None:
    """The scan with the matrix stored in 16-bit floats (torch's matrix-vector product; the
    float32 row is the shipped path, max_scores): half the bytes to read, but scores rounded.
    How fast, and how far the top-k moves."""
    import torch

    from lightly_studio.embed._vectors import max_scores

    xt = torch.from_numpy(x)
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        m = xt.to(dtype) if dtype != torch.float32 else None
        times, errors, overlaps = [], [], []
        for q in queries[:7]:
            exact = torch.from_numpy(max_scores(x, q[None]))
            t = time.perf_counter()
            if m is None:
                scores = torch.from_numpy(max_scores(x, q[None]))
            else:
                scores = (m @ torch.from_numpy(q).to(dtype)).float()
            times.append((time.perf_counter() - t) * 1000)
            errors.append(float((scores - exact).abs().max()))
            top = set(torch.topk(scores, k).indices.tolist())
            overlaps.append(len(top & set(torch.topk(exact, k).indices.tolist())) / k)
        size = x.nbytes if m is None else m.element_size() * m.numel()
        print(
            f"  scan as {str(dtype).replace('torch.', ''):<8}: p50 {statistics.median(times):.0f} ms, "
            f"max score error {max(errors):.4f}, top-{k} overlap with float32 "
            f"{100 * min(overlaps):.0f} % (worst query); {size / 2**30:.1f} GiB ({load()})",
            flush=True,
        )
        del m


def bench_search(n: int, k: int, repeats: int, use_db: bool, compare_dtypes: bool = False) -> None:
    from lightly_studio.embed._vectors import max_scores, top_k

    t = time.perf_counter()
    x = clustered(n)
    print(f"generated {n} x 512 in {time.perf_counter() - t:.1f}s ({load()})", flush=True)
    queries = x[np.random.default_rng(1).choice(n, repeats, replace=False)]
    times = []
    for q in queries:
        t = time.perf_counter()
        order = top_k(max_scores(x, q[None]), k)
        times.append((time.perf_counter() - t) * 1000)
    print(
        f"in-memory cosine top-{k} over {n} x 512: p50 {statistics.median(times):.0f} ms, "
        f"min {min(times):.0f} ms ({load()})",
        flush=True,
    )
    assert len(order) == k
    if compare_dtypes:
        bench_scan_dtypes(x, queries, k)
    if use_db:
        bench_search_db(x, k, repeats)


def bench_search_db(x: np.ndarray, k: int, repeats: int) -> None:
    import polars as pl

    from lightly_studio import db_manager
    from lightly_studio.core.image_dataset import ImageDataset
    from lightly_studio.db import transaction
    from lightly_studio.embed import add_embeddings, similarity_scores
    from lightly_studio.store.samples import insert_samples

    n = len(x)
    folder = tempfile.mkdtemp()
    db_manager.connect(os.path.join(folder, "bench.db"))
    ds = ImageDataset.create("bench")
    t = time.perf_counter()
    frame = pl.DataFrame(
        {
            "file_path_abs": [f"/data/{i:07d}.jpg" for i in range(n)],
            "file_name": [f"{i:07d}.jpg" for i in range(n)],
            "width": 640,
            "height": 480,
        }
    )
    with transaction() as con:
        stored = insert_samples(con, ds.dataset_id, frame)
    ids = stored.sort("file_path_abs")["sample_id"].to_list()
    print(f"inserted {n} samples in {time.perf_counter() - t:.1f}s", flush=True)
    t = time.perf_counter()
    add_embeddings(ds, "bench", ids, x)
    print(f"add_embeddings {n} x 512 in {time.perf_counter() - t:.1f}s", flush=True)
    q = ds.query()
    t = time.perf_counter()
    similarity_scores(q, samples=[ids[0]], k=k)
    print(
        f"first query (reads the matrix, or builds the index past 200k) {time.perf_counter() - t:.1f}s",
        flush=True,
    )
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        out = similarity_scores(q, samples=[ids[i * 7919 % n]], k=k)
        times.append((time.perf_counter() - t) * 1000)
    assert out.height == k
    print(
        f"similarity_scores(whole dataset of {n}, k={k}) p50 {statistics.median(times):.0f} ms "
        f"({load()})",
        flush=True,
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss_mb:.0f} MB")


def bench_typicality(n: int, k: int, check: int, noise: float) -> None:
    from lightly_studio.embed._vectors import EXACT_LIMIT, knn, typicality

    x = clustered(n, noise=noise)
    print(
        f"data: 200 clusters, noise {noise} (mean cosine to own centre "
        f"{1 / np.sqrt(1 + noise**2):.2f})"
    )
    t = time.perf_counter()
    values = typicality(x, k=k)
    took = time.perf_counter() - t
    mode = "exact" if n * n <= EXACT_LIMIT else "inverted-file"
    print(f"typicality of {n} x 512 (k={k}, {mode}): {took:.1f}s ({load()})", flush=True)
    # Accuracy on a random subset against exact neighbours.
    rows = np.random.default_rng(2).choice(n, check, replace=False)
    sims, idx = knn(x, k + 1, queries=x[rows], exact_limit=10**18)
    exact = np.array(
        [
            np.mean([s for s, j in zip(srow, irow, strict=True) if j != r][:k])
            for srow, irow, r in zip(sims, idx, rows, strict=True)
        ]
    )
    err = np.abs(values[rows] - exact)
    rank = np.corrcoef(np.argsort(np.argsort(values[rows])), np.argsort(np.argsort(exact)))[0, 1]
    print(
        f"  vs exact on {check} samples: max abs error {err.max():.4f}, mean {err.mean():.4f}, "
        f"rank correlation {rank:.4f}"
    )


def bench_projection(points: list[int]) -> None:
    from lightly_studio.embed._projection import fit_2d, project

    fit_2d(clustered(200, seed=3))  # numba compile / cache load, not part of the figure
    for n in points:
        x = clustered(n, clusters=50)
        t = time.perf_counter()
        xy, fitted = project(x)
        print(
            f"projection of {n} points: {time.perf_counter() - t:.1f}s "
            f"(fitted {int(fitted.sum())}, placed {int((~fitted).sum())}; {load()})",
            flush=True,
        )
        assert np.isfinite(xy).all()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("search")
    s.add_argument("-n", type=int, default=1_000_000)
    s.add_argument("-k", type=int, default=100)
    s.add_argument("--repeats", type=int, default=20)
    s.add_argument("--db", action="store_true", help="also through DuckDB and similarity_scores")
    s.add_argument(
        "--dtypes",
        action="store_true",
        help="also time the scan with the matrix in bfloat16 / float16",
    )
    t = sub.add_parser("typicality")
    t.add_argument("-n", type=int, default=100_000)
    t.add_argument("-k", type=int, default=20)
    t.add_argument("--check", type=int, default=2000)
    t.add_argument("--noise", type=float, default=0.8, help="cluster spread (higher: harder)")
    p = sub.add_parser("projection")
    p.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args()
    print(f"cpus={os.cpu_count()} {load()}", flush=True)
    if args.what == "search":
        bench_search(args.n, args.k, args.repeats, args.db, args.dtypes)
    elif args.what == "typicality":
        bench_typicality(args.n, args.k, args.check, args.noise)
    else:
        bench_projection(args.points)


if __name__ == "__main__":
    main()
