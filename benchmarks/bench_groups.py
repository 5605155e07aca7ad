"""The group grid's reads at N groups of two views (front, rear): a page of 120 groups with
their members (first and middle page), the member-tag count, the filter panel's facets.

    .venv/bin/python benchmarks/bench_groups.py [--groups 100000] [--repeats 5]

The groups are generated straight into the tables through the store (no image files): the
figures are the database and api work, not thumbnail decoding. Each figure is the best of
``--repeats`` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def build(n: int, db_path: Path):
    import polars as pl

    import lightly_studio as ls
    from lightly_studio import db_manager
    from lightly_studio.db import transaction
    from lightly_studio.store import groups as groups_store
    from lightly_studio.store.samples import insert_samples

    db_manager.connect(db_file=db_path)
    dataset = ls.GroupDataset.create("bench_groups")
    views = ("front", "rear")
    stems = [f"{i:07d}" for i in range(n)]
    paths = [f"/data/{v}/{s}.jpg" for s in stems for v in views]
    images = pl.DataFrame(
        {
            "file_path_abs": paths,
            "file_name": [p.rsplit("/", 1)[1] for p in paths],
            "width": 640,
            "height": 480,
        }
    )
    links = pl.DataFrame(
        {
            "group_key": [f"/data/{s}" for s in stems for _ in views],
            "view_name": [v for _ in stems for v in views],
            "file_path_abs": paths,
        }
    )
    started = time.perf_counter()
    with transaction() as tx:
        groups_store.add_views(tx, dataset.dataset_id, list(views))
        insert_samples(tx, dataset.dataset_id, images)
        ids = groups_store.member_ids_by_path(tx, dataset.dataset_id, paths)
        groups = pl.DataFrame({"group_key": [f"/data/{s}" for s in stems], "name": stems})
        created = groups_store.insert_groups(tx, dataset.dataset_id, groups)
        groups_store.link_members(
            tx,
            dataset.dataset_id,
            links.join(ids, on="file_path_abs")
            .join(created, on="group_key")
            .select("group_sample_id", pl.col("sample_id").alias("member_sample_id"), "view_name"),
        )
    print(f"stored {n:,} groups ({2 * n:,} members): {time.perf_counter() - started:.2f} s")
    # A tenth of the groups get a blurry rear image: the member-tag filter has work to do.
    dataset.members(view="rear").slice(0, n // 10).add_tag("blurry")
    return dataset


def best_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from lightly_studio import db_manager
    from lightly_studio.api import dispatch

    with tempfile.TemporaryDirectory() as folder:
        dataset = build(args.groups, Path(folder) / "bench.db")
        spec = {"dataset_id": str(dataset.dataset_id)}
        cases = {
            "samples_page, 120 groups, first page": lambda: dispatch(
                "samples_page", {"spec": spec, "limit": 120}
            ),
            "samples_page, 120 groups, middle page": lambda: dispatch(
                "samples_page", {"spec": spec, "limit": 120, "offset": args.groups // 2}
            ),
            "count, member_tags=['blurry']": lambda: dispatch(
                "count", {"spec": {**spec, "member_tags": ["blurry"]}}
            ),
            "facets (group and member tags)": lambda: dispatch("facets", {"spec": spec}),
        }
        for name, fn in cases.items():
            print(f"{name}: {best_ms(fn, args.repeats):.0f} ms")
        db_manager.close()


if __name__ == "__main__":
    main()
