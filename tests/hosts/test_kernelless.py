"""A widget whose kernel never answers (a notebook exported with its widget state, opened
without a kernel): the loader says what is needed and shows the widget's snapshot."""

from __future__ import annotations

import base64
import io
import json

import pytest

from lightly_studio.widgets._loader import loader_esm
from tests.browser.conftest import shot

pytestmark = [pytest.mark.browser]

PAGE = """<!doctype html><html><body><div id="out"></div><script type="module">
import view from "./loader.js";
const snapshot = SNAPSHOT;
const sent = [];
window.sent = sent;
// A model whose messages go nowhere, as in an HTML export: no kernel, no extension.
const model = { get: (k) => (k === "_snapshot" ? snapshot : undefined), on() {}, off() {},
                send: (msg) => sent.push(msg) };
view.render({ model, el: document.getElementById("out") });
</script></body></html>"""


def tiny_jpeg() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def test_no_kernel_shows_the_reason_and_the_snapshot(page):
    snapshot = {
        "title": "Explorer: <b>coco</b>",  # shown as text, never parsed as HTML
        "lines": ["128 samples", "4 shown"],
        "thumbnails": [tiny_jpeg(), tiny_jpeg(), "javascript:alert(1)"],
    }
    files = {
        "index.html": ("text/html", PAGE.replace("SNAPSHOT", json.dumps(snapshot))),
        "loader.js": ("text/javascript", loader_esm("widget.js")),
    }

    def answer(route):
        content_type, body = files[route.request.url.rsplit("/", 1)[1]]
        route.fulfill(status=200, content_type=content_type, body=body)

    page.route("http://kernelless.test/*", answer)
    page.goto("http://kernelless.test/index.html")
    notice = page.locator(".ls-no-kernel")
    notice.wait_for(timeout=15_000)  # after the loader's 8 s wait
    text = notice.inner_text()
    assert "No kernel answers this view" in text and "run the cell" in text
    assert "Explorer: <b>coco</b>" in text and "128 samples · 4 shown" in text
    assert notice.locator("img").count() == 2  # only data:image/jpeg URIs are shown
    # The loader asked the (absent) kernel for the view's code.
    assert page.evaluate("window.sent") == [{"type": "bundle", "name": "widget.js"}]
    shot(page, "kernelless-notice")


@pytest.mark.parametrize(
    ("html_attrs", "body_attrs", "os_scheme", "expected"),
    [
        ('style="--vscode-editor-background:#1e1e1e"', 'class="vscode-dark"', "light", "dark"),
        ('style="--vscode-editor-background:#1e1e1e"', "", "light", "dark"),
        ('style="--colab-primary-surface-color:#ffffff"', "", "dark", "light"),
        ("", 'style="background:#181c1a"', "light", "dark"),  # no marker: the page's colour
        ('class="dark"', "", "light", "dark"),  # marimo's class
    ],
)
def test_the_view_follows_the_host_page_scheme(
    browser, html_attrs, body_attrs, os_scheme, expected
):
    page_html = (
        PAGE.replace("SNAPSHOT", "{}")
        .replace("<html>", f"<html {html_attrs}>")
        .replace("<body>", f"<body {body_attrs}>")
    )
    files = {
        "index.html": ("text/html", page_html),
        "loader.js": ("text/javascript", loader_esm("widget.js")),
    }
    context = browser.new_context(color_scheme=os_scheme)
    try:
        page = context.new_page()
        page.route(
            "http://kernelless.test/*",
            lambda route: route.fulfill(
                status=200,
                content_type=files[route.request.url.rsplit("/", 1)[1]][0],
                body=files[route.request.url.rsplit("/", 1)[1]][1],
            ),
        )
        page.goto("http://kernelless.test/index.html")
        page.wait_for_function("() => document.getElementById('out').dataset.lsTheme")
        assert page.evaluate("document.getElementById('out').dataset.lsTheme") == expected
    finally:
        context.close()
