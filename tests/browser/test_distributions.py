"""The Distribution panel in a real browser (full page; the notebook widget mounts the same
explorer, views/explorer.ts):

- class bars count objects or images and sort by count or name; a click filters the grid to
  the class and the filter panel shows it checked;
- dragging across a histogram filters the grid to that range (the filter panel's range boxes
  show it), the charts follow the filter and the range chip clears it;
- the bin count changes the number of histogram bars;
- categorical metadata shows value counts and a "missing" bar; a value bar filters, and so
  does the "missing" bar (to the samples without the key).
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.browser.conftest import CHROMIUM, shot
from tests.conftest import docs_shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]

# 8 images: widths 100..800; cats on the first 5, dogs (2 each) on the last 3.
SIZES = {f"img{i}.png": (100 * (i + 1), 80) for i in range(8)}


@pytest.fixture
def charted(db, tmp_path):
    import lightly_studio as ls
    from lightly_studio.core.annotation import CreateObjectDetection
    from tests.conftest import make_images

    make_images(tmp_path / "imgs", SIZES)
    dataset = ls.ImageDataset.create(name="charted")
    dataset.add_images_from_path(str(tmp_path / "imgs"), embed=False)
    for i, sample in enumerate(sorted(dataset, key=lambda s: s.width)):
        boxes = [("cat", 1)] if i < 5 else [("dog", 2)]
        for label, n in boxes:
            for _ in range(n):
                sample.add_annotation(
                    CreateObjectDetection(label=label, x=1, y=1, width=10, height=10)
                )
        sample.metadata["score"] = i / 10
        if i % 2 == 0:  # the odd ones have no weather: 4 "missing"
            sample.metadata["weather"] = "sunny" if i < 4 else "rain"
    return dataset


@pytest.fixture
def gui(charted, tmp_path, monkeypatch):
    import threading

    monkeypatch.setenv("LIGHTLY_STUDIO_RUNTIME_DIR", str(tmp_path / "rt"))
    from lightly_studio.server import start_gui

    server = start_gui(port=0, block=False)
    yield server
    server.stop()
    deadline = time.time() + 10
    while time.time() < deadline and any(
        t.name.startswith("lightly-studio-") for t in threading.enumerate()
    ):
        time.sleep(0.05)


def _wait_count(page, text: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('[data-testid=ls-count]').textContent.startsWith(t)",
        arg=text,
        timeout=20_000,
    )


def _wait_charts(page, count: int) -> None:
    """The panel shows the charts of a filter with ``count`` samples."""
    page.wait_for_function(
        "n => { const p = document.querySelector('[data-testid=ls-dist-panel] .ls-dist-body');"
        " const c = document.querySelector('[data-testid=ls-dist-count]');"
        " return p && !p.hasAttribute('aria-busy') && c && c.textContent.startsWith(n + ' '); }",
        arg=str(count),
        timeout=20_000,
    )


def _bars(page, testid: str) -> dict[str, str]:
    return page.eval_on_selector_all(
        f"[data-testid={testid}] .ls-dist-row",
        "rows => Object.fromEntries(rows.map(r => [r.dataset.value,"
        " r.querySelector('.ls-dist-n').textContent]))",
    )


def _wait_bars(page, testid: str, expected: dict[str, str]) -> None:
    """Wait until the chart's bars read ``expected`` (in that order), then check them."""
    try:
        page.wait_for_function(
            "([t, want]) => JSON.stringify([...document.querySelectorAll("
            "`[data-testid=${t}] .ls-dist-row`)].map(r => [r.dataset.value,"
            " r.querySelector('.ls-dist-n').textContent])) === want",
            arg=[testid, json.dumps([[k, v] for k, v in expected.items()], separators=(",", ":"))],
            timeout=10_000,
        )
    finally:
        assert list(_bars(page, testid).items()) == list(expected.items())


def _hist(page, key: str):
    return page.locator(f"[data-testid=ls-dist-hist][data-key='{key}']")


def _drag_bins(page, key: str, first: int, last: int, bins: int) -> None:
    """Drag across a histogram from the middle of bin ``first`` to the middle of ``last``."""
    box = _hist(page, key).locator("svg").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2

    def x(i: int) -> float:
        return box["x"] + box["width"] * (i + 0.5) / bins

    page.mouse.move(x(first), y)
    page.mouse.down()
    page.mouse.move(x((first + last) / 2), y, steps=3)
    page.mouse.move(x(last), y, steps=3)
    page.mouse.up()


