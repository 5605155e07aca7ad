"""Embeddings on a Ray cluster (``compute_embeddings(engine="ray")``, extra ``[ray]``).

The work is the local pipeline's (``_pipeline.embed_paths`` on an open_clip model loaded from
its spec), spread by Ray Data: ``map_batches`` over (sample id, fsspec URL) rows, one model
per actor. Workers never touch the database, which one process owns: each batch writes its
vectors to a Parquet shard, and the owner ingests all shards in one bulk step afterwards.

Faults: a shard is named after the ids it holds and written under a temporary name, then
renamed, so a retried batch (Ray restarts a dead actor and re-runs its batch) rewrites the
same complete file, and a crash never leaves a half-written shard under a shard's name.
Ingest keeps one vector per sample. A rerun after an interruption skips the samples that
already have a shard or a stored vector, so only what is missing is computed.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Any

import numpy as np

from lightly_studio.errors import EmbeddingError

SHARD_PREFIX = "shard-"


@dataclass
class RayRun:
    computed: int  # vectors computed by this run's workers
    from_shards: int  # vectors found in shards of an earlier, interrupted run
    failed: list[str]  # paths that could not be read


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise EmbeddingError(
            "engine='ray' needs Ray Data: pip install 'lightly_studio[ray]'."
        ) from exc
    return ray


def connect(address: str | None, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address``, or start a local one; a clear error when unreachable."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    if address is not None:
        _check_reachable(address)
    try:
        if address is None:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except Exception as exc:  # ray raises RpcError, ConnectionError, RuntimeError, ...
        raise EmbeddingError(f"Cannot reach the Ray cluster at {address!r}: {exc}") from exc
    return ray


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a ``host:port`` nobody listens on (ray.init waits minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: let Ray resolve them
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise EmbeddingError(f"Cannot reach the Ray cluster at {address!r}: {exc}") from exc


def shard_ids(shard_dir: str) -> set[str]:
    """Sample ids that already have a vector in a shard of ``shard_dir``."""
    import fsspec
    import pyarrow.parquet as pq

    fs, root = fsspec.core.url_to_fs(shard_dir)
    if not fs.exists(root):
        return set()
    done: set[str] = set()
    for path in fs.glob(posixpath.join(root, f"{SHARD_PREFIX}*.parquet")):
        with fs.open(path, "rb") as f:
            done.update(pq.read_table(f, columns=["sample_id"]).column(0).to_pylist())
    return done


def read_shards(shard_dir: str) -> tuple[list[str], np.ndarray]:
    """(sample ids, vectors) of every shard, one vector per sample."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs, root = fsspec.core.url_to_fs(shard_dir)
    tables = []
    for path in sorted(fs.glob(posixpath.join(root, f"{SHARD_PREFIX}*.parquet"))):
        with fs.open(path, "rb") as f:
            tables.append(pq.read_table(f))
    if not tables:
        return [], np.zeros((0, 0), np.float32)
    table = pa.concat_tables(tables)
    ids = table.column("sample_id").to_pylist()
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = flat.reshape(len(ids), -1).astype(np.float32)
    _, first = np.unique(np.asarray(ids), return_index=True)
    first = np.sort(first)
    return [ids[i] for i in first], vectors[first]


