"""The group grid inline: ``dataset.show()`` of a GroupDataset in a real JupyterLab + Chromium
shows each group's members side by side, and a group tagged in the view carries the tag in
the kernel."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_notebook, run_cell, shot, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import os, warnings
from pathlib import Path
from PIL import Image
import lightly_studio as ls
from lightly_studio import db_manager
db_manager.connect(db_file=os.path.join(os.getcwd(), "groups.db"))
for view, size in (("front", (96, 64)), ("rear", (64, 96))):
    for i, stem in enumerate(("0001", "0002", "0003")):
        Path("cams", view).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (70 * i, 120, 200)).save(f"cams/{view}/{stem}.jpg")
ds = ls.GroupDataset.create("cams")
ds.add_groups_from_folders("cams")
print("GROUPS", len(ds))
"""


def test_the_inline_group_grid_shows_members_and_tags_groups(page, lab):
    base, folder = lab
    nb = write_notebook(
        folder,
        "groups.ipynb",
        [
            SETUP,
            "explorer = ds.show()",
            "print('TAGGED', sorted(g.name for g in ds if 'inline' in g.tags),"
            " [sorted(m.tags) for g in ds for m in g.members.values()])",
        ],
    )
    open_notebook(page, base, nb)
    assert "GROUPS 3" in run_cell(page, 0)
    run_cell(page, 1)
    try:
        page.wait_for_function(
            """() => [...document.querySelectorAll('[data-testid=ls-grid] .ls-group-member img')]
                     .filter(i => i.complete && i.naturalWidth > 0).length >= 6""",
            timeout=30_000,
        )
    except Exception:  # picture what went wrong, then fail with the context
        shot(page, "group-notebook-failed")
        raise
    first = page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").first
    assert first.locator(".ls-view-name").all_inner_texts() == ["front", "rear"]
    assert page.locator("[data-testid=ls-count]").inner_text().startswith("3 of 3 groups")
    shot(page, "group-notebook-grid")

    first.locator("[data-role=check]").click()
    page.locator("[data-testid=ls-tag-input]").fill("inline")
    page.locator("[data-testid=ls-tag-button]").click()
    page.locator("[data-testid=ls-tag-filters] label[data-name=inline]").wait_for(timeout=15_000)
    out = run_cell(page, 2)
    assert "TAGGED ['0001'] [[], [], [], [], [], []]" in out, out
