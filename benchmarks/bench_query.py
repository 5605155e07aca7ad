"""Query DSL at a million samples: p50 latency of typical reads, bulk tagging, to_polars.

    .venv/bin/python benchmarks/bench_query.py [--samples 1000000] [--repeats 7]
    .venv/bin/python benchmarks/bench_query.py --materialise-only [--repeats 15]

The dataset is generated straight into the tables (no images): 3 tags per sample on
average, 5 metadata keys, 3 boxes per sample.

The materialisation figures (always on 10,000 samples: a width+tag query that builds about
3,333 Sample objects, and the first 1,000 samples as a list) time the Sample objects built
from one columnar read against the former one-dict-per-row build, interleaved in one run.
The same two cases against the reference product: benchmarks/bench_reference.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def build(n: int, db_path: Path):
    import polars as pl

    import lightly_studio as ls
    from lightly_studio import db_manager
    from lightly_studio.db import query_frame, transaction
    from lightly_studio.store.metadata import set_metadata_values

    for p in (db_path, Path(str(db_path) + ".wal")):
        if p.exists():
            p.unlink()
    db_manager.connect(db_file=db_path)
    ds = ls.ImageDataset.create("bench")
    did = str(ds.dataset_id)
    t = time.perf_counter()
    with transaction() as con:
        con.execute(f"""INSERT INTO sample (sample_id, dataset_id, kind, file_path_abs, file_name,
                        width, height, created_at, sample_idx)
                        SELECT uuid(), '{did}', 'image', '/data/img_' || lpad(i::VARCHAR, 7, '0')
                               || '.jpg', 'img_' || lpad(i::VARCHAR, 7, '0') || '.jpg',
                               200 + (hash(i) % 1000)::INT, 200 + (hash(i + 1) % 800)::INT,
                               TIMESTAMP '2024-01-01' + to_seconds(i), i
                        FROM range({n}) t(i)""")
        tags = ["reviewed", "needs-labeling", "night", "day", "rain", "city"]
        for name in tags:
            con.execute(
                f"INSERT INTO tag (tag_id, dataset_id, name, kind, created_at) "
                f"VALUES (uuid(), '{did}', '{name}', 'sample', now())"
            )
        # Each sample gets each tag with probability 1/2 → 3 tags on average. (Rows are
        # rebuilt rather than updated: an UPDATE of a list column rewrites every row anyway.)
        con.execute(f"""CREATE TEMP TABLE _tagged AS
                        SELECT s.sample_id, list(t.tag_number) AS tag_numbers FROM sample s, tag t
                        WHERE s.dataset_id = '{did}' AND hash(s.sample_id, t.name) % 2 = 0
                        GROUP BY s.sample_id""")
        con.execute("""UPDATE sample s SET tag_numbers = _tagged.tag_numbers FROM _tagged
                       WHERE _tagged.sample_id = s.sample_id""")
        # Metadata through the bulk path users call (one typed column per key).
        values = query_frame(
            f"""SELECT CAST(sample_id AS VARCHAR) AS sample_id,
                       (hash(sample_id) % 10000) / 100.0 AS speed,
                       (hash(sample_id, 7) % 1000) / 1000.0 AS score,
                       (hash(sample_id, 3) % 50)::BIGINT AS count,
                       ['sunny','rain','fog'][(1 + hash(sample_id, 5) % 3)::BIGINT] AS weather,
                       hash(sample_id, 9) % 2 = 0 AS night
                FROM sample WHERE dataset_id = '{did}'""",
            con=con,
        )
        for key in ("speed", "score", "count", "weather", "night"):
            set_metadata_values(
                con, ds.dataset_id, key, values.select("sample_id", pl.col(key).alias("value"))
            )
        for name in ("car", "person", "bike"):
            con.execute(f"INSERT INTO annotation_label VALUES (uuid(), '{did}', '{name}', now())")
        con.execute("""INSERT INTO annotation (annotation_id, sample_id, label_id, annotation_type,
                        x, y, width, height, created_at, updated_at)
                       SELECT uuid(), s.sample_id, l.label_id, 'object_detection', 1, 2,
                              10 + hash(s.sample_id, l.name) % 100, 20, now(), now()
                       FROM sample s, annotation_label l""")
    print(f"built {n:,} samples in {time.perf_counter() - t:.1f} s")
    return ds


def p50(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def materialisation(repeats: int, db_path: Path) -> None:
    """Sample objects from one columnar read vs one dict per row (the former build), on
    10,000 samples; the two are timed interleaved, medians of ``repeats`` runs each."""
    from lightly_studio.core.dataset_query import AND, DatasetQuery, ImageSampleField
    from lightly_studio.core.sample import SAMPLE_CLASS_BY_KIND

    class PerRowDicts(DatasetQuery):
        def samples_of(self, frame):
            cls = SAMPLE_CLASS_BY_KIND[self.kind]
            return [cls(row) for row in frame.iter_rows(named=True)]

    ds = build(10_000, db_path)
    f = ImageSampleField

    def width_tag(query_class):
        q = query_class(ds).match(AND(f.width < 867, f.tags.contains("night")))
        return q.to_list()

    def first_1000(query_class):
        return query_class(ds)[:1000].to_list()

    for name, fn in (
        ("width+tag query as Sample objects", width_tag),
        ("first 1,000 samples as a list", first_1000),
    ):
        count = len(fn(DatasetQuery))
        assert [s.sample_id for s in fn(DatasetQuery)] == [s.sample_id for s in fn(PerRowDicts)]
        times: dict[type, list[float]] = {DatasetQuery: [], PerRowDicts: []}
        for cls in (DatasetQuery, PerRowDicts):
            fn(cls)  # warm
        for _ in range(repeats):
            for cls in (PerRowDicts, DatasetQuery):
                t = time.perf_counter()
                fn(cls)
                times[cls].append(time.perf_counter() - t)
        old = statistics.median(times[PerRowDicts]) * 1000
        new = statistics.median(times[DatasetQuery]) * 1000
        print(
            f"{name} ({count:,} samples): per-row dicts {old:6.2f} ms, "
            f"columnar {new:6.2f} ms, new/old {new / old:.2f}"
        )


def main() -> None:
    import psutil

    from lightly_studio.core.dataset_query import AND, NOT, OR, ImageSampleField, OrderByField

    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--db", type=Path, default=Path("/tmp/lightly_bench_query.db"))
    parser.add_argument(
        "--materialise-only",
        action="store_true",
        help="only the Sample materialisation figures (10,000 samples)",
    )
    args = parser.parse_args()
    if args.materialise_only:
        materialisation(max(args.repeats, 15), args.db)
        return
    ds = build(args.samples, args.db)
    f = ImageSampleField

    def compound():
        q = ds.match(
            OR(
                AND(f.width < 500, NOT(f.tags.contains("reviewed"))),
                f.tags.contains("needs-labeling"),
            )
        )
        q.order_by(OrderByField(f.width).desc())
        return q[1000:1100].to_list()

    rows = {
        "compound OR/AND/NOT + order_by + 100-row slice": compound,
        "count of a tag+width filter": lambda: ds.match(
            AND(f.width > 600, f.tags.contains("night"))
        ).count(),
        "metadata range filter, count": lambda: ds.match(
            AND(f.metadata["speed"] >= 10.0, f.metadata["speed"] < 20.0)
        ).count(),
        "metadata range filter, first 100 samples": lambda: ds.match(f.metadata["speed"] < 5.0)[
            :100
        ].to_list(),
        "annotation count predicate, count": lambda: ds.match(
            f.annotations.exists(label="car", min_area=1500)
        ).count(),
    }
    for name, fn in rows.items():
        print(f"{name:55s} p50 {p50(fn, args.repeats):8.1f} ms")

    tagged = ds.query()[: min(100_000, args.samples)]

    def tag_100k():
        tagged.remove_tag("bulk")
        t = time.perf_counter()
        tagged.add_tag("bulk")
        return time.perf_counter() - t

    tag_100k()
    tag_times = [tag_100k() for _ in range(3)]
    print(f"{'tag 100,000 matches':55s} p50 {statistics.median(tag_times) * 1000:8.1f} ms")
    print(
        f"{'to_polars of 100,000 rows':55s} p50 "
        f"{p50(lambda: ds.query()[:100_000].to_polars(), args.repeats):8.1f} ms"
    )
    rss = psutil.Process().memory_info().rss / 2**30
    print(f"process RSS after the run: {rss:.2f} GiB")
    materialisation(max(args.repeats, 15), args.db)


if __name__ == "__main__":
    main()
