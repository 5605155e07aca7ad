"""Query DSL at a million samples: p50 latency of typical reads, bulk tagging, to_polars.

    .venv/bin/python benchmarks/bench_query.py [--samples 1000000] [--repeats 7]

The dataset is generated straight into the tables (no images): 3 tags per sample on
average, 5 metadata keys, 3 boxes per sample.
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
    from lightly_studio.core.metadata import set_metadata_values
    from lightly_studio.db import query_frame, transaction

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
            con.execute(f"INSERT INTO tag (tag_id, dataset_id, name, kind, created_at) "
                        f"VALUES (uuid(), '{did}', '{name}', 'sample', now())")
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
                FROM sample WHERE dataset_id = '{did}'""", con=con)
        for key in ("speed", "score", "count", "weather", "night"):
            set_metadata_values(con, ds.dataset_id, key,
                                values.select("sample_id", pl.col(key).alias("value")))
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


def main() -> None:
    import psutil

    from lightly_studio.core.dataset_query import AND, NOT, OR, ImageSampleField, OrderByField

    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--db", type=Path, default=Path("/tmp/lightly_bench_query.db"))
    args = parser.parse_args()
    ds = build(args.samples, args.db)
    f = ImageSampleField

    def compound():
        q = ds.match(OR(AND(f.width < 500, NOT(f.tags.contains("reviewed"))),
                        f.tags.contains("needs-labeling")))
        q.order_by(OrderByField(f.width).desc())
        return q[1000:1100].to_list()

    rows = {
        "compound OR/AND/NOT + order_by + 100-row slice": compound,
        "count of a tag+width filter": lambda: ds.match(
            AND(f.width > 600, f.tags.contains("night"))).count(),
        "metadata range filter, count": lambda: ds.match(
            AND(f.metadata["speed"] >= 10.0, f.metadata["speed"] < 20.0)).count(),
        "metadata range filter, first 100 samples": lambda: ds.match(
            f.metadata["speed"] < 5.0)[:100].to_list(),
        "annotation count predicate, count": lambda: ds.match(
            f.annotations.exists(label="car", min_area=1500)).count(),
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
    print(f"{'to_polars of 100,000 rows':55s} p50 "
          f"{p50(lambda: ds.query()[:100_000].to_polars(), args.repeats):8.1f} ms")
    rss = psutil.Process().memory_info().rss / 2**30
    print(f"process RSS after the run: {rss:.2f} GiB")


if __name__ == "__main__":
    main()
