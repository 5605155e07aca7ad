"""Tag management from the views: create, rename and delete a dataset's sample tags.
(Tagging samples is ``tag_samples`` in ``api/samples.py``.)"""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of
from lightly_studio.db import get_connection
from lightly_studio.store import tags as tags_store


@method("tag_create", c.TagCreateParams, c.TagChangeResult)
def tag_create(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    name = tags_store.validate_tag_name(params.get("name"))
    con = get_connection()
    tags_store.create_tag(con, dataset.dataset_id, name)
    return {"name": name, "count": tags_store.tagged_count(con, dataset.dataset_id, name)}, []


@method("tag_rename", c.TagRenameParams, c.TagChangeResult)
def tag_rename(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    old = tags_store.validate_tag_name(params.get("old"))
    new = tags_store.validate_tag_name(params.get("new"))
    return {"name": new, "count": dataset.rename_tag(old, new)}, []


@method("tag_delete", c.TagDeleteParams, c.TagChangeResult)
def tag_delete(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    name = tags_store.validate_tag_name(params.get("name"))
    return {"name": name, "count": dataset.delete_tag(name)}, []
