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
