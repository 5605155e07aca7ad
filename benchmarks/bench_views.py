"""Thumbnails served cold and warm, and grid page latency, on the example COCO subset.

    .venv/bin/python benchmarks/bench_views.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "dataset_examples"


def main() -> None:
    from lightly_studio import db_manager
    from lightly_studio.api import dispatch
    from lightly_studio.core.image_dataset import ImageDataset

    with tempfile.TemporaryDirectory() as tmp:
        db_manager.connect(db_file=Path(tmp) / "bench.db")
        coco = EXAMPLES / "coco_subset_128_images"
        ds = ImageDataset.create("bench")
        ds.add_samples_from_coco(annotations_json=str(coco / "instances_train2017.json"),
                                 images_path=str(coco / "images"), embed=False)
        spec = {"dataset_id": str(ds.dataset_id)}
        t0 = time.perf_counter()
        page, _ = dispatch("samples_page", {"spec": spec, "offset": 0, "limit": 120})
        t_page = time.perf_counter() - t0
        ids = [r["sample_id"] for r in page["rows"]][:100]
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            for i in range(0, len(ids), 48):
                dispatch("thumbnails", {"dataset_id": spec["dataset_id"], "sample_ids": ids[i:i + 48]})
            dt = time.perf_counter() - t0
            print(f"{label}: {len(ids)} thumbnails in {dt:.3f} s = {len(ids) / dt:.0f}/s")
        print(f"first page (120 rows with annotations): {t_page * 1000:.0f} ms")
        db_manager.close()


if __name__ == "__main__":
    main()
