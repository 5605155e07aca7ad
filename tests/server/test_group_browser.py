"""The group grid of the full-page app in a real browser (Playwright + /usr/bin/chromium).

A group dataset of three groups with views front and rear (group 0003 has no rear image):
each tile shows the group's members side by side under their view names, the filter panel
filters groups by their members' tags, a group tagged from the toolbar carries the tag in
Python (its members do not), and opening a group shows its members at full size.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import docs_shot, make_images

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Where the screenshots of this view go when LIGHTLY_STUDIO_GROUP_SHOTS names a folder.
SHOTS = os.environ.get("LIGHTLY_STUDIO_GROUP_SHOTS")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
    pytest.mark.skipif(
        not (REPO / "lightly_studio/static/app.js").exists(),
        reason="JS bundle not built (npm run build)",
    ),
]


@pytest.fixture
def group_dataset(db, tmp_path):
    import lightly_studio as ls

    make_images(
        tmp_path / "cams",
        {
            "front/0001.jpg": (320, 240),
            "front/0002.jpg": (320, 240),
            "front/0003.jpg": (320, 240),
            "rear/0001.jpg": (200, 300),
            "rear/0002.jpg": (200, 300),
        },
    )
    dataset = ls.GroupDataset.create("cameras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0003 has no rear image, on purpose
        dataset.add_groups_from_folders(tmp_path / "cams")
    by_name = {g.name: g for g in dataset}
    by_name["0002"]["rear"].add_tag("blurry")
    from lightly_studio.core.annotation import CreateObjectDetection

    by_name["0001"]["front"].add_annotation(
        CreateObjectDetection(label="car", x=40, y=30, width=120, height=90)
    )
    dataset.by_name = by_name  # test convenience
    return dataset


@pytest.fixture
def group_gui(group_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()
    # API calls may still run on the server's threads: let them finish before the DB closes.
    deadline = time.time() + 10
    while time.time() < deadline and any(
        t.name.startswith("lightly-studio-") for t in threading.enumerate()
    ):
        time.sleep(0.05)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _wait_for_member_thumbnails(page, n: int) -> None:
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('[data-testid=ls-grid] .ls-group-member img')]
                 .filter(i => i.complete && i.naturalWidth > 0).length >= {n}""",
        timeout=30_000,
    )


def _cell(page, group):
    return page.locator(f"[data-testid=ls-grid] .ls-cell[data-sample-id='{group.sample_id}']")


def _shot(page, name: str) -> None:
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1024, 1400, 2560):
        page.set_viewport_size({"width": width, "height": 900 if width < 2560 else 1300})
        page.wait_for_timeout(400)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"))
    page.set_viewport_size({"width": 1400, "height": 900})


