"""Approximate vector search: which index, and what it costs (docs/scaling.md).

    python benchmarks/bench_ann.py --n 1000000                 # exact vs IVF-Flat (ours) vs IVF-SQ8
    python benchmarks/bench_ann.py --n 200000 --hnsw           # + faiss HNSW (slow to build)
    python benchmarks/bench_ann.py --n 200000 --usearch        # + usearch HNSW (pip install usearch)
    python benchmarks/bench_ann.py --n 5000000 --chunked       # IVF-SQ8 built past RAM-sized floats

Vectors are generated (clustered unit vectors, benchmarks/bench_search.py `clustered`, the
shape of image embeddings); queries are further vectors from the same clusters that are not
in the index. Recall@100 is measured against exact search on the same queries; query times
are one query at a time (what a search box does), p50 over the queries. The index used by
lightly_studio is `lightly_studio.embed._ann.build` (IVF-Flat, nprobe calibrated to
recall@100 >= 0.97 on the dataset's own vectors). The 5M chunked build measures IVF-SQ8,
our earlier choice, a quarter of IVF-Flat's size.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import clustered

K = 100


def load() -> str:
    return f"load_avg={os.getloadavg()[0]:.1f}"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def exact_top(x: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    out, times = [], []
    for q in queries:
        t = time.perf_counter()
        scores = x @ q
        part = np.argpartition(-scores, K - 1)[:K]
        out.append(part[np.argsort(-scores[part])])
        times.append((time.perf_counter() - t) * 1000)
    return np.stack(out), times


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def timed_search(index, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    out, times = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None], K)
        times.append((time.perf_counter() - t) * 1000)
        out.append(ids[0])
    return np.stack(out), times


def report(name: str, found, truth, times, build_s: float, bytes_: int) -> None:
    print(
        f"{name:<28} recall@{K} {recall(found, truth):.3f}  query p50 {statistics.median(times):6.2f} ms"
        f"  build {build_s:6.1f} s  size {bytes_ / 2**20:7.0f} MB  ({load()})",
        flush=True,
    )


def bench(n: int, n_queries: int, hnsw: bool, usearch: bool = False) -> None:
    import faiss

    from lightly_studio.embed import _ann

    t = time.perf_counter()
    both = clustered(n + n_queries, clusters=max(200, n // 1000))
    x, queries = both[:n], both[n:]
    print(f"generated {n} x 512 in {time.perf_counter() - t:.1f}s ({load()})", flush=True)
    truth, exact_times = exact_top(x, queries)
    report("exact (numpy matvec)", truth, truth, exact_times, 0.0, x.nbytes)

    t = time.perf_counter()
    ann = _ann.build(x, np.arange(n, dtype=np.uint64))
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.faiss"
        _ann.save(ann, path)
        size = path.stat().st_size
        mapped = _ann.load(path)
        assert mapped is not None
        found, times = timed_search(mapped, queries)
        report(
            f"IVF-Flat (ours) nlist={ann.index.nlist} nprobe={ann.nprobe}",
            found,
            truth,
            times,
            build_s,
            size,
        )
        del mapped

    sq8 = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(512),
        512,
        ann.index.nlist,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    t = time.perf_counter()
    sq8.train(x[np.random.default_rng(0).choice(n, min(n, 40 * sq8.nlist), replace=False)])
    sq8.add(x)
    sq8.nprobe = ann.nprobe
    build_s = time.perf_counter() - t
    found, times = timed_search(sq8, queries)
    report(f"IVF-SQ8 nprobe={sq8.nprobe}", found, truth, times, build_s, sq8.ntotal * 512)
    del sq8

    if hnsw:
        index = faiss.IndexHNSWFlat(512, 32, faiss.METRIC_INNER_PRODUCT)
        t = time.perf_counter()
        index.add(x)
        build_s = time.perf_counter() - t
        for ef in (64, 128, 256):
            index.hnsw.efSearch = ef
            found, times = timed_search(index, queries)
            report(
                f"HNSW M=32 efSearch={ef}", found, truth, times, build_s, n * (512 * 4 + 32 * 2 * 8)
            )
    if usearch:
        bench_usearch(x, queries, truth)
    print(f"peak RSS {rss_mb():.0f} MB")


def bench_usearch(x: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> None:
    """usearch's HNSW (not a dependency: `pip install usearch` to run this part)."""
    from usearch.index import Index

    for dtype in ("f16", "i8"):
        index = Index(ndim=x.shape[1], metric="ip", dtype=dtype, connectivity=16, expansion_add=128)
        t = time.perf_counter()
        index.add(np.arange(len(x)), x, threads=os.cpu_count() or 1)
        build_s = time.perf_counter() - t
        for ef in (64, 128, 256):
            index.expansion_search = ef
            found, times = [], []
            for q in queries:
                t = time.perf_counter()
                matches = index.search(q, K)
                times.append((time.perf_counter() - t) * 1000)
                found.append(np.resize(np.asarray(matches.keys, dtype=np.int64), K))
            report(
                f"usearch HNSW {dtype} ef={ef}",
                np.stack(found),
                truth,
                times,
                build_s,
                index.serialized_length,
            )
        del index


