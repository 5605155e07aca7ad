"""The JupyterLab extension: a "LightlyStudio" command (palette + launcher, with an icon) that
opens the app from ``/lightly-studio/`` in a main-area tab, as a prebuilt (federated) extension
that ``pip install .`` puts under ``share/jupyter/labextensions`` — no Lab rebuild.

The browser test starts JupyterLab on loopback with the jupyter-server extension enabled and the
freshly built ``lightly_studio/labextension`` on ``--LabApp.extra_labextensions_path`` (the
package is only on PYTHONPATH here, not installed), and no GUI server running: the tab shows the
app's page shell and its "start one" message, which proves the page, its bundle and an
authenticated API call all went through Jupyter's port from inside the sandboxed iframe.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import conftest as browser_conftest

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "lightly_studio" / "labextension"
SOURCE = REPO / "labextension"
TOKEN = browser_conftest.TOKEN

# Shared with tests/browser: one headless Debian Chromium with the flags of BROWSER-TESTING.md.


def _built_package() -> dict:
    path = BUILT / "package.json"
    if not path.is_file():
        pytest.fail("lightly_studio/labextension is not built: run `npm run build`.")
    return json.loads(path.read_text())


def test_the_build_is_a_prebuilt_extension_that_the_wheel_installs_under_its_own_name():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    pkg = _built_package()
    assert pkg["name"] == json.loads((SOURCE / "package.json").read_text())["name"]
    # `_build.load` is what Lab reads to load a federated extension without rebuilding.
    load = pkg["jupyterlab"]["_build"]["load"]
    assert re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", load)
    assert (BUILT / load).is_file()

    # Lab serves an extension from labextensions/<package name>/: the wheel must use that name.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["lightly_studio/labextension"] == f"share/jupyter/labextensions/{pkg['name']}"
    assert shared["labextension/install.json"].startswith(
        f"share/jupyter/labextensions/{pkg['name']}/"
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab with our server extension and the built labextension: yields its base URL."""
    pkg = _built_package()
    work = tmp_path_factory.mktemp("lab-ext")
    # Lab finds an extension at <path>/<package name>/package.json and serves it from there.
    labextensions = work / "labextensions"
    shutil.copytree(BUILT, labextensions / pkg["name"])
    # No "get notified about Jupyter news?" toast over the screenshot.
    labconfig = work / ".jupyter" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    with browser_conftest.running_jupyterlab(
        work,
        args=[
            "--ServerApp.jpserver_extensions={'lightly_studio.server.jupyter': True}",
            # A List trait on the command line: one value per flag, no brackets.
            f"--LabApp.extra_labextensions_path={labextensions}",
        ],
        env={
            "JUPYTER_DATA_DIR": str(work / ".data"),
            # An empty runtime dir: no GUI server of another test or session is found.
            "LIGHTLY_STUDIO_RUNTIME_DIR": str(work / ".ls-runtime"),
        },
    ) as base:
        yield base


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(browser_conftest.CHROMIUM).exists(), reason="needs Debian's chromium")
def test_launcher_item_opens_the_app_in_a_main_area_tab(lab, page):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{lab}/lab?token={TOKEN}&reset", wait_until="domcontentloaded")

    # The Launcher shows the item, with its icon.
    card = page.locator(".jp-LauncherCard", has_text="LightlyStudio")
    card.wait_for(timeout=60_000)
    assert card.locator(".jp-LauncherCard-icon svg").count() == 1
    browser_conftest.shot(page, "labextension-launcher")

    # The command palette lists it too.
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("LightlyStudio")
    item = page.locator(".lm-CommandPalette-item", has_text="LightlyStudio")
    item.first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")

    card.click()
    tab = page.locator(
        ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text="LightlyStudio"
    )
    tab.wait_for(timeout=20_000)
    iframe = page.locator(".jp-MainAreaWidget.jp-LightlyStudio iframe")
    iframe.wait_for(state="attached", timeout=20_000)
    assert iframe.get_attribute("src").endswith("/lightly-studio/")
    sandbox = iframe.get_attribute("sandbox").split()
    assert {"allow-scripts", "allow-same-origin"} <= set(sandbox)
    assert "allow-top-navigation" not in sandbox

    # The app page loaded inside the tab: its title, its bundle ran (header), and its first API
    # call reached the server extension with Jupyter's cookie (503 "start one", not a 403).
    app = iframe.content_frame
    app.locator(".ls-app-brand").wait_for(timeout=30_000)
    assert app.locator(".ls-app-brand").inner_text() == "LightlyStudio"
    message = app.locator("[data-testid=ls-app-message]")
    message.wait_for(timeout=30_000)
    assert "start_gui()" in message.inner_text()
    frame = next(f for f in page.frames if f.url.endswith("/lightly-studio/"))
    assert frame.title() == "LightlyStudio"
    browser_conftest.shot(page, "labextension-tab")

    # The tab's Reload button loads the page again (to pick up a start_gui() run since).
    frame.evaluate("window.__beforeReload = true")
    page.locator(".jp-LightlyStudio .jp-LightlyStudio-reload").click()
    page.wait_for_function(
        "() => { const w = document.querySelector('.jp-LightlyStudio iframe').contentWindow;"
        " return w && !w.__beforeReload && w.document.querySelector('[data-testid=ls-app-message]'); }",
        timeout=30_000,
    )

    # Running the command again (palette) focuses the open tab instead of opening a second one.
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("LightlyStudio")
    page.locator(".lm-CommandPalette-item", has_text="LightlyStudio").first.click()
    page.wait_for_timeout(500)
    assert page.locator(".jp-MainAreaWidget.jp-LightlyStudio").count() == 1
    assert errors == []
