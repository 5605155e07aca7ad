"""Aggregates over samples that the query DSL does not offer: the filter panel's facets (tag
and label counts, annotation sources, numeric histograms, text value counts), the choices of
plugin pickers, and the data fingerprint the server polls.

Each facet function takes a (sql, params) subquery of sample ids from
``DatasetQuery.sample_ids_subquery()``.
"""

from __future__ import annotations

import polars as pl

from lightly_studio.db import query_frame
from lightly_studio.store._ids import as_uuid_str

# The facet panel's annotation sources are the annotator's list: one query, in annotations.py.
from lightly_studio.store.metadata import all_metadata_column_names


def tag_counts(con, dataset_id, sub: tuple[str, list]) -> pl.DataFrame:
    """name, count (samples of the subquery with the tag), total (samples with the tag)."""
    sub_sql, sub_params = sub
    ds = f"${len(sub_params) + 1}"  # after the subquery's own $1…$n
    return query_frame(
        f"""
        WITH q AS ({sub_sql})
        , st AS (SELECT s.sample_id, unnest(s.tag_numbers) AS tag_number FROM sample s
                 WHERE s.dataset_id = {ds})
        SELECT t.name, count(st.sample_id) FILTER (WHERE st.sample_id IN (SELECT sample_id FROM q))
                   AS count,
               count(st.sample_id) AS total
        FROM tag t LEFT JOIN st ON st.tag_number = t.tag_number
        WHERE t.dataset_id = {ds} AND t.kind = 'sample'
        GROUP BY t.name ORDER BY t.name""",
        [*sub_params, as_uuid_str(dataset_id)],
        con,
    )


def label_counts(con, dataset_id, sub: tuple[str, list]) -> pl.DataFrame:
    """name, count (annotations on samples of the subquery), total (all its annotations)."""
    sub_sql, sub_params = sub
    return query_frame(
        f"""
        WITH q AS ({sub_sql})
        SELECT l.name,
               count(a.annotation_id) FILTER (WHERE a.sample_id IN (SELECT sample_id FROM q))
                   AS count,
               count(a.annotation_id) AS total
        FROM annotation_label l LEFT JOIN annotation a ON a.label_id = l.label_id
        WHERE l.dataset_id = ${len(sub_params) + 1}
        GROUP BY l.name ORDER BY l.name""",
        [*sub_params, as_uuid_str(dataset_id)],
        con,
    )


def numeric_histogram(con, sub: tuple[str, list], value_sql: str, bins: int = 20) -> dict:
    """min, max and ``bins`` equal-width counts of a numeric expression on the sample row
    (alias ``s``) over the subquery; NULLs (samples without the value) are left out."""
    sub_sql, sub_params = sub

    def values(sub_sql: str) -> str:
        return f"""WITH q AS ({sub_sql}),
             v AS (SELECT CAST({value_sql} AS DOUBLE) AS v FROM sample s
                   WHERE s.sample_id IN (SELECT sample_id FROM q))"""

    lo, hi, count = con.execute(
        values(sub_sql) + " SELECT min(v), max(v), count(v) FROM v", sub_params
    ).fetchone()
    if count == 0 or lo is None:
        return {"min": None, "max": None, "counts": [], "edges": []}
    if hi == lo:
        return {"min": lo, "max": hi, "counts": [count], "edges": [lo, hi]}
    width = (hi - lo) / bins
    n = len(sub_params)
    hist = query_frame(
        values(sub_sql)
        + f"""
        SELECT least(CAST(floor((v - ${n + 1}) / ${n + 2}) AS INTEGER), {bins - 1}) AS bin,
               count(*) AS n
        FROM v WHERE v IS NOT NULL GROUP BY bin""",
        [*sub_params, lo, width],
        con,
    )
    counts = [0] * bins
    for b, c in hist.iter_rows():
        counts[int(b)] = int(c)
    return {
        "min": lo,
        "max": hi,
        "counts": counts,
        "edges": [lo + i * width for i in range(bins)] + [hi],
    }