def bench_chunked(n: int, n_queries: int, chunk: int = 250_000) -> None:
    """Build without holding the float32 matrix: train on a sample, add chunk by chunk."""
    import math

    import faiss

    from lightly_studio.embed import _ann

    clusters = max(200, n // 1000)
    centres = np.random.default_rng(0).normal(size=(clusters, 512)).astype(np.float32)

    def block_of(m: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        b = centres[rng.integers(0, clusters, m)] + rng.normal(scale=0.8, size=(m, 512)).astype(
            np.float32
        )
        return b / np.linalg.norm(b, axis=1, keepdims=True)

    queries = block_of(n_queries, 10**9)
    n_lists = int(min(16_384, 4 * math.sqrt(n)))
    t0 = time.perf_counter()
    sample = block_of(40 * n_lists, 10**9 + 1)
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(512),
        512,
        n_lists,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.cp.niter = 10
    index.train(sample)
    train_s = time.perf_counter() - t0
    best = np.full((n_queries, K), -np.inf, dtype=np.float32)
    best_ids = np.zeros((n_queries, K), dtype=np.int64)
    gen_s = 0.0
    for start in range(0, n, chunk):
        t = time.perf_counter()
        block = block_of(min(chunk, n - start), start + 1)
        gen_s += time.perf_counter() - t
        index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
        scores = queries @ block.T
        merged = np.concatenate([best, scores], axis=1)
        merged_ids = np.concatenate(
            [best_ids, np.broadcast_to(np.arange(start, start + len(block)), scores.shape)], axis=1
        )
        top = np.argsort(-merged, axis=1)[:, :K]
        best = np.take_along_axis(merged, top, axis=1)
        best_ids = np.take_along_axis(merged_ids, top, axis=1)
    build_s = time.perf_counter() - t0 - gen_s
    print(f"chunked build of {n} (train {train_s:.1f}s of it), generation excluded ({load()})")
    ann = _ann.AnnIndex(index, np.arange(n, dtype=np.int64), np.zeros(n, np.float32), 1, n)
    for nprobe in (16, 32, 64, 128, 256):
        ann.nprobe = nprobe
        found, times = timed_search(ann, queries)
        report(
            f"IVF-SQ8 nlist={n_lists} nprobe={nprobe}",
            found.view(np.int64),
            best_ids,
            times,
            build_s,
            index.ntotal * 512,
        )
    print(f"peak RSS {rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--hnsw", action="store_true", help="also build faiss HNSW (slow)")
    parser.add_argument("--usearch", action="store_true", help="also usearch HNSW (f16, i8)")
    parser.add_argument("--chunked", action="store_true", help="build in chunks (5M and up)")
    args = parser.parse_args()
    cpu = Path("/proc/cpuinfo").read_text()
    flags = sorted({f for f in cpu.split() if f.startswith(("avx2", "avx512"))})
    print(f"cores {os.cpu_count()}, flags {' '.join(flags)}")
    if args.chunked:
        bench_chunked(args.n, args.queries)
    else:
        bench(args.n, args.queries, args.hnsw, args.usearch)


if __name__ == "__main__":
    main()
