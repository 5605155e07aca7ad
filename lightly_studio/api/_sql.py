"""Aggregations the query DSL does not offer (facet counts, histograms, bounds).

Kept in one module so the SQL outside core/ is easy to find. Each function takes a
(sql, params) subquery of sample ids from ``DatasetQuery.sample_ids_subquery()``.
"""

from __future__ import annotations

import polars as pl

from lightly_studio.core.tags import shift_params


def _frame(con, sql: str, params: list) -> pl.DataFrame:
    # Through Arrow: no per-row Python objects.
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def tag_counts(con, dataset_id, sub: tuple[str, list]) -> pl.DataFrame:
    """name, count (samples of the subquery with the tag), total (samples with the tag)."""
    sub_sql, sub_params = sub
    return _frame(con, f"""
        WITH q AS ({shift_params(sub_sql, sub_params, 1)})
        , st AS (SELECT s.sample_id, unnest(s.tag_numbers) AS tag_number FROM sample s
                 WHERE s.dataset_id = $1)
        SELECT t.name, count(st.sample_id) FILTER (WHERE st.sample_id IN (SELECT sample_id FROM q))
                   AS count,
               count(st.sample_id) AS total
        FROM tag t LEFT JOIN st ON st.tag_number = t.tag_number
        WHERE t.dataset_id = $1 AND t.kind = 'sample'
        GROUP BY t.name ORDER BY t.name""", [str(dataset_id), *sub_params])


def label_counts(con, dataset_id, sub: tuple[str, list]) -> pl.DataFrame:
    """name, count (annotations on samples of the subquery), total (all its annotations)."""
    sub_sql, sub_params = sub
    return _frame(con, f"""
        WITH q AS ({shift_params(sub_sql, sub_params, 1)})
        SELECT l.name,
               count(a.annotation_id) FILTER (WHERE a.sample_id IN (SELECT sample_id FROM q))
                   AS count,
               count(a.annotation_id) AS total
        FROM annotation_label l LEFT JOIN annotation a ON a.label_id = l.label_id
        WHERE l.dataset_id = $1
        GROUP BY l.name ORDER BY l.name""", [str(dataset_id), *sub_params])


def annotation_sources(con, dataset_id) -> list[str]:
    return _frame(con, """
        SELECT DISTINCT a.source FROM annotation a
        JOIN annotation_label l ON l.label_id = a.label_id
        WHERE l.dataset_id = $1 ORDER BY a.source""", [str(dataset_id)])["source"].to_list()


def numeric_histogram(con, sub: tuple[str, list], value_sql: str, bins: int = 20) -> dict:
    """min, max and ``bins`` equal-width counts of a numeric expression on the sample row
    (alias ``s``) over the subquery; NULLs (samples without the value) are left out."""
    sub_sql, sub_params = sub

    def values(sub_sql: str) -> str:
        return f"""WITH q AS ({sub_sql}),
             v AS (SELECT CAST({value_sql} AS DOUBLE) AS v FROM sample s
                   WHERE s.sample_id IN (SELECT sample_id FROM q))"""

    lo, hi, count = con.execute(values(sub_sql) + " SELECT min(v), max(v), count(v) FROM v",
                                sub_params).fetchone()
    if count == 0 or lo is None:
        return {"min": None, "max": None, "counts": [], "edges": []}
    if hi == lo:
        return {"min": lo, "max": hi, "counts": [count], "edges": [lo, hi]}
    width = (hi - lo) / bins
    hist = _frame(con, values(shift_params(sub_sql, sub_params, 2)) + f"""
        SELECT least(CAST(floor((v - $1) / $2) AS INTEGER), {bins - 1}) AS bin, count(*) AS n
        FROM v WHERE v IS NOT NULL GROUP BY bin""", [lo, width, *sub_params])
    counts = [0] * bins
    for b, c in hist.iter_rows():
        counts[int(b)] = int(c)
    return {"min": lo, "max": hi, "counts": counts,
            "edges": [lo + i * width for i in range(bins)] + [hi]}


def string_value_counts(con, sub: tuple[str, list], column: str, limit: int = 50) -> list[dict]:
    """The most frequent values of a text metadata column (``metadata_key.column_name``)."""
    sub_sql, sub_params = sub
    frame = _frame(con, f"""
        WITH q AS ({sub_sql})
        SELECT s.{column} AS value, count(*) AS count FROM sample s
        WHERE s.{column} IS NOT NULL AND s.sample_id IN (SELECT sample_id FROM q)
        GROUP BY s.{column} ORDER BY count DESC, value LIMIT {int(limit)}""", sub_params)
    return frame.to_dicts()


def sample_rows(con, dataset_id, ids: list[str]) -> pl.DataFrame:
    """kind, file_path_abs and frame time of samples by id (for thumbnails and originals)."""
    return _frame(con, """
        SELECT CAST(sample_id AS VARCHAR) AS sample_id, kind, file_path_abs, timestamp_s
        FROM sample
        WHERE dataset_id = $1 AND sample_id IN (SELECT unnest($2::UUID[]))""",
        [str(dataset_id), ids])


def datasets(con) -> pl.DataFrame:
    # Count per (dataset, kind) first, then join the few groups to the datasets: joining every
    # sample row to its dataset before counting takes ~3x longer at 1,000,000 samples (35 vs
    # 13 ms), and the page waits for this list.
    return _frame(con, """
        WITH n AS (SELECT dataset_id, kind, count(*) AS count FROM sample GROUP BY ALL)
        SELECT CAST(d.dataset_id AS VARCHAR) AS dataset_id, d.name, d.kind,
               coalesce(n.count, 0) AS count
        FROM dataset d LEFT JOIN n ON n.dataset_id = d.dataset_id
             AND n.kind = CASE WHEN d.kind = 'video' THEN 'video' ELSE 'image' END
        ORDER BY d.created_at, d.name""", [])