class EmbedShards:
    """The Ray Data actor: one model per worker; each batch becomes one Parquet shard."""

    def __init__(self, spec: str, shard_dir: str, batch_size: int, device: str | None) -> None:
        from lightly_studio.embed._open_clip import load_model

        self.model = load_model(spec, device)
        self.shard_dir = shard_dir
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import fsspec
        import pyarrow as pa
        import pyarrow.parquet as pq

        from lightly_studio.embed._pipeline import Failures, embed_paths

        ids = [str(i) for i in batch["sample_id"]]
        paths = [str(p) for p in batch["path"]]
        failures = Failures()
        kept: list[str] = []
        parts: list[np.ndarray] = []
        for positions, vectors in embed_paths(
            self.model,
            paths,
            batch_size=self.batch_size,
            num_workers=2,
            progress=False,
            failures=failures,
        ):
            kept.extend(ids[i] for i in positions)
            parts.append(vectors)
        if kept:
            vectors = np.concatenate(parts).astype(np.float32)
            dim = vectors.shape[1]
            table = pa.table(
                {
                    "sample_id": pa.array(kept, pa.string()),
                    "vector": pa.FixedSizeListArray.from_arrays(
                        pa.array(vectors.ravel(), pa.float32()), dim
                    ),
                }
            )
            name = hashlib.blake2b("\n".join(sorted(ids)).encode(), digest_size=12).hexdigest()
            fs, root = fsspec.core.url_to_fs(self.shard_dir)
            fs.makedirs(root, exist_ok=True)
            final = posixpath.join(root, f"{SHARD_PREFIX}{name}.parquet")
            temporary = posixpath.join(root, f".tmp-{name}-{np.random.randint(1 << 30)}")
            with fs.open(temporary, "wb") as f:
                pq.write_table(table, f)
            fs.mv(temporary, final)
        # Paths joined into one string: a column of lists would travel as pickled objects.
        return {"computed": np.array([len(kept)]), "failed": np.array(["\n".join(failures.paths)])}


def run(
    ids: list[str],
    paths: list[str],
    spec: str,
    shard_dir: str,
    *,
    ray_address: str | None,
    num_workers: int,
    num_gpus_per_worker: float,
    batch_size: int,
    progress: bool,
) -> RayRun:
    """Compute the vectors of (ids, paths) that no shard holds yet, into ``shard_dir``."""
    import pyarrow as pa

    done = shard_ids(shard_dir)
    todo = [i for i, s in enumerate(ids) if s not in done]
    from_shards = len(ids) - len(todo)
    if not todo:
        return RayRun(0, from_shards, [])
    ray = connect(ray_address, num_cpus=None)
    ray.data.DataContext.get_current().enable_progress_bars = progress
    # One block per batch, built here: a repartition would be an all-to-all task that waits
    # for a CPU the actor pool already holds.
    blocks = [
        pa.table(
            {
                "sample_id": [ids[i] for i in todo[start : start + batch_size]],
                "path": [paths[i] for i in todo[start : start + batch_size]],
            }
        )
        for start in range(0, len(todo), batch_size)
    ]
    device = "cuda" if num_gpus_per_worker > 0 else "cpu"
    result = (
        ray.data.from_arrow(blocks)
        .map_batches(
            EmbedShards,
            fn_constructor_kwargs={
                "spec": spec,
                "shard_dir": shard_dir,
                "batch_size": batch_size,
                "device": device,
            },
            batch_size=batch_size,
            compute=ray.data.ActorPoolStrategy(size=num_workers),
            num_cpus=1,
            num_gpus=num_gpus_per_worker or None,
            batch_format="numpy",
        )
        .take_all()
    )
    computed = int(sum(int(r["computed"]) for r in result))
    failed = [p for r in result for p in str(r["failed"]).split("\n") if p]
    return RayRun(computed, from_shards, failed)


def map_paths(
    fn: Any,
    paths: list[str],
    *,
    ray_address: str | None,
    num_workers: int = 2,
    batch_size: int = 64,
) -> list[Any]:
    """``[fn(p) for p in paths]`` computed by Ray tasks, in the order of ``paths``.

    For per-image work whose results are small (the image checks' statistics): the results
    travel back to this process, which stores them. A task whose worker dies is retried by
    Ray; ``fn`` must be deterministic across processes for that to be harmless.
    """
    import pickle

    import pyarrow as pa

    if not paths:
        return []
    ray = connect(ray_address)
    blocks = [
        pa.table(
            {
                "i": list(range(s, min(s + batch_size, len(paths)))),
                "path": paths[s : s + batch_size],
            }
        )
        for s in range(0, len(paths), batch_size)
    ]

    def run_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [pickle.dumps(fn(str(p))) for p in batch["path"]]
        return {"i": batch["i"], "row": np.array(rows, dtype=object)}

    out: list[Any] = [None] * len(paths)
    for row in (
        ray.data.from_arrow(blocks)
        .map_batches(
            run_batch, batch_size=batch_size, batch_format="numpy", concurrency=num_workers
        )
        .iter_rows()
    ):
        out[int(row["i"])] = pickle.loads(row["row"])
    return out
