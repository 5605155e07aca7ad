"""Selection speed: diverse (farthest-point k-center) and multi_strategies on synthetic embeddings.

    .venv/bin/python benchmarks/bench_selection.py                      # 1,000 of 100,000 (512-d)
    .venv/bin/python benchmarks/bench_selection.py --large               # + 10,000 of 1,000,000
    .venv/bin/python benchmarks/bench_selection.py --data uniform        # worst case
    .venv/bin/python benchmarks/bench_selection.py --db                  # + end to end via the DB

Data: ``clustered`` mimics image embeddings (1,000 clusters of power-law sizes and varied
spread around a shared direction, L2-normalised); ``uniform`` is isotropic noise on the sphere,
where every point is about equally far from every other and no distance update can be skipped.
Figures: wall time, and the number of passes over the full matrix compared with a textbook
implementation (one full distance pass per pick), whose time is estimated from one pass.
The goal for 1,000 of 100,000 is under 5 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_embeddings(n: int, dim: int, kind: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    chunk = 65536
    if kind == "uniform":
        for s in range(0, n, chunk):
            out[s : s + chunk] = rng.standard_normal((min(chunk, n - s), dim), dtype=np.float32)
    else:
        n_clusters = 1000
        centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
        shared = rng.standard_normal(dim, dtype=np.float32)
        weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.8
        spread = rng.uniform(0.3, 1.0, n_clusters).astype(np.float32)
        for s in range(0, n, chunk):
            m = min(chunk, n - s)
            labels = rng.choice(n_clusters, size=m, p=weights / weights.sum())
            noise = rng.standard_normal((m, dim), dtype=np.float32)
            out[s : s + m] = 0.8 * shared + centres[labels] + spread[labels, None] * noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def full_pass_ms(x: np.ndarray) -> float:
    """Time of one textbook distance update (all candidates against one new point)."""
    import torch

    t = torch.from_numpy(x)
    v = t[0].clone()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        d = (2 - 2 * (t @ v)).clamp_min_(0).sqrt_()
        torch.minimum(d, d)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def bench(n: int, k: int, dim: int, kind: str, multi: bool = True) -> None:
    from lightly_studio.selection import _algorithms as alg

    t0 = time.perf_counter()
    x = make_embeddings(n, dim, kind)
    gen_s = time.perf_counter() - t0
    pass_ms = full_pass_ms(x)
    naive_s = pass_ms * k / 1e3
    print(
        f"\n{kind}: select {k:,} of {n:,} ({dim}-d)   [data generated in {gen_s:.1f} s; "
        f"one full distance pass {pass_ms:.1f} ms -> textbook FPS ~{naive_s:.1f} s]"
    )

    t0 = time.perf_counter()
    result = alg.farthest_point_sampling(x, k)
    diverse_s = time.perf_counter() - t0
    print(
        f"  diverse          {diverse_s:7.2f} s   {result.epochs} passes over the matrix "
        f"(textbook: {k:,}); last pick at cosine distance {result.distances[-1]:.3f}"
    )

    if not multi:
        return
    rng = np.random.default_rng(1)
    metadata = rng.random(n)
    t0 = time.perf_counter()
    picks = alg.greedy_combined(
        [(2.0, alg.DiversityTerm(x, k)), (1.0, alg.StaticTerm(metadata))], n, k
    )
    multi_s = time.perf_counter() - t0
    print(
        f"  multi_strategies {multi_s:7.2f} s   (diversity 2.0 + metadata 1.0); mean metadata "
        f"of picks {metadata[picks].mean():.3f} vs pool {metadata.mean():.3f}"
    )

    counts = np.zeros((n, 20))
    counts[np.arange(n), rng.choice(20, size=n, p=np.r_[0.5, np.full(19, 0.5 / 19)])] = 1
    t0 = time.perf_counter()
    picks = alg.greedy_combined(
        [
            (1.0, alg.DiversityTerm(x, k)),
            (1.0, alg.BalanceTerm(alg.ClassBalance(counts, np.ones(20)))),
        ],
        n,
        k,
    )
    balance_s = time.perf_counter() - t0
    top_share = counts[picks, 0].sum() / k
    print(
        f"  multi_strategies {balance_s:7.2f} s   (diversity 1.0 + uniform balancing 1.0 over "
        f"20 classes); share of the 50% class in picks: {top_share:.1%}"
    )


def bench_duplicates(n: int, dim: int) -> None:
    from lightly_studio.selection import _algorithms as alg

    x = make_embeddings(n, dim, "clustered")
    x[1::50] = x[::50][: len(x[1::50])]  # plant exact duplicates
    t0 = time.perf_counter()
    pairs = alg.duplicate_pairs(x, 0.001)
    groups = alg.connected_groups(n, pairs)
    print(
        f"\nfind_duplicates over {n:,} ({dim}-d): {time.perf_counter() - t0:.2f} s, "
        f"{len(groups):,} groups"
    )
    t0 = time.perf_counter()
    kept = alg.farthest_point_sampling(x, n, min_distance=0.001)
    print(f"deduplicate over {n:,}: {time.perf_counter() - t0:.2f} s, kept {len(kept.indices):,}")


def bench_db(n: int, k: int, dim: int) -> None:
    """End to end: samples and vectors in the DB, dataset.query().selection().diverse(...)."""
    import tempfile
    from pathlib import Path

    import polars as pl

    import lightly_studio as ls
    from lightly_studio import db_manager
    from lightly_studio.db import transaction
    from lightly_studio.store.samples import insert_samples

    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        dataset = ls.ImageDataset.create("bench")
        frame = pl.DataFrame(
            {
                "file_path_abs": [f"/data/img_{i:07d}.jpg" for i in range(n)],
                "file_name": [f"img_{i:07d}.jpg" for i in range(n)],
                "width": [640] * n,
                "height": [480] * n,
            }
        )
        with transaction() as con:
            stored = insert_samples(con, dataset.dataset_id, frame)
        t0 = time.perf_counter()
        dataset.add_embeddings(
            "bench", stored["sample_id"].to_list(), make_embeddings(n, dim, "clustered")
        )
        print(
            f"\nend to end, {n:,} samples in the DB (vectors stored in "
            f"{time.perf_counter() - t0:.1f} s)"
        )
        t0 = time.perf_counter()
        picked = dataset.query().selection().diverse(k, "diverse", embedding_model_name="bench")
        print(
            f"  dataset.query().selection().diverse({k:,}): "
            f"{time.perf_counter() - t0:.2f} s, {len(picked):,} samples tagged"
        )
        db_manager.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--select", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--data", choices=["clustered", "uniform", "both"], default="both")
    parser.add_argument("--large", action="store_true", help="also 10,000 of 1,000,000")
    parser.add_argument(
        "--large-multi", action="store_true", help="also multi_strategies at 1,000,000 (slow)"
    )
    parser.add_argument(
        "--duplicates",
        type=int,
        default=20_000,
        help="find_duplicates / deduplicate pool size (0: skip)",
    )
    parser.add_argument("--db", action="store_true", help="also run end to end through the DB")
    args = parser.parse_args()

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    kinds = ["clustered", "uniform"] if args.data == "both" else [args.data]
    for kind in kinds:
        bench(args.samples, args.select, args.dim, kind)
    if args.large:
        bench(1_000_000, 10_000, args.dim, "clustered", multi=args.large_multi)
    if args.duplicates:
        bench_duplicates(args.duplicates, args.dim)
    if args.db:
        bench_db(args.samples, args.select, args.dim)


if __name__ == "__main__":
    main()
