"""View settings: customised keyboard shortcuts and per-dataset grid options, stored in the
database (migration 0009) and read back by the views through the api."""

from __future__ import annotations

import pytest

from lightly_studio import db_manager
from lightly_studio.api import dispatch
from lightly_studio.core.image_dataset import ImageDataset
from lightly_studio.errors import DatasetNotFoundError, SettingsError

OPTIONS = {
    "cell_size": 240,
    "overlays": {"boxes": False, "masks": True, "labels": True, "captions": False, "names": True},
    "sort_field": "width",
    "sort_desc": True,
}


def settings(dataset_id=None):
    params = {} if dataset_id is None else {"dataset_id": str(dataset_id)}
    return dispatch("view_settings", params)[0]


def test_a_fresh_database_has_default_shortcuts_and_no_grid_options(db):
    ds = ImageDataset.create("fresh")
    assert settings(ds.dataset_id) == {"shortcuts": {}, "options": None}


def test_shortcuts_survive_reopening_the_database_and_reset_to_defaults(db):
    bindings = {"grid.open": ["o"], "annotator.redo": ["Ctrl+Shift+z", "Ctrl+y"]}
    assert dispatch("set_shortcuts", {"shortcuts": bindings})[0] == {"shortcuts": bindings}
    db_manager.close()
    db_manager.connect(db_file=db)
    assert settings()["shortcuts"] == bindings
    # Resetting stores the empty set: every action is back on its default keys.
    dispatch("set_shortcuts", {"shortcuts": {}})
    assert settings()["shortcuts"] == {}


def test_a_key_bound_twice_in_one_scope_is_refused_and_nothing_changes(db):
    dispatch("set_shortcuts", {"shortcuts": {"grid.open": ["o"]}})
    with pytest.raises(SettingsError, match=r"'x' is bound to both 'grid\.open' and 'grid\.clear'"):
        dispatch("set_shortcuts", {"shortcuts": {"grid.open": ["x"], "grid.clear": ["x"]}})
    assert settings()["shortcuts"] == {"grid.open": ["o"]}
    # The same key in two scopes (grid and detail view) is allowed: they never both listen.
    both = {"grid.open": ["x"], "detail.close": ["x"]}
    assert dispatch("set_shortcuts", {"shortcuts": both})[0]["shortcuts"] == both


@pytest.mark.parametrize(
    ("shortcuts", "message"),
    [
        ([], "must be an object"),
        ({"open": ["o"]}, "not an id like 'grid.open'"),
        ({"grid.open": []}, "1 to 4 key names"),
        ({"grid.open": ["a", "b", "c", "d", "e"]}, "1 to 4 key names"),
        ({"grid.open": [""]}, "1 to 4 key names"),
        ({"grid.open": "o"}, "1 to 4 key names"),
    ],
)
def test_malformed_shortcuts_are_refused_with_what_is_wrong(db, shortcuts, message):
    with pytest.raises(SettingsError, match=message):
        dispatch("set_shortcuts", {"shortcuts": shortcuts})


def test_grid_options_are_kept_per_dataset(db):
    cats, dogs = ImageDataset.create("cats"), ImageDataset.create("dogs")
    saved = dispatch("set_view_options", {"dataset_id": str(cats.dataset_id), "options": OPTIONS})
    assert saved[0] == {"options": OPTIONS}
    db_manager.close()
    db_manager.connect(db_file=db)
    assert settings(cats.dataset_id)["options"] == OPTIONS
    assert settings(dogs.dataset_id)["options"] is None
    # Saving again replaces the row; None forgets it.
    dispatch(
        "set_view_options",
        {"dataset_id": str(cats.dataset_id), "options": {**OPTIONS, "cell_size": 100}},
    )
    assert settings(cats.dataset_id)["options"]["cell_size"] == 100
    dispatch("set_view_options", {"dataset_id": str(cats.dataset_id), "options": None})
    assert settings(cats.dataset_id)["options"] is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cell_size": 5}, "cell_size must be an integer in"),
        ({"cell_size": True}, "cell_size must be an integer in"),
        ({"overlays": {"boxes": "yes"}}, "overlays must map"),
        ({"overlays": {"shadows": True}}, "overlays must map"),
        ({"sort_field": 3}, "sort_field must be a field name"),
        ({"sort_desc": "no"}, "sort_desc must be true or false"),
    ],
)
def test_malformed_grid_options_are_refused_and_the_stored_ones_kept(db, change, message):
    ds = ImageDataset.create("opts")
    dispatch("set_view_options", {"dataset_id": str(ds.dataset_id), "options": OPTIONS})
    with pytest.raises(SettingsError, match=message):
        dispatch(
            "set_view_options", {"dataset_id": str(ds.dataset_id), "options": {**OPTIONS, **change}}
        )
    assert settings(ds.dataset_id)["options"] == OPTIONS


def test_grid_options_of_an_unknown_dataset_are_refused(db):
    with pytest.raises(DatasetNotFoundError):
        dispatch(
            "set_view_options",
            {"dataset_id": "00000000-0000-4000-8000-000000000000", "options": OPTIONS},
        )
