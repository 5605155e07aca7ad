"""The distribution panel's charts: annotation classes (objects and images per class), numeric
fields and metadata as histograms, categorical metadata as value counts with "missing".

Every chart is computed over the samples of the current filter (the spec), so the charts
follow it. Each chart names the spec path it filters (``field``): ``width``, ``height``,
``fps``, ``duration_s`` or ``metadata:<key>``, and the view sets the same spec keys the
filter panel sets, so the two stay in sync. Quality scores from ``compute_image_issues`` are
float metadata and appear here as histograms like any other key.

A filter is evaluated once: the charted columns of the filtered samples are read into one
frame and every chart aggregates that (a class filter is an annotation semi-join; run
once per chart it cost ~0.25 s each at a million samples). Without a filter the charts read
the sample table directly.
"""

from __future__ import annotations

import itertools
from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import int_param, optional_text, set_query_from_spec, show
from lightly_studio.db import get_connection, query_frame
from lightly_studio.errors import QueryError
from lightly_studio.store import aggregates
from lightly_studio.store.metadata import metadata_columns

NUMERIC_TYPES = ("int", "float")
CATEGORICAL_TYPES = ("str", "bool")  # datetime and json values are not charted
_names = itertools.count()


@method("distributions", c.DistributionsParams, c.DistributionsResult)
def distributions(params: dict) -> tuple[Any, list[bytes]]:
    query = set_query_from_spec(params.get("spec") or {})
    bins = int_param(params.get("bins", 20), "bins", minimum=1, maximum=200)
    limit = int_param(params.get("limit", 30), "limit", minimum=1, maximum=500)
    class_count = params.get("class_count", "objects")
    if class_count not in ("objects", "images"):
        raise QueryError(f"class_count must be 'objects' or 'images', got {show(class_count)}.")
    source = optional_text((params.get("spec") or {}).get("annotation_source"), "annotation_source")
    dataset_id = query.dataset.dataset_id
    con = get_connection()

    # The charts: (key, spec field, value type, column of the sample row).
    numeric = [("width", "width", "int", "width"), ("height", "height", "int", "height")]
    if query.kind == "video":
        numeric += [
            ("fps", "fps", "float", "fps"),
            ("duration_s", "duration_s", "float", "duration_s"),
        ]
    categorical = []
    for key, (key_type, column) in metadata_columns(con, dataset_id).items():
        if key_type in NUMERIC_TYPES:
            numeric.append((key, f"metadata:{key}", key_type, column))
        elif key_type in CATEGORICAL_TYPES:
            categorical.append((key, f"metadata:{key}", key_type, column))
    charted = [*numeric, *categorical]
    select = ", ".join(f"s.{column} AS c{i}" for i, (*_, column) in enumerate(charted))

    name = None
    if query.matches_everything:
        base_sql, base_params = query.rows_subquery(select)
        # An unfiltered image dataset: every annotation of its classes is on one of its samples.
        sub = None if query.kind == "image" else query.sample_ids_subquery()
    else:
        rows_sql, rows_params = query.rows_subquery(f"CAST(s.sample_id AS VARCHAR) AS id, {select}")
        name = f"_distribution_rows_{next(_names)}"
        con.register(name, query_frame(rows_sql, rows_params, con))
        base_sql, base_params = f"SELECT * FROM {name}", []
        sub = (f"SELECT CAST(id AS UUID) AS sample_id FROM {name}", [])
    try:
        columns = ", ".join(f"c{i} AS v{i}" for i in range(len(numeric)))
        hists = aggregates.numeric_histograms(
            con, (f"SELECT {columns} FROM ({base_sql})", base_params), len(numeric), bins
        )
        numeric_charts = [
            {"key": key, "field": field, "type": key_type, **hist}
            for (key, field, key_type, _), hist in zip(numeric, hists, strict=True)
        ]
        categorical_charts = []
        for i, (key, field, key_type, _) in enumerate(categorical, start=len(numeric)):
            values = (f"SELECT c{i} AS v FROM ({base_sql})", base_params)
            counts = aggregates.value_counts_with_missing(con, values, limit)
            categorical_charts.append({"key": key, "field": field, "type": key_type, **counts})
        classes = aggregates.class_counts(con, dataset_id, sub, source, class_count == "images")
    finally:
        if name is not None:
            con.unregister(name)
    # Every sample of the filter is in the width histogram, with a value or missing.
    count = sum(hists[0]["counts"]) + hists[0]["missing"]
    return {
        "count": count,
        "bins": bins,
        "classes": classes.to_dicts(),
        "numeric": numeric_charts,
        "categorical": categorical_charts,
    }, []
