"""Groups for the views: the detail of one group (``group_detail``). The grid's rows of a group
dataset get their members in ``samples_page`` (``store.groups.members_by_group``)."""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, uuid_param
from lightly_studio.api.samples import add_member_annotations
from lightly_studio.db import get_connection
from lightly_studio.errors import QueryError
from lightly_studio.store import groups as groups_store


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
    members = groups_store.members_by_group(con, dataset.dataset_id, [sample_id])
    add_member_annotations(con, dataset.dataset_id, members, include_masks=True)
    return {
        "sample_id": sample_id,
        "name": group.file_name,
        "tags": sorted(group.tags),
        "metadata": {k: _json(v) for k, v in group.metadata.items()},
        "members": members[sample_id],
    }, []


def _json(value: Any) -> Any:
    return (
        value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    )
