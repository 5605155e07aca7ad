"""View settings: customised keyboard shortcuts (one set per database) and each dataset's
grid options, stored by ``store/view_settings.py`` and read when a view opens."""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of
from lightly_studio.db import get_connection
from lightly_studio.store import view_settings


@method("view_settings", c.ViewSettingsParams, c.ViewSettingsResult)
def get_view_settings(params: dict) -> tuple[Any, list[bytes]]:
    con = get_connection()
    options = None
    if params.get("dataset_id") is not None:
        dataset = dataset_of(params.get("dataset_id"))
        options = view_settings.get_view_options(con, dataset.dataset_id)
    return {"shortcuts": view_settings.get_shortcuts(con), "options": options}, []


@method("set_shortcuts", c.SetShortcutsParams, c.SetShortcutsResult)
def set_shortcuts(params: dict) -> tuple[Any, list[bytes]]:
    return {"shortcuts": view_settings.replace_shortcuts(params.get("shortcuts"))}, []


@method("set_view_options", c.SetViewOptionsParams, c.SetViewOptionsResult)
def set_view_options(params: dict) -> tuple[Any, list[bytes]]:
    dataset = dataset_of(params.get("dataset_id"))
    options = params.get("options")
    if options is None:
        view_settings.clear_view_options(dataset.dataset_id)
        return {"options": None}, []
    return {"options": view_settings.save_view_options(dataset.dataset_id, options)}, []
