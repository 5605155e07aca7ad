"""The jupyter-server extension under hostile input: what the owner's server refuses, the
extension refuses too (or passes the owner's 4xx through) — never a 500, never a forward to
a place the client chose, never the token to anywhere but loopback (#26)."""

from __future__ import annotations

import json
import os
import socket
import struct
import time

import pytest

from lightly_studio.server import _app, _transport
from tests.server.conftest import backend, media, start  # noqa: F401 - fixtures
from tests.server.test_jupyter_extension import (  # noqa: F401 - fixtures
    _auth,
    jupyter,
    runtime_dir,
    via_jupyter,
)

pytestmark = pytest.mark.slow


def _error(resp, status: int) -> dict:
    assert resp.status == status, resp.data[:300]
    return json.loads(resp.data)["error"]


def test_an_oversized_body_is_413_from_the_extension_itself(via_jupyter):
    # No owner runs: the 413 comes before any forwarding (not the owner's, nor a 503).
    body = b" " * (_app.MAX_BODY_BYTES + 1)
    resp = via_jupyter.request(
        "POST", "/lightly-studio/api/echo", body, {**_auth(), "Content-Type": "application/json"}
    )
    assert _error(resp, 413)["type"] == "PayloadTooLarge"


@pytest.mark.parametrize(
    ("body", "ctype", "named"),
    [
        (b"[" * 100_000, "application/json", "nested too deeply"),
        (
            _transport.MAGIC + struct.pack("<I", 6) + b"[1, 2]",
            _transport.FRAMES_TYPE,
            "frames header",
        ),
        (b"{not json", "application/json", "not valid JSON"),
    ],
)
def test_malformed_params_get_the_owners_400_through_the_extension(
    via_jupyter,
    start,
    body,
    ctype,
    named,
):
    start(host="0.0.0.0")
    resp = via_jupyter.request(
        "POST", "/lightly-studio/api/echo", body, {**_auth(), "Content-Type": ctype}
    )
    error = _error(resp, 400)
    assert error["type"] == "BadRequest" and named in error["message"]


def test_the_client_cannot_choose_the_token_or_the_target(via_jupyter, start, backend):
    start(host="0.0.0.0")  # token-protected
    resp = via_jupyter.call(
        "echo",
        {"x": 1},
        headers={
            **_auth(),
            "X-Lightly-Studio-Token": "wrong",
            "X-Forwarded-Host": "evil.example:80",
            "Forwarded": "host=evil.example",
        },
    )
    assert resp.status == 200  # the extension sends the owner's token, not the client's
    assert backend.calls == [("echo", {"x": 1})]
    for path in (
        "/lightly-studio/api/..%2F..%2Fhealth",
        "/lightly-studio/api/echo/../../x",
        "/lightly-studio/media/..%2F..%2Fetc%2Fpasswd",
        "/lightly-studio/api/http:%2F%2Fevil.example%2F",
    ):
        assert via_jupyter.request(
            "POST", path, b"{}", {**_auth(), "Content-Type": "application/json"}
        ).status in (404, 405)
    assert backend.calls == [("echo", {"x": 1})]


def _plant(runtime, url: str) -> os.PathLike:
    """A runtime file as another local user could write one (live pid, newest)."""
    path = runtime / f"lightly-studio-{os.getpid()}-1.json"
    path.write_text(
        json.dumps(
            {
                "port": 1,
                "internal_url": url,
                "token": "t",
                "pid": os.getpid(),
                "started": time.time() + 3600,
            }
        )
    )
    return path


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid:80/",
        "https://127.0.0.1:1/",
        "http://127.0.0.1:1/api/",
        "http://user@127.0.0.1:1/",
        "http://0.0.0.0:1/",
        42,
    ],
)
def test_a_runtime_file_naming_anything_but_loopback_http_is_ignored(
    via_jupyter,
    runtime_dir,
    url,
):
    path = _plant(runtime_dir, url)
    try:
        resp = via_jupyter.call("echo", headers=_auth())
        assert _error(resp, 503)["type"] == "NoServer"
    finally:
        path.unlink()


def test_an_owner_that_is_gone_is_a_502_not_a_500(via_jupyter, runtime_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    path = _plant(runtime_dir, f"http://127.0.0.1:{port}/")
    try:
        resp = via_jupyter.call("echo", headers=_auth())
        assert resp.status == 502
        assert json.loads(resp.data)["error"]["type"] in ("ServerGone", "HTTPError")
    finally:
        path.unlink()
