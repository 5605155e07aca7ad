"""The notebook explorer on a group dataset: the view learns it shows groups, and its pages
carry each group's members (the same api as the full page, through the widget's messages)."""

from __future__ import annotations

import warnings

import lightly_studio as ls
from lightly_studio.widgets import Explorer
from tests.conftest import make_images
from tests.widgets.test_widgets import Recorder


def test_the_explorer_of_a_group_dataset_pages_groups_with_their_members(db, tmp_path):
    make_images(
        tmp_path / "g", {"left/1.jpg": (16, 8), "right/1.jpg": (8, 16), "left/2.jpg": (4, 4)}
    )
    dataset = ls.GroupDataset.create("pairs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # group 2 has no right image
        dataset.add_groups_from_folders(tmp_path / "g")
    rec = Recorder(Explorer(dataset))
    ready, _ = rec.request("ready")
    assert (ready["result"]["kind"], ready["result"]["total"]) == ("group", 2)
    reply, _ = rec.request(
        "samples_page", {"spec": {"dataset_id": str(dataset.dataset_id)}, "limit": 10}, id="2"
    )
    rows = reply["result"]["rows"]
    assert [r["file_name"] for r in rows] == ["1", "2"]
    assert [(m["view"], m.get("width")) for m in rows[0]["members"]] == [
        ("left", 16),
        ("right", 8),
    ]
    assert rows[1]["members"][1] == {"view": "right", "sample_id": None}