@pytest.fixture
def app_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def test_distribution_panel_filters_and_follows_the_grid(gui, app_page):
    page = app_page
    page.goto(gui.url)
    _wait_count(page, "8 of 8")
    page.locator("[data-testid=ls-dist-toggle]").click()
    _wait_charts(page, 8)

    # Class bars: objects by default (most first), images on request, by name on request.
    _wait_bars(page, "ls-dist-classes", {"dog": "6", "cat": "5"})
    page.locator("[data-testid=ls-dist-class-mode]").select_option("images")
    _wait_bars(page, "ls-dist-classes", {"cat": "5", "dog": "3"})  # most images first
    page.locator("[data-testid=ls-dist-class-mode]").select_option("objects")
    _wait_bars(page, "ls-dist-classes", {"dog": "6", "cat": "5"})
    page.locator("[data-testid=ls-dist-class-sort]").select_option("name")
    _wait_bars(page, "ls-dist-classes", {"cat": "5", "dog": "6"})

    # Categorical metadata: value counts and the samples without a value.
    assert _bars(page, "ls-dist-cat") == {"sunny": "2", "rain": "2", "missing": "4"}
    docs_shot(page, "distributions")
    shot(page, "distributions-open")

    # A class bar filters the grid; the filter panel shows the label checked; charts follow.
    page.locator("[data-testid=ls-dist-classes] .ls-dist-row[data-value=dog]").click()
    _wait_count(page, "3 of 8")
    _wait_charts(page, 3)
    assert _bars(page, "ls-dist-classes") == {"dog": "6"}
    page.wait_for_function(
        "() => document.querySelector("
        "'[data-testid=ls-label-filters] label[data-name=dog] input').checked",
        timeout=10_000,
    )
    width = _hist(page, "width")
    assert "600" in width.inner_text() and "800" in width.inner_text()  # the filtered range
    page.locator("[data-testid=ls-dist-classes] .ls-dist-row[data-value=dog]").click()
    _wait_count(page, "8 of 8")
    _wait_charts(page, 8)

    # The bin count sets the number of histogram bars.
    bins = page.locator("[data-testid=ls-dist-bins]")
    bins.fill("7")
    bins.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll("
        "'[data-testid=ls-dist-hist][data-key=width] rect.ls-dist-hbar').length === 7",
        timeout=10_000,
    )

    # Brushing bins 0..2 of width (7 bins of 100 px: 100-199, 200-299, 300-399) filters the
    # grid to those 3 images (400 is the next bin's) and the filter panel's boxes show it.
    _drag_bins(page, "width", 0, 2, 7)
    _wait_count(page, "3 of 8")
    _wait_charts(page, 3)
    assert page.locator("input[aria-label='width min']").input_value() == "100"
    assert page.locator("input[aria-label='width max']").input_value() == "399"
    shot(page, "distributions-brushed")
    # The range chip clears it.
    _hist(page, "width").locator("[data-testid=ls-dist-clear-range]").click()
    _wait_count(page, "8 of 8")

    # A categorical value bar filters to that value.
    page.locator("[data-testid=ls-dist-cat] .ls-dist-row[data-value=rain]").click()
    _wait_count(page, "2 of 8")
    _wait_charts(page, 2)
    assert _bars(page, "ls-dist-cat") == {"rain": "2"}
    page.locator("[data-testid=ls-dist-cat] .ls-dist-row[data-value=rain]").click()
    _wait_count(page, "8 of 8")
    assert page.errors == []  # type: ignore[attr-defined]


def test_the_missing_bar_filters_to_samples_without_the_key(charted, gui, app_page):
    """The "missing" bar of a categorical key is a filter like a value bar: the grid shows the
    samples without the key (spec metadata.<key>.missing), the charts follow, and a second
    click removes it."""
    page = app_page
    page.goto(gui.url)
    _wait_count(page, "8 of 8")
    page.locator("[data-testid=ls-dist-toggle]").click()
    _wait_charts(page, 8)
    without = {str(s.sample_id) for s in charted if "weather" not in s.metadata}
    assert len(without) == 4
    missing = page.locator("[data-testid=ls-dist-cat] .ls-dist-row[data-value=missing]")
    missing.click()
    _wait_count(page, "4 of 8")
    _wait_charts(page, 4)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        ".length === 4"
    )
    shown = page.eval_on_selector_all(
        "[data-testid=ls-grid] .ls-cell[data-sample-id]", "cs => cs.map(c => c.dataset.sampleId)"
    )
    assert set(shown) == without
    assert _bars(page, "ls-dist-cat") == {"missing": "4"}
    assert missing.get_attribute("aria-pressed") == "true"
    missing.click()
    _wait_count(page, "8 of 8")
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.fixture
def projected(charted, monkeypatch):
    """A projection without embedding models: x = width, y = score."""
    import polars as pl

    from lightly_studio import embed

    def compute_projection(dataset, embedding_model_name=None, recompute=False):
        frame = dataset.query().to_polars()
        return frame.select(
            pl.col("sample_id").cast(pl.Utf8),
            pl.col("width").cast(pl.Float32).alias("x"),
            (pl.col("width") % 300).cast(pl.Float32).alias("y"),
        )

    monkeypatch.setattr(embed, "compute_projection", compute_projection)
    return charted