def test_group_grid_shows_members_side_by_side_filters_and_tags_groups(
    group_gui, page, group_dataset
):
    page.goto(group_gui.url)
    _wait_for_member_thumbnails(page, 5)
    by_name = group_dataset.by_name

    # Members side by side, in view order, under their view names.
    first = _cell(page, by_name["0001"])
    members = first.locator(".ls-group-member")
    assert members.count() == 2
    assert [members.nth(i).get_attribute("data-view") for i in range(2)] == ["front", "rear"]
    assert first.locator(".ls-view-name").all_inner_texts() == ["front", "rear"]
    front, rear = members.nth(0).bounding_box(), members.nth(1).bounding_box()
    assert front and rear
    assert abs(front["y"] - rear["y"]) < 1 and rear["x"] >= front["x"] + front["width"] - 1
    # The front member's box is drawn over the front member only.
    assert members.nth(0).locator("svg rect").count() == 1
    assert members.nth(1).locator("svg").count() == 0
    # The missing rear member of 0003 is an empty slot, not someone else's picture.
    lonely = _cell(page, by_name["0003"])
    assert lonely.locator(".ls-group-member[data-view=rear] .ls-group-gap").count() == 1
    assert lonely.locator(".ls-group-member[data-view=rear] img").count() == 0
    assert "groups" in page.locator("[data-testid=ls-dataset-picker]").inner_text()
    assert page.locator("[data-testid=ls-count]").inner_text() == "3 of 3 groups"
    docs_shot(page, "group-grid")  # docs/groups.md's picture under `make screenshots`
    _shot(page, "group-grid")

    # Filter: groups with a member tagged "blurry".
    member_tags = page.locator("[data-testid=ls-member-tag-filters]")
    member_tags.locator("label[data-name=blurry] input").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 3')"
        " && document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]').length == 1",
        timeout=15_000,
    )
    assert page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").get_attribute(
        "data-sample-id"
    ) == str(by_name["0002"].sample_id)
    _shot(page, "group-grid-filtered")
    member_tags.locator("label[data-name=blurry] input").uncheck()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('3 of 3')",
        timeout=15_000,
    )

    # Labels filter groups by their members' annotations (0001's front member has a car).
    labels = page.locator("[data-testid=ls-label-filters]")
    labels.locator("label[data-name=car] input").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('1 of 3')",
        timeout=15_000,
    )
    _cell(page, by_name["0001"]).wait_for(timeout=10_000)  # rows follow the count
    assert page.locator("[data-testid=ls-grid] .ls-cell[data-sample-id]").count() == 1
    labels.locator("label[data-name=car] input").uncheck()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-count]').textContent.startsWith('3 of 3')",
        timeout=15_000,
    )

    # Select group 0003 with its check box and tag it from the toolbar.
    _wait_for_member_thumbnails(page, 5)
    _cell(page, by_name["0003"]).locator("[data-role=check]").click()
    page.locator("[data-testid=ls-selected-count]").wait_for(timeout=5_000)
    assert page.locator("[data-testid=ls-selected-count]").inner_text() == "1 selected"
    page.locator("[data-testid=ls-tag-input]").fill("needs_review")
    page.locator("[data-testid=ls-tag-button]").click()
    page.locator("[data-testid=ls-tag-filters] label[data-name=needs_review]").wait_for(
        timeout=10_000
    )
    # Read back from Python: the group carries the tag, its member does not.
    tagged = [g.name for g in group_dataset if "needs_review" in g.tags]
    assert tagged == ["0003"]
    assert next(g for g in group_dataset if g.name == "0003")["front"].tags == set()
    # The tile shows the group's tag.
    _cell(page, by_name["0003"]).locator(".ls-chip", has_text="needs_review").wait_for(
        timeout=10_000
    )
    assert page.errors == []


def test_opening_a_group_shows_its_members_at_full_size(group_gui, page, group_dataset):
    page.goto(group_gui.url)
    _wait_for_member_thumbnails(page, 5)
    group = group_dataset.by_name["0001"]
    for _ in range(3):  # a re-render may swap the cell under the click: retry
        _cell(page, group).locator(".ls-name-bar").click()
        try:
            page.locator("[data-testid=ls-group-detail]").wait_for(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            continue
    detail = page.locator("[data-testid=ls-group-detail]")
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=ls-group-detail-member] img')]
                 .filter(i => i.complete && i.naturalWidth > 0).length == 2""",
        timeout=15_000,
    )
    sizes = page.eval_on_selector_all(
        "[data-testid=ls-group-detail-member] img",
        "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])",
    )
    assert sizes == [[320, 240], [200, 300]]  # the originals, not thumbnails
    # The front member's box, over the front picture only.
    pictures = detail.locator("[data-testid=ls-group-detail-member]")
    assert pictures.nth(0).locator("svg rect").count() >= 1
    assert pictures.nth(1).locator("svg").count() == 0
    assert [
        m.get_attribute("data-view")
        for m in detail.locator("[data-testid=ls-group-detail-member]").all()
    ] == ["front", "rear"]
    detail.locator("[data-testid=ls-detail-tag-input]").fill("checked")
    detail.locator("[data-testid=ls-detail-tag-input]").press("Enter")
    detail.locator("[data-testid=ls-detail-tags]", has_text="checked").wait_for(timeout=10_000)
    assert next(g for g in group_dataset if g.name == "0001").tags == {"checked"}
    _shot(page, "group-detail")
    page.keyboard.press("Escape")
    detail.wait_for(state="detached", timeout=5_000)
    assert page.errors == []
