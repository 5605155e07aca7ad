"""Filter panel data: tags and labels with counts, annotation sources, numeric histograms,
string metadata values — each count both within the current filter and overall."""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import int_param, query_from_spec
from lightly_studio.db import get_connection
from lightly_studio.store import aggregates
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import groups as groups_store
from lightly_studio.store.metadata import metadata_columns


@method("facets", c.FacetsParams, c.FacetsResult)
def facets(params: dict) -> tuple[Any, list[bytes]]:
    spec = params.get("spec") or {}
    query = query_from_spec(spec)
    dataset_id = query.dataset.dataset_id
    con = get_connection()
    sub = query.sample_ids_subquery()
    # Histograms span the whole dataset so the slider range stays put while filtering.
    # (Of the same kind: a video dataset's frames are a collection of their own.)
    whole_query = query_from_spec({"dataset_id": str(dataset_id), "kind": query.kind})
    whole = whole_query.sample_ids_subquery()
    bins = int_param(params.get("bins", 20), "bins", minimum=1, maximum=1000)
    numeric = {}
    if query.kind != "group":  # a group has no pixels of its own (width and height 0)
        numeric = {
            "width": aggregates.numeric_histogram(con, whole, "s.width", bins),
            "height": aggregates.numeric_histogram(con, whole, "s.height", bins),
        }
    if query.kind == "video":
        for name in ("fps", "duration_s"):
            numeric[name] = aggregates.numeric_histogram(con, whole, f"s.{name}", bins)
    metadata: list[dict] = []
    for key, (key_type, column) in metadata_columns(con, dataset_id).items():
        if key_type in ("int", "float"):
            hist = aggregates.numeric_histogram(con, whole, f"s.{column}", bins)
            metadata.append({"key": key, "type": key_type, **hist})
        elif key_type == "str":
            metadata.append(
                {
                    "key": key,
                    "type": key_type,
                    "values": aggregates.string_value_counts(con, whole, column),
                }
            )
        else:
            metadata.append({"key": key, "type": key_type})
    extra: dict[str, Any] = {}
    if query.kind == "group":
        # Group datasets: tags on groups, and apart from them the tags of their members
        # (filtered with spec.member_tags).
        tags, member_tags = groups_store.tag_counts(con, dataset_id, sub)
        extra["member_tags"] = member_tags.to_dicts()
        # Labels are on the members: count those of the filtered groups' members.
        labels = aggregates.label_counts(con, dataset_id, groups_store.members_of(sub))
    else:
        tags = aggregates.tag_counts(con, dataset_id, sub)
        labels = aggregates.label_counts(con, dataset_id, sub)
    return {
        **extra,
        "count": query.count(),
        "total": whole_query.count(),
        "tags": tags.to_dicts(),
        "labels": labels.to_dicts(),
        "sources": annotations_store.annotation_sources(con, dataset_id),
        "numeric": numeric,
        "metadata": metadata,
    }, []