def _legend(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=ls-plot-legend] [data-name]", "rows => rows.map(r => r.dataset.name)"
    )


def _open_plot(page, gui) -> None:
    """The app with the plot open, its 8 points drawn."""
    page.goto(gui.url)
    _wait_count(page, "8 of 8")
    page.locator("[data-testid=ls-plot-toggle]").click()
    page.wait_for_function(
        "() => /8 points/.test(document.querySelector('[data-testid=ls-plot-status]')?.textContent)",
        timeout=30_000,
    )


def test_plot_colour_by_class_metadata_ramp_and_categories(projected, gui, app_page):
    page = app_page
    _open_plot(page, gui)
    color = page.locator("[data-testid=ls-plot-color]")
    # The choices: class, source, and the metadata keys by kind.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-plot-color] optgroup').length === 2",
        timeout=10_000,
    )
    groups = page.eval_on_selector_all(
        "[data-testid=ls-plot-color] optgroup",
        "gs => gs.map(g => [g.label, [...g.children].map(o => o.value)])",
    )
    assert groups == [
        ["numeric metadata (ramp)", ["metadata:score"]],
        ["categorical metadata", ["metadata:weather"]],
    ]

    color.select_option("label")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-plot-legend] [data-name]').length === 3"
    )
    assert _legend(page) == ["no label", "cat", "dog"]

    # A numeric key: a ramp from its smallest to its largest value.
    color.select_option("metadata:score")
    page.locator("[data-testid=ls-plot-ramp]").wait_for(timeout=10_000)
    assert page.locator("[data-testid=ls-plot-ramp-min]").inner_text() == "0"
    assert page.locator("[data-testid=ls-plot-ramp-max]").inner_text() == "0.7"
    shot(page, "plot-colour-ramp")
    docs_shot(page.locator("[data-testid=ls-plot]"), "plot-colour-ramp")

    # A categorical key: one colour per value, and "none" for the samples without one.
    color.select_option("metadata:weather")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot-legend]').dataset.by"
        " === 'metadata:weather'"
    )
    assert _legend(page) == ["none", "rain", "sunny"]
    assert page.locator("[data-testid=ls-plot-ramp]").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_sort_by_a_metadata_key_from_the_view_popover(charted, gui, app_page):
    page = app_page
    page.goto(gui.url)
    _wait_count(page, "8 of 8")
    by_width = [str(s.sample_id) for s in sorted(charted, key=lambda s: s.width)]
    page.click("[data-testid=ls-view-button]")
    page.locator("[data-testid=ls-view-options]").wait_for()
    # score = rank by width / 10: listed among the numeric metadata keys.
    page.wait_for_selector("[data-testid=ls-sort] option[value='metadata:score']", state="attached")
    assert page.locator("[data-testid=ls-sort-similarity]").is_hidden()  # no search active
    page.select_option("[data-testid=ls-sort]", "metadata:score")
    page.locator("[data-testid=ls-view-options] input[title=descending]").check()

    def grid_order() -> list[str]:
        return page.eval_on_selector_all(
            "[data-testid=ls-grid] .ls-cell[data-sample-id]",
            "cs => cs.map(c => c.dataset.sampleId)",
        )

    page.wait_for_function(
        "id => document.querySelector('[data-testid=ls-grid] .ls-cell[data-sample-id]')"
        "?.dataset.sampleId === id",
        arg=by_width[-1],  # the highest score first
    )
    assert grid_order() == by_width[::-1]
    shot(page, "sort-by-metadata")
    assert page.errors == []  # type: ignore[attr-defined]