def class_counts(
    con,
    dataset_id,
    sub: tuple[str, list] | None,
    source: str | None = None,
    images: bool = False,
) -> pl.DataFrame:
    """name, objects (annotations of the class on samples of the subquery) and, with
    ``images``, images (samples of the subquery with at least one; null without), for the
    classes present there, most objects first. The image count is a distinct count over
    every annotation, ~15x the cost of the object count at a million samples (measured in
    bench_views.py --distributions), so it is computed only when asked for.
    ``sub`` None: every annotation of the dataset (an unfiltered image dataset), without the
    semi-join on a million sample ids. ``source`` counts only annotations of that source
    (ground truth, a model's predictions)."""
    sub_sql, sub_params = sub if sub is not None else ("", [])
    n = len(sub_params)
    images_sql = "count(DISTINCT a.sample_id)" if images else "NULL::BIGINT"
    where = [f"l.dataset_id = ${n + 1}"]
    if sub is not None:
        where.append(f"a.sample_id IN (SELECT sample_id FROM ({sub_sql}))")
    if source is not None:
        where.append(f"a.source = ${n + 2}")
    return query_frame(
        f"""
        SELECT l.name, count(*) AS objects, {images_sql} AS images
        FROM annotation a JOIN annotation_label l ON l.label_id = a.label_id
        WHERE {" AND ".join(where)}
        GROUP BY l.name ORDER BY objects DESC, l.name""",
        [*sub_params, as_uuid_str(dataset_id), *([source] if source is not None else [])],
        con,
    )


def numeric_histograms(con, rows: tuple[str, list], count: int, bins: int) -> list[dict]:
    """Equal-width histograms of ``count`` numeric columns over their own ranges: ``rows``
    is a SELECT of the columns ``v0`` … ``v{count-1}``, one row per sample (of the current
    filter, so the histograms follow it). Two scans give every histogram: the ranges, then
    all bins through DuckDB's ``histogram`` aggregate. Each: min, max, counts, edges (bins
    + 1; a bin holds [edge, next edge), the last one its upper edge too) and ``missing``
    (rows whose value is NULL); one bin when all values are equal."""
    if count == 0:
        return []
    sub_sql, sub_params = rows
    n = len(sub_params)
    ranges = ", ".join(
        f"min(CAST(v{i} AS DOUBLE)), max(CAST(v{i} AS DOUBLE)), count(v{i})" for i in range(count)
    )
    found = con.execute(f"SELECT count(*), {ranges} FROM ({sub_sql})", sub_params).fetchone()
    total = int(found[0])
    stats = [found[1 + 3 * i : 4 + 3 * i] for i in range(count)]
    out: list[dict] = []
    binned: list[tuple[int, str, list]] = []  # (column, histogram expression, its params)
    for i, (lo, hi, n_values) in enumerate(stats):
        missing = total - int(n_values)
        if not n_values:
            out.append({"min": None, "max": None, "counts": [], "edges": [], "missing": missing})
        elif hi == lo:
            edges = [lo, hi]
            out.append(
                {
                    "min": lo,
                    "max": hi,
                    "counts": [int(n_values)],
                    "edges": edges,
                    "missing": missing,
                }
            )
        else:
            width = (hi - lo) / bins
            k = n + 1 + 2 * len(binned)
            expr = (
                f"histogram(least(CAST(floor((CAST(v{i} AS DOUBLE) - ${k}) / ${k + 1}) AS INTEGER),"
                f" {int(bins) - 1})) FILTER (WHERE v{i} IS NOT NULL)"  # least() skips NULLs
            )
            binned.append((i, expr, [lo, width]))
            edges = [lo + b * width for b in range(bins)] + [hi]
            out.append(
                {"min": lo, "max": hi, "counts": [0] * bins, "edges": edges, "missing": missing}
            )
    if binned:
        exprs = ", ".join(e for _, e, _ in binned)
        params = [*sub_params, *(p for _, _, ps in binned for p in ps)]
        maps = con.execute(f"SELECT {exprs} FROM ({sub_sql})", params).fetchone()
        for (i, _, _), counts in zip(binned, maps, strict=True):
            for b, c in (counts or {}).items():
                out[i]["counts"][int(b)] += int(c)
    return out


