"""Sample materialisation against the reference product (lightly-studio 1.2.0 from PyPI).

    .venv/bin/python benchmarks/bench_reference.py [--repeats 15]
        [--reference-python /tmp/refvenv/bin/python] [--images /tmp/lightly_bench_ref_images]
        [--baseline /path/to/another/checkout]

Both products index the same 10,000 small generated PNGs (``add_images_from_path``, no
embeddings) and tag them the same way, each in its own process (ours with this checkout's
interpreter, the reference with ``--reference-python``, a venv where ``pip install
lightly-studio==1.2.0`` ran). The parent then times, interleaved, run after run:

(a) a width+tag query that builds about a third of the samples as Sample objects:
    ``dataset.match(AND(width < W, tags.contains("night"))).to_list()``;
(b) the first 1,000 samples as a list: ``dataset.query()[:1000].to_list()``;

and prints the medians, the ratio ours/reference and the CPU's vector flags. Without the
reference interpreter (or with one whose lightly_studio is not 1.2.0) it prints ours only and
says so. ``--baseline`` adds a third process: ours from another checkout (an earlier commit,
say, from ``git archive``), timed in the same rounds, so a change is measured against the
reference under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
N_IMAGES = 10_000
REFERENCE_VERSION = "1.2.0"
# Widths are uniform on [20, 220) and "night" is half of the samples (height < 100), so
# width < 153 and "night" keeps about a third of them.
WIDTH_BELOW = 153


def size_of(i: int) -> tuple[int, int]:
    """Width and height of image ``i``: spread evenly and independently (deterministic)."""
    return 20 + (i * 7919) % 200, 20 + (i * 104_729 // 200) % 160


def make_images(folder: Path) -> Path:
    """10,000 tiny grayscale PNGs (made once; reused while the folder holds them all)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.png"))) == N_IMAGES:
        return folder
    for i in range(N_IMAGES):
        Image.new("L", size_of(i), color=i % 256).save(folder / f"img_{i:05d}.png")
    return folder


# -- worker: one product in one process --------------------------------------------------------
def worker(product: str, images: Path, db_path: Path) -> None:
    """Build the dataset, then answer one timing per line read ("a" or "b") on stdout."""
    import lightly_studio as ls
    from lightly_studio.core.dataset_query import AND, ImageSampleField

    if product == "reference":
        from lightly_studio.database import db_manager
    else:
        from lightly_studio import db_manager
    for p in db_path.parent.glob(db_path.name + "*"):
        p.unlink()
    db_manager.connect(db_file=str(db_path))
    ds = ls.ImageDataset.create("bench")
    t = time.perf_counter()
    ds.add_images_from_path(path=str(images), embed=False)
    f = ImageSampleField
    # ~2 tags per sample, set through the query API both products share.
    for tag, expr in (
        ("night", f.height < 100),
        ("day", f.height >= 100),
        ("reviewed", f.width < 100),
        ("city", f.width >= 120),
    ):
        ds.match(expr).add_tag(tag)
    build_s = time.perf_counter() - t

    def width_tag():
        return ds.match(AND(f.width < WIDTH_BELOW, f.tags.contains("night"))).to_list()

    def first_1000():
        return ds.query()[:1000].to_list()

    cases = {"a": width_tag, "b": first_1000}
    counts = {}
    for name, fn in cases.items():
        found = fn()
        # Touch what a user reads, so lazy objects can't look cheaper than they are.
        counts[name] = [
            len(found),
            sum(s.width for s in found[:50]),
            sorted(s.file_name for s in found)[:3],
        ]
        fn()  # warm
    print(json.dumps({"build_s": build_s, "counts": counts}), flush=True)
    for line in sys.stdin:
        fn = cases[line.strip()]
        t = time.perf_counter()
        fn()
        print(json.dumps({"ms": (time.perf_counter() - t) * 1000}), flush=True)


