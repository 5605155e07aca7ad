"""Load test of the app server: concurrent clients paging the grid and fetching thumbnails.

    .venv/bin/python benchmarks/bench_server_load.py                  # 100k samples, 50 clients, 60 s
    .venv/bin/python benchmarks/bench_server_load.py --samples 10000 --clients 10 --seconds 10

What it does (bounded, loopback only):

1. Writes ``--samples`` small JPEG files (``--variants`` distinct images, 96x72, copied under
   unique names) and indexes them as one dataset (bulk insert, no embeddings); 10 % get a tag.
2. Starts ``start_gui()`` in a child process that owns the DB — as a user's script would — on a
   free loopback port.
3. Runs ``--clients`` threads, each with a keep-alive connection, for ``--seconds``. Each loop
   does what the grid does when scrolled to a random place: ``samples_page`` (120 rows; one in
   four with a tag filter), ``thumbnails`` for 48 of those ids (one batch), and 4 single
   ``GET /thumbnail/<id>``. Thumbnails are mostly cold (random over 100k files).
4. Prints per request kind: count, errors, p50/p99/max latency, and requests per second.

Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build_dataset(folder: Path, n: int, variants: int) -> str:
    import numpy as np
    import polars as pl
    from PIL import Image

    import lightly_studio as ls
    from lightly_studio import db_manager
    from lightly_studio.db import get_connection, transaction
    from lightly_studio.store.samples import insert_samples
    from lightly_studio.store.tags import tag_sample_ids

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = []
    for v in range(variants):
        arr = rng.integers(0, 255, (72, 96, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=80)
        sources.append(folder / f"variant_{v}.jpg")
        sources[-1].write_bytes(buf.getvalue())
    t0 = time.perf_counter()
    paths = []
    for i in range(n):
        sub = images / f"{i // 10000:02d}"
        if i % 10000 == 0:
            sub.mkdir(exist_ok=True)
        path = sub / f"img_{i:06d}.jpg"
        # Hard links: 100k distinct paths (so distinct, cold thumbnails) in seconds.
        try:
            os.link(sources[i % variants], path)
        except OSError:
            path.write_bytes(sources[i % variants].read_bytes())
        paths.append(str(path))
    print(f"wrote {n} files in {time.perf_counter() - t0:.1f} s", flush=True)

    db_path = folder / "lightly_studio.db"
    db_manager.connect(db_file=db_path)
    t0 = time.perf_counter()
    dataset = ls.ImageDataset.create(name="load_test")
    df = pl.DataFrame(
        {
            "file_path_abs": paths,
            "file_name": [Path(p).name for p in paths],
            "width": [96] * n,
            "height": [72] * n,
        }
    )
    with transaction() as con:
        ids = insert_samples(con, dataset.dataset_id, df)["sample_id"]
    tag_sample_ids(get_connection(), dataset.dataset_id, "every_tenth", ids.gather_every(10))
    print(f"indexed {len(dataset)} samples in {time.perf_counter() - t0:.1f} s", flush=True)
    dataset_id = str(dataset.dataset_id)
    db_manager.close()  # the server process owns the file from here on
    return dataset_id


def serve(db_path: str, port: int) -> None:
    """Child process: own the DB and serve it, like a user's script."""
    from lightly_studio import db_manager
    from lightly_studio.server import start_gui

    db_manager.connect(db_file=db_path)
    start_gui(host="127.0.0.1", port=port, block=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker(threading.Thread):
    def __init__(self, port: int, dataset_id: str, total: int, deadline: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.port, self.dataset_id, self.total, self.deadline = port, dataset_id, total, deadline
        self.rng = random.Random(seed)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def _do(
        self,
        kind: str,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> bytes | None:
        t0 = time.perf_counter()
        try:
            self.con.request(method, path, body=body, headers=headers or {})
            resp = self.con.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.errors[kind].append(repr(exc))
            self.con.close()
            self.con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return None
        self.latency[kind].append(time.perf_counter() - t0)
        if resp.status not in (200, 304):
            self.errors[kind].append(f"{resp.status} {data[:200]!r}")
            return None
        return data

    def call(self, kind: str, method: str, params: dict) -> bytes | None:
        return self._do(
            kind,
            "POST",
            f"/api/{method}",
            json.dumps(params).encode(),
            {"Content-Type": "application/json", "Accept-Encoding": "gzip"},
        )

    def run(self) -> None:
        import gzip

        while time.perf_counter() < self.deadline:
            spec: dict = {"dataset_id": self.dataset_id}
            size = self.total
            if self.rng.random() < 0.25:
                spec["tags"] = ["every_tenth"]
                size = self.total // 10
            offset = self.rng.randrange(0, max(size - 120, 1))
            body = self.call(
                "samples_page", "samples_page", {"spec": spec, "offset": offset, "limit": 120}
            )
            if body is None:
                continue
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            rows = json.loads(body)["result"]["rows"]
            ids = [r["sample_id"] for r in rows]
            if not ids:
                self.errors["samples_page"].append(f"empty page at offset {offset}")
                continue
            self.call(
                "thumbnails(48)",
                "thumbnails",
                {"dataset_id": self.dataset_id, "sample_ids": ids[:48]},
            )
            for sid in self.rng.sample(ids, min(4, len(ids))):
                self._do("GET /thumbnail", "GET", f"/thumbnail/{sid}")
        self.con.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    # Hard bounds: this is a benchmark, not a stress tool.
    args.clients = min(args.clients, 200)
    args.seconds = min(args.seconds, 600)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp)
        dataset_id = build_dataset(folder, args.samples, args.variants)
        port = free_port()
        env = {**os.environ, "LIGHTLY_STUDIO_RUNTIME_DIR": str(folder / "runtime")}
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder / "lightly_studio.db"), str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            line = server.stdout.readline()
            if "running at" not in line:
                print(line + server.stdout.read())
                return 1
            print(line.strip(), flush=True)
            threading.Thread(target=server.stdout.read, daemon=True).start()  # drain
            deadline = time.perf_counter() + args.seconds
            workers = [
                Worker(port, dataset_id, args.samples, deadline, seed=i)
                for i in range(args.clients)
            ]
            t0 = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(20)

    latency: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for w in workers:
        for k, v in w.latency.items():
            latency[k].extend(v)
        for k, v in w.errors.items():
            errors[k].extend(v)
    print(
        f"\n{args.clients} clients, {elapsed:.1f} s, {args.samples} samples, "
        f"{os.cpu_count()} CPUs (server and clients share them)"
    )
    print(
        f"{'request':<18}{'count':>8}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>8}"
    )
    for kind in ("samples_page", "thumbnails(48)", "GET /thumbnail"):
        v = latency.get(kind, [])
        if not v:
            print(f"{kind:<18}{0:>8}{len(errors.get(kind, [])):>8}")
            continue
        print(
            f"{kind:<18}{len(v):>8}{len(errors.get(kind, [])):>8}"
            f"{1000 * statistics.median(v):>9.1f}{1000 * percentile(v, 0.99):>9.1f}"
            f"{1000 * max(v):>9.1f}{len(v) / elapsed:>8.1f}"
        )
    total_errors = sum(len(v) for v in errors.values())
    if total_errors:
        first = next(e for v in errors.values() for e in v)
        print(f"{total_errors} errors; first: {first}")
    return 1 if total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
