"""The two sides of the wire agree: the method table and the shared constants.

Reads the TypeScript sources (js/src/transport/methods.ts, constants.ts) as text: a method
added on one side only, or a constant changed on one side only, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import is_typeddict

import pytest

from lightly_studio import _wire, api
from lightly_studio.api._contracts import CountParams, CountResult
from lightly_studio.api._methods import Method, method
from lightly_studio.api.samples import count
from lightly_studio.widgets._rpc import WIDGET_METHODS

JS = Path(__file__).resolve().parents[2] / "js" / "src" / "transport"


def _ts_interface(name: str) -> set[str]:
    """Method names of ``export interface <name> { ... }`` in methods.ts (one per line)."""
    source = (JS / "methods.ts").read_text()
    body = re.search(rf"export interface {name} \{{\n(.*?)\n\}}", source, re.S)
    assert body, f"methods.ts has no interface {name}"
    lines = [
        ln for ln in body.group(1).splitlines() if ln.strip() and not ln.strip().startswith("//")
    ]
    names = [re.match(r"  (\w+): \{ params: .*; result: .* \};$", ln) for ln in lines]
    assert all(names), f"unexpected line in {name}: {lines[names.index(None)]!r}"
    return {m.group(1) for m in names if m}


def _ts_constants() -> dict[str, object]:
    source = (JS / "constants.ts").read_text()
    out: dict[str, object] = {}
    for name, value in re.findall(r"^export const (\w+) = (.+);$", source, re.M):
        if value.startswith('"'):
            out[name] = value.strip('"')
        else:  # integer arithmetic such as 8 * 1024 * 1024
            assert re.fullmatch(r"[\d\s*+]+", value), value
            out[name] = eval(value)  # digits and * + only, checked above
    return out


def test_ts_lists_every_api_method_and_no_other():
    ts = _ts_interface("ApiMethods")
    py = set(api.METHODS)
    assert py - ts == set(), f"api methods without an entry in methods.ts ApiMethods: {py - ts}"
    assert ts - py == set(), f"methods.ts ApiMethods lists methods api/ lacks: {ts - py}"


def test_ts_lists_the_widget_methods():
    assert _ts_interface("WidgetMethods") == set(WIDGET_METHODS)
    assert not WIDGET_METHODS & set(api.METHODS)


def test_every_method_declares_typed_dicts():
    for name, entry in api.METHODS.items():
        assert isinstance(entry, Method) and entry.name == name
        assert is_typeddict(entry.params) and is_typeddict(entry.result), name
        assert callable(entry.fn)


def test_buffer_flags_are_declared_not_inferred():
    assert {n for n, e in api.METHODS.items() if e.buffers_in} == {
        "plot_ids",
        "plot_select",
        "image_search",
    }
    assert {n for n, e in api.METHODS.items() if e.buffers_out} == {
        "samples_page",
        "thumbnails",
        "image",
        "plot_points",
        "plot_indices",
        "plot_colors",
        "annotator_sample",
        "export_download",
        "crop_images",
        "video_poster",
        "video_media",
    }


def test_a_method_is_registered_once_with_typed_dicts():
    with pytest.raises(TypeError, match="must be a TypedDict"):
        method("count_again", dict, CountResult)
    with pytest.raises(ValueError, match="registered twice"):
        method("count", CountParams, CountResult)(lambda params: ({}, []))
    assert api.METHODS["count"].fn is count


def test_unknown_method_is_one_error():
    from lightly_studio.errors import LightlyStudioError, UnknownMethodError

    assert api.UnknownMethodError is UnknownMethodError
    assert issubclass(UnknownMethodError, LightlyStudioError)
    with pytest.raises(UnknownMethodError, match="no_such_method"):
        api.dispatch("no_such_method", {})


def test_shared_constants_match():
    ts = _ts_constants()
    assert ts["CHUNK_BYTES"] == _wire.CHUNK_BYTES
    assert ts["FRAMES_TYPE"] == _wire.FRAMES_TYPE
    assert ts["FRAMES_MAGIC"].encode() == _wire.FRAMES_MAGIC
    # The view's routes are relative to the page's base URL; the server's are absolute.
    for name in ("API_ROUTE", "MEDIA_ROUTE", "THUMBNAIL_ROUTE", "EVENTS_ROUTE"):
        assert ts[name] == getattr(_wire, name).lstrip("/"), name
    assert set(ts) == {
        "CHUNK_BYTES",
        "FRAMES_TYPE",
        "FRAMES_MAGIC",
        "API_ROUTE",
        "MEDIA_ROUTE",
        "THUMBNAIL_ROUTE",
        "EVENTS_ROUTE",
    }