class Worker:
    def __init__(
        self, product: str, python: str, images: Path, db_path: Path, checkout: Path = REPO
    ) -> None:
        env = dict(os.environ, LIGHTLY_STUDIO_ANALYTICS_ENABLED="false")
        env.pop("PYTHONPATH", None)
        if product == "ours":
            env["PYTHONPATH"] = str(checkout)
        # The script's own folder (benchmarks/) is sys.path[0], not the checkout: the
        # reference interpreter imports its installed lightly_studio.
        # Its log and progress bars go to a file, shown only when it fails.
        self.log = db_path.with_suffix(".log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [
                    python,
                    __file__,
                    "--worker",
                    product,
                    "--images",
                    str(images),
                    "--db",
                    str(db_path),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
                cwd="/tmp",
            )
        self.info = self._answer()

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"worker exited with {self.proc.wait()}:\n" + self.log.read_text()[-3000:]
            )
        return json.loads(line)

    def time(self, case: str) -> float:
        self.proc.stdin.write(case + "\n")
        self.proc.stdin.flush()
        return self._answer()["ms"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def reference_ready(python: str) -> str | None:
    """Why the reference can't run (None: it can)."""
    if not Path(python).exists():
        return f"no reference interpreter at {python}"
    found = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('lightly-studio'))"],
        capture_output=True,
        text=True,
        cwd="/tmp",
        env={**os.environ, "PYTHONPATH": ""},
    )
    version = found.stdout.strip()
    if found.returncode or version != REFERENCE_VERSION:
        return f"{python} has lightly-studio {version or 'not installed'}, not {REFERENCE_VERSION}"
    return None


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    return " ".join(sorted(set(re.findall(r"avx512[a-z_0-9]*|avx2", text)))) or "none"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--reference-python", default="/tmp/refvenv/bin/python")
    parser.add_argument("--images", type=Path, default=Path("/tmp/lightly_bench_ref_images"))
    parser.add_argument("--db", type=Path, default=Path("/tmp/lightly_bench_ref.db"))
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout of ours to time alongside (e.g. an older commit)",
    )
    parser.add_argument("--worker", choices=("ours", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.images, args.db)
        return

    make_images(args.images)
    why_not = reference_ready(args.reference_python)
    workers = {
        "ours": Worker(
            "ours", sys.executable, args.images, args.db.with_name("ours_" + args.db.name)
        )
    }
    if args.baseline:
        workers["baseline"] = Worker(
            "ours",
            sys.executable,
            args.images,
            args.db.with_name("baseline_" + args.db.name),
            args.baseline.resolve(),
        )
    if why_not is None:
        workers["reference"] = Worker(
            "reference",
            args.reference_python,
            args.images,
            args.db.with_name("reference_" + args.db.name),
        )
    else:
        print(f"reference not run ({why_not}): ours only")
    for name, w in workers.items():
        print(f"{name}: built {N_IMAGES:,} samples in {w.info['build_s']:.1f} s")
    counts = {n: w.info["counts"] for n, w in workers.items()}
    assert all(c == counts["ours"] for c in counts.values()), counts

    cases = {"a": "width+tag query as Sample objects", "b": "first 1,000 samples as a list"}
    times = {(p, c): [] for p in workers for c in cases}
    for _ in range(max(args.repeats, 15)):
        for case in cases:
            for product, w in workers.items():
                times[product, case].append(w.time(case))
    for w in workers.values():
        w.close()

    print(f"CPU flags: {cpu_flags()}")
    print(f"medians of {max(args.repeats, 15)} interleaved runs, each product in its own process")
    for case, title in cases.items():
        count = workers["ours"].info["counts"][case][0]
        ours = statistics.median(times["ours", case])
        line = f"{title} ({count:,} samples): ours {ours:7.2f} ms"
        if args.baseline:
            base = statistics.median(times["baseline", case])
            line += f", baseline {base:7.2f} ms"
        if why_not is None:
            ref = statistics.median(times["reference", case])
            line += f", reference {ref:7.2f} ms, ours/reference {ours / ref:.3f}"
            if args.baseline:
                line += f", baseline/reference {base / ref:.3f}"
        print(line)


if __name__ == "__main__":
    main()
