"""Groups for the views: each grid row of a group dataset carries its members, one per view
(``group_members``, used by ``samples_page``), and the detail of one group (``group_detail``)."""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, uuid_param
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.store import groups as groups_store
from lightly_studio.store.tags import tag_names_frame, tag_numbers_to_names


def group_members(con, dataset_id, group_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Group id -> one entry per view of the dataset, in view order: the member's view,
    sample_id, kind ('image' or 'video'), file_name, width, height and tags, or ``sample_id`` None where the group has
    no member in that view (the grid shows the gap)."""
    views = groups_store.view_names(con, dataset_id)
    frame = groups_store.members_frame(con, dataset_id, group_ids)
    frame = tag_numbers_to_names(frame, tag_names_frame(con, dataset_id))
    found: dict[tuple[str, str], dict[str, Any]] = {
        (r["group_sample_id"], r["view_name"]): {
            "view": r["view_name"],
            "sample_id": r["sample_id"],
            "kind": r["kind"],
            "file_name": r["file_name"],
            "width": r["width"],
            "height": r["height"],
            "tags": list(r["tags"] or []),
        }
        for r in frame.iter_rows(named=True)
    }
    return {
        gid: [found.get((gid, view), {"view": view, "sample_id": None}) for view in views]
        for gid in group_ids
    }


@method("group_detail", c.SampleRef, c.GroupDetailResult)
def group_detail(params: dict) -> tuple[Any, list[bytes]]:
    """One group: its name, tags, metadata and members (one entry per view of the dataset)."""
    dataset = dataset_of(params.get("dataset_id"))
    sample_id = str(uuid_param(params.get("sample_id")))
    try:
        group = dataset.get_sample(sample_id)
    except KeyError as exc:
        raise QueryError(str(exc.args[0])) from None
    if dataset.kind != "group":
        raise QueryError(f"Dataset {dataset.name!r} holds {dataset.kind}s, not groups.")
    con = get_connection()
    return {
        "sample_id": sample_id,
        "name": group.file_name,
        "tags": sorted(group.tags),
        "metadata": {k: _json(v) for k, v in group.metadata.items()},
        "members": group_members(con, dataset.dataset_id, [sample_id])[sample_id],
    }, []


def _json(value: Any) -> Any:
    return (
        value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    )
