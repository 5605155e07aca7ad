"""Images in, normalised vectors out: decode in threads ahead of a batched forward pass."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lightly_studio.embed._images import load_for_model, load_rgb
from lightly_studio.embed._vectors import as_float32_matrix, l2_normalise


@dataclass
class Failures:
    """Images that could not be read; their samples stay without embeddings."""

    paths: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, path: str, exc: BaseException) -> None:
        self.paths.append(path)
        self.errors.append(f"{type(exc).__name__}: {exc}")

    def summary(self, limit: int = 3) -> str:
        shown = "; ".join(
            f"{p} ({e})" for p, e in zip(self.paths[:limit], self.errors[:limit], strict=True)
        )
        more = f" and {len(self.paths) - limit} more" if len(self.paths) > limit else ""
        return f"{len(self.paths)} image(s) could not be read and have no embedding: {shown}{more}"


def default_batch_size(device: str) -> int:
    return 128 if device.startswith("cuda") else 32


def default_workers(device: str) -> int:
    cores = os.cpu_count() or 2
    # On CPU the model wants the cores too; decoding (with JPEG draft) is ~10x cheaper than
    # the forward pass, so a few threads keep ahead. A GPU needs every core decoding.
    return max(2, cores if device != "cpu" else min(4, cores))


def embed_paths(
    model: Any,
    paths: Sequence[str],
    *,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    failures: Failures | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(positions, vectors)`` per batch; positions index into ``paths``.

    ``model`` is an OpenClipModel (fast path: uint8 arrays at input size, no PIL in the
    main thread) or any object with ``embed_images(list[PIL.Image])``.
    """
    device = getattr(model, "device", "cpu")
    batch_size = batch_size or default_batch_size(device)
    num_workers = num_workers or default_workers(device)
    failures = failures if failures is not None else Failures()

    fast = hasattr(model, "forward_uint8") and hasattr(model, "image_size")
    if fast:
        size, mode, interp = model.image_size, model.resize_mode, model.interpolation

        def load(path: str) -> Any:
            return load_for_model(path, size, mode, interp)

        def forward(items: list) -> np.ndarray:
            return model.forward_uint8(np.stack(items))
    else:
        load = load_rgb

        def forward(items: list) -> np.ndarray:
            return l2_normalise(as_float32_matrix(model.embed_images(items)))

    bar = _progress(len(paths), progress)
    try:
        for positions, items in _batches(paths, load, batch_size, num_workers, failures, bar):
            if items:
                yield positions, forward(items)
    finally:
        bar.close()


def _batches(
    paths: Sequence[str],
    load: Callable[[str], Any],
    batch_size: int,
    num_workers: int,
    failures: Failures,
    bar: Any,
) -> Iterator[tuple[np.ndarray, list]]:
    # A bounded window of futures: decoding runs up to two batches ahead of the model while
    # memory stays O(batch) for any number of images.
    window = 2 * batch_size + num_workers
    with ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix="ls-decode") as pool:
        pending: deque[tuple[int, Future]] = deque()
        next_index = 0

        def refill() -> None:
            nonlocal next_index
            while next_index < len(paths) and len(pending) < window:
                pending.append((next_index, pool.submit(load, paths[next_index])))
                next_index += 1

        refill()
        while pending:
            positions: list[int] = []
            items: list = []
            while pending and len(positions) < batch_size:
                index, future = pending.popleft()
                refill()  # keep the decoders busy while this batch is assembled and run
                try:
                    items.append(future.result())
                    positions.append(index)
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
                    failures.add(paths[index], exc)
                bar.update(1)
            yield np.asarray(positions, dtype=np.int64), items


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", desc="Embedding", disable=not enabled or total == 0)
