"""The distribution panel's charts: annotation classes (objects and images per class), numeric
fields and metadata as histograms, categorical metadata as value counts with "missing".

Every chart is computed over the samples of the current filter (the spec), so the charts
follow it. Each chart names the spec path it filters (``field``): ``width``, ``height``,
``fps``, ``duration_s`` or ``metadata:<key>``, and the view sets the same spec keys the
filter panel sets, so the two stay in sync. Quality scores from ``compute_image_issues`` are
float metadata and appear here as histograms like any other key.
"""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import int_param, optional_text, query_from_spec, show
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.store import aggregates
from lightly_studio.store.metadata import metadata_columns

NUMERIC_TYPES = ("int", "float")
CATEGORICAL_TYPES = ("str", "bool")  # datetime and json values are not charted


@method("distributions", c.DistributionsParams, c.DistributionsResult)
def distributions(params: dict) -> tuple[Any, list[bytes]]:
    query = query_from_spec(params.get("spec") or {})
    bins = int_param(params.get("bins", 20), "bins", minimum=1, maximum=200)
    limit = int_param(params.get("limit", 30), "limit", minimum=1, maximum=500)
    class_count = params.get("class_count", "objects")
    if class_count not in ("objects", "images"):
        raise QueryError(f"class_count must be 'objects' or 'images', got {show(class_count)}.")
    source = optional_text((params.get("spec") or {}).get("annotation_source"), "annotation_source")
    dataset_id = query.dataset.dataset_id
    con = get_connection()
    numeric_fields = {"width": "int", "height": "int"}
    if query.kind == "video":
        numeric_fields.update(fps="float", duration_s="float")

    def values(column: str) -> tuple[str, list]:
        """One value per sample of the filter, read in the filtered scan itself."""
        return query.rows_subquery(f"s.{column} AS v")

    numeric = [
        {
            "key": name,
            "field": name,
            "type": value_type,
            **aggregates.filtered_histogram(con, values(name), bins),
        }
        for name, value_type in numeric_fields.items()
    ]
    categorical = []
    for key, (key_type, column) in metadata_columns(con, dataset_id).items():
        chart = {"key": key, "field": f"metadata:{key}", "type": key_type}
        if key_type in NUMERIC_TYPES:
            numeric.append({**chart, **aggregates.filtered_histogram(con, values(column), bins)})
        elif key_type in CATEGORICAL_TYPES:
            counts = aggregates.value_counts_with_missing(con, values(column), limit)
            categorical.append({**chart, **counts})
    # An unfiltered image dataset: every annotation of its classes is on one of its samples.
    everything = query.kind == "image" and query.matches_everything
    sub = None if everything else query.sample_ids_subquery()
    classes = aggregates.class_counts(con, dataset_id, sub, source, class_count == "images")
    count = query.count()
    return {
        "count": count,
        "bins": bins,
        "classes": classes.to_dicts(),
        "numeric": numeric,
        "categorical": categorical,
    }, []