def test_distribution_panel_in_the_notebook_filters_explorer_query(page, lab, examples):
    """The inline widget mounts the same panel: a class bar clicked there is part of
    ``explorer.query`` in Python."""
    from tests.browser.conftest import open_notebook, run_cell, write_notebook

    base, folder = lab
    setup = (
        "import os\n"
        "from lightly_studio import db_manager\n"
        "db_manager.connect(db_file=os.path.join(os.getcwd(), 'dist.db'))\n"
        "from lightly_studio.core.image_dataset import ImageDataset\n"
        "from lightly_studio.core.dataset_query import ImageSampleField as F\n"
        "ds = ImageDataset.create('coco')\n"
        f"ds.add_samples_from_coco(annotations_json='{examples}/coco_subset_128_images/"
        f"instances_train2017.json', images_path='{examples}/coco_subset_128_images/images',"
        " embed=False)\n"
        "print('DOGS', ds.match(F.annotations.contains_label('dog')).count())"
    )
    nb = write_notebook(
        folder,
        "distributions.ipynb",
        [
            setup,
            "from lightly_studio.widgets import Explorer\nex = Explorer(ds, height=700)\nex",
            "print('QUERY', ex.query.count(), ex.spec.get('labels'))",
        ],
    )
    open_notebook(page, base, nb)
    dogs = re.search(r"DOGS (\d+)", run_cell(page, 0))
    assert dogs, "the setup cell did not run"
    run_cell(page, 1)
    page.wait_for_selector("[data-testid=ls-grid] .ls-cell img", timeout=30_000)
    page.locator("[data-testid=ls-dist-toggle]").click()
    page.locator("[data-testid=ls-dist-classes] .ls-dist-row[data-value=dog]").click()
    _wait_count(page, f"{dogs.group(1)} of 128")
    out = run_cell(page, 2)
    assert f"QUERY {dogs.group(1)} ['dog']" in out


def _plot_points(page) -> list[dict]:
    """Each point's sample (name), page position and drawn colour category, read from the
    plot (the names through the plot's own plot_ids call)."""
    return page.evaluate(
        """async () => {
        const el = document.querySelector('[data-testid=ls-plot]');
        const plot = el.__lsPlot;
        const box = document.querySelector('[data-testid=ls-plot-canvas]').getBoundingClientRect();
        const n = plot.xs.length;
        const {result} = await plot.o.rpc.call('plot_ids',
            {token: plot.token, indices: [...Array(n).keys()], names: true});
        return result.file_names.map((name, i) => {
            const [x, y] = plot.pointPosition(i);
            return {name, x: box.x + x, y: box.y + y};
        });
    }"""
    )


def _pixel(png: bytes, x: float, y: float) -> tuple[int, int, int]:
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return img.getpixel((round(x), round(y)))  # type: ignore[return-value]