def value_counts_with_missing(con, values: tuple[str, list], limit: int = 50) -> dict:
    """The ``limit`` most frequent values of a column ``v`` (one row per sample, as in
    ``numeric_histograms``): ``values`` [{value, count}], ``other`` (rows with a value not
    listed) and ``missing`` (rows without one), in one statement."""
    sub_sql, sub_params = values
    frame = query_frame(
        f"""
        SELECT CAST(v AS VARCHAR) AS value, count(*) AS count FROM ({sub_sql})
        GROUP BY 1 ORDER BY value IS NULL, count DESC, value""",
        sub_params,
        con,
    )
    present = frame.filter(pl.col("value").is_not_null())
    missing = frame.filter(pl.col("value").is_null())["count"].sum()
    return {
        "values": present.head(limit).to_dicts(),
        "other": int(present["count"].slice(limit).sum()),
        "missing": int(missing or 0),
    }


def string_value_counts(con, sub: tuple[str, list], column: str, limit: int = 50) -> list[dict]:
    """The most frequent values of a text metadata column (``metadata_key.column_name``)."""
    sub_sql, sub_params = sub
    frame = query_frame(
        f"""
        WITH q AS ({sub_sql})
        SELECT s.{column} AS value, count(*) AS count FROM sample s
        WHERE s.{column} IS NOT NULL AND s.sample_id IN (SELECT sample_id FROM q)
        GROUP BY s.{column} ORDER BY count DESC, value LIMIT {int(limit)}""",
        sub_params,
        con,
    )
    return frame.to_dicts()


_VERSION_SQL = """
SELECT
  (SELECT count(*) FROM dataset),
  (SELECT count(*) FROM sample),
  (SELECT count(*) FROM tag),
  (SELECT coalesce(bit_xor(hash(sample_id, tag_numbers{metadata_columns})), 0) FROM sample),
  (SELECT coalesce(sum(len(tag_numbers)), 0) FROM sample),
  (SELECT count(*) FROM annotation),
  (SELECT max(updated_at) FROM annotation),
  (SELECT coalesce(bit_xor(hash(annotation_id, version)), 0) FROM annotation),
  (SELECT count(*) FROM annotation_label),
  (SELECT count(*) FROM caption),
  (SELECT coalesce(bit_xor(hash(caption_id, text)), 0) FROM caption),
  (SELECT count(*) FROM embedding),
  (SELECT count(*) FROM projection)
"""


def data_fingerprint(con) -> tuple[str, ...]:
    """A fingerprint of every table the views show: counts and xor-hashes per table, so any
    insert, delete, retag, metadata or label edit changes it, wherever it came from."""
    # Metadata values are columns of the sample row (one per dataset and key).
    columns = "".join(f", {c}" for c in all_metadata_column_names(con))
    sql = _VERSION_SQL.replace("{metadata_columns}", columns)
    return tuple(str(v) for v in con.execute(sql).fetchone())


def count_where(con, sub: tuple[str, list], conditions: list[str]) -> list[int]:
    """How many samples of the subquery meet each condition, in order: one scan for all.
    Conditions are SQL over the sample row (alias ``s``) built by the caller from metadata
    column names (``metadata_key.column_name``), never from user text."""
    if not conditions:
        return []
    sub_sql, sub_params = sub
    counts = ", ".join(f"count(*) FILTER (WHERE {condition})" for condition in conditions)
    row = con.execute(
        f"""WITH q AS ({sub_sql})
            SELECT {counts} FROM sample s WHERE s.sample_id IN (SELECT sample_id FROM q)""",
        sub_params,
    ).fetchone()
    return [int(v) for v in row]
