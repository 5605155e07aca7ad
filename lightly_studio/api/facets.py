"""Filter panel data: tags and labels with counts, annotation sources, numeric histograms,
string metadata values — each count both within the current filter and overall."""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import int_param, set_query_from_spec
from lightly_studio.db import get_connection
from lightly_studio.quality import CORRUPT, IMAGE_ISSUES, LABEL_ISSUE_COUNT, flag_key
from lightly_studio.store import aggregates
from lightly_studio.store import annotations as annotations_store
from lightly_studio.store import groups as groups_store
from lightly_studio.store import issues as issues_store
from lightly_studio.store.metadata import MetadataKey, metadata_columns


@method("facets", c.FacetsParams, c.FacetsResult)
def facets(params: dict) -> tuple[Any, list[bytes]]:
    spec = params.get("spec") or {}
    query = set_query_from_spec(spec)
    dataset_id = query.dataset.dataset_id
    con = get_connection()
    sub = query.sample_ids_subquery()
    # Histograms span the whole dataset so the slider range stays put while filtering.
    # (Of the same kind: a video dataset's frames are a collection of their own.)
    whole_query = set_query_from_spec({"dataset_id": str(dataset_id), "kind": query.kind})
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
        "issues": _issue_counts(con, dataset_id, sub, whole),
        "count": query.count(),
        "total": whole_query.count(),
        "tags": tags.to_dicts(),
        "labels": labels.to_dicts(),
        "sources": annotations_store.annotation_sources(con, dataset_id),
        "numeric": numeric,
        "metadata": metadata,
    }, []


def issue_flag_columns(con, dataset_id) -> dict[str, MetadataKey]:
    """Issue name -> the boolean metadata column of its flag, for the checks that ran."""
    columns = metadata_columns(con, dataset_id)
    found = {issue: columns.get(flag_key(issue)) for issue in (*IMAGE_ISSUES, CORRUPT)}
    return {k: v for k, v in found.items() if v is not None and v.value_type == "bool"}


def _issue_counts(con, dataset_id, sub, whole) -> list[dict]:
    """The Quality section: per image check, the samples flagged (``is_<issue>_issue``
    true) in the filter and overall; per label issue, the flagged annotations; and the
    samples with any label issue (``label_issue_count`` > 0). ``key`` is the metadata key a
    click filters on."""
    rows: list[dict] = []
    conditions: list[str] = []
    for issue, found in issue_flag_columns(con, dataset_id).items():
        rows.append({"issue": issue, "kind": "image", "key": flag_key(issue)})
        conditions.append(f"s.{found.column}")
    label_count = metadata_columns(con, dataset_id).get(LABEL_ISSUE_COUNT)
    if label_count is not None and label_count.value_type == "int":
        rows.append({"issue": "label_issues", "kind": "samples", "key": LABEL_ISSUE_COUNT})
        conditions.append(f"s.{label_count.column} > 0")
    for row, count, total in zip(
        rows,
        aggregates.count_where(con, sub, conditions),
        aggregates.count_where(con, whole, conditions),
        strict=True,
    ):
        row.update(count=count, total=total)
    for label in issues_store.flagged_annotation_counts(con, dataset_id, sub).to_dicts():
        rows.append({**label, "kind": "label", "key": None})
    return rows