def _near(a, b, tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_plot_hover_card_filter_greys_and_legend_toggles(projected, gui, app_page):
    """The side plot of the full page: hovering a point shows a card with that sample's
    thumbnail and file name; with a filter the points outside it are still drawn, greyed; a
    legend click hides a class's points and a double-click shows only that class; an
    evaluation run colours by outcome."""
    # One model box, on img7.png (a dog image): every image keeps a missed box (false
    # negatives) and no class or filter count changes.
    from lightly_studio.core.annotation import CreateObjectDetection

    widest = next(s for s in projected if s.file_name == "img7.png")
    widest.add_annotation(
        CreateObjectDetection(
            label="dog", x=1, y=1, width=10, height=10, confidence=0.9, annotation_source="model"
        )
    )
    projected.evaluate().object_detection("self", "ground_truth", "model")
    page = app_page
    _open_plot(page, gui)
    points = _plot_points(page)
    by_name = {p["name"]: p for p in points}
    assert sorted(by_name) == sorted(SIZES)

    # Hover: the widest image is the rightmost point (x = width).
    right = max(points, key=lambda p: p["x"])
    assert right["name"] == "img7.png"
    page.mouse.move(right["x"] - 20, right["y"] - 20)
    page.mouse.move(right["x"], right["y"], steps=4)
    tip = page.locator("[data-testid=ls-plot-tip]")
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-testid=ls-plot-tip]');"
        " return t.style.display !== 'none' && t.querySelector('img')"
        " && t.querySelector('img').naturalWidth > 0; }",
        timeout=10_000,
    )
    assert page.locator("[data-testid=ls-plot-tip-name]").inner_text() == "img7.png"
    assert tip.locator("img").get_attribute("alt") == "img7.png"
    ids = {s.file_name: str(s.sample_id) for s in projected}
    assert tip.get_attribute("data-sample-id") == ids["img7.png"]
    shot(page, "plot-hover-card")
    page.mouse.move(5, 5)

    # Colour by class; cats are the five narrowest images, dogs the three widest.
    page.locator("[data-testid=ls-plot-color]").select_option("label")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=ls-plot-legend] [data-name]').length === 3"
    )
    colors = page.eval_on_selector_all(
        "[data-testid=ls-plot-legend] [data-category] .ls-dot",
        "ds => ds.map(d => getComputedStyle(d).backgroundColor.match(/\\d+/g).map(Number))",
    )
    cat_rgb, dog_rgb = tuple(colors[1]), tuple(colors[2])
    canvas = page.locator("[data-testid=ls-plot-canvas]").bounding_box()
    assert canvas is not None
    bg = _pixel(page.screenshot(), canvas["x"] + 4, canvas["y"] + 4)  # the plot's background

    def drawn(name: str) -> tuple[int, int, int]:
        return _pixel(page.screenshot(), by_name[name]["x"], by_name[name]["y"])

    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.hidden === ''"
    )
    assert _near(drawn("img0.png"), cat_rgb) and _near(drawn("img7.png"), dog_rgb)

    # Legend: a click hides the cats, a second shows them again; a double-click on "dog"
    # shows only the dogs.
    legend_cat = page.locator("[data-testid=ls-plot-legend] [data-name=cat]")
    legend_cat.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.hidden === 'cat'"
    )
    page.wait_for_timeout(300)
    assert _near(drawn("img0.png"), bg, 12) and _near(drawn("img7.png"), dog_rgb)
    assert legend_cat.get_attribute("aria-pressed") == "false"
    shot(page, "plot-legend-hidden")
    legend_cat.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.hidden === ''"
    )
    page.wait_for_timeout(300)
    assert _near(drawn("img0.png"), cat_rgb)
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").dblclick()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.hidden === 'no label,cat'"
    )
    page.wait_for_timeout(300)
    assert _near(drawn("img0.png"), bg, 12) and _near(drawn("img7.png"), dog_rgb)
    page.locator("[data-testid=ls-plot-legend] [data-name=dog]").dblclick()  # all again
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.hidden === ''"
    )

    # A filter (the dogs): the cats stay drawn, in grey; the dogs keep their colour.
    page.locator("[data-testid=ls-label-filters] label[data-name=dog] input").check()
    _wait_count(page, "3 of 8")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.greyed === '5'",
        timeout=10_000,
    )
    page.locator("[data-testid=ls-plot-outside]").wait_for()
    page.wait_for_timeout(300)
    grey = tuple(
        page.eval_on_selector(
            "[data-testid=ls-plot-outside] .ls-dot",
            "d => getComputedStyle(d).backgroundColor.match(/\\d+/g).map(Number)",
        )
    )
    for i in range(5):
        assert _near(drawn(f"img{i}.png"), grey, 12), f"img{i}.png is not greyed"
    assert not _near(grey, bg, 12)  # greyed, not hidden: visible against the background
    for i in range(5, 7):  # img7.png, top right, is under the taller legend now
        assert _near(drawn(f"img{i}.png"), dog_rgb), f"img{i}.png lost its colour"
    shot(page, "plot-filter-greyed")
    docs_shot(page.locator("[data-testid=ls-plot]"), "plot-filter-greyed")
    page.locator("[data-testid=ls-label-filters] label[data-name=dog] input").uncheck()
    _wait_count(page, "8 of 8")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot]').dataset.greyed === '0'"
    )
    assert page.locator("[data-testid=ls-plot-outside]").count() == 0

    page.locator("[data-testid=ls-plot-color]").select_option("evaluation:self")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=ls-plot-legend]').dataset.by"
        " === 'evaluation:self'"
    )
    assert _legend(page) == [
        "not evaluated",
        "correct",
        "false positives",
        "false negatives",
        "false pos. + neg.",
    ]
    page.wait_for_timeout(300)
    missed = tuple(
        page.eval_on_selector(
            "[data-testid=ls-plot-legend] [data-name='false negatives'] .ls-dot",
            "d => getComputedStyle(d).backgroundColor.match(/\\d+/g).map(Number)",
        )
    )
    assert _near(drawn("img0.png"), missed) and _near(drawn("img5.png"), missed)
    shot(page, "plot-evaluation-status")
    assert page.errors == []  # type: ignore[attr-defined]
