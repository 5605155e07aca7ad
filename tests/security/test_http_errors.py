"""Malformed requests get a 4xx with a JSON reason naming what is wrong — never a 500, never a
dropped connection where HTTP has a status for it (#26 item 8). Real HTTP, real api."""

from __future__ import annotations

import json
import socket
import struct
import time
import uuid

import pytest

from lightly_studio.server import _app, _transport
from tests.api.conftest import small_ds  # noqa: F401 - fixture
from tests.server.conftest import runtime_dir, start  # noqa: F401 - fixtures


@pytest.fixture
def ds(small_ds):
    return small_ds


@pytest.fixture
def backend(ds):
    """The real api over that dataset, where tests/server's servers have a stub."""
    from lightly_studio.server._backend import ApiBackend

    return ApiBackend()


@pytest.fixture
def client(start):
    return start()[1]


def _spec(ds, **keys) -> dict:
    return {"spec": {"dataset_id": str(ds.dataset_id), **keys}}


def _error(resp, status: int) -> dict:
    assert resp.status == status, resp.data[:300]
    assert resp.getheader("Content-Type").startswith("application/json")
    return json.loads(resp.data)["error"]


def test_spec_sort_given_as_a_string_is_a_400_naming_spec_sort(client, ds):
    error = _error(client.call("count", _spec(ds, sort="width")), 400)
    assert error["type"] == "QueryError"
    assert "spec.sort must be an object" in error["message"]


def test_a_sort_field_that_is_a_number_is_a_400_naming_spec_sort_field(client, ds):
    error = _error(client.call("samples_page", _spec(ds, sort={"field": 3})), 400)
    assert "spec.sort.field must be a string" in error["message"]


def test_similar_to_that_is_not_a_uuid_is_a_400_naming_spec_similar_to(client, ds):
    error = _error(client.call("count", _spec(ds, similar_to="../../etc/passwd")), 400)
    assert error["type"] == "QueryError"
    assert "spec.similar_to" in error["message"] and "UUID" in error["message"]
    error = _error(client.call("count", _spec(ds, similar_to=str(uuid.UUID(int=5)))), 400)
    assert "spec.similar_to: no sample" in error["message"]


def test_caption_add_with_a_bad_created_at_is_a_400_and_stores_nothing(client, ds):
    sample = ds.by_name["d.jpg"]
    for bad in ("yesterday", 12, {"$date": 1}):
        resp = client.call(
            "caption_add", {"sample_id": str(sample.sample_id), "text": "hi", "created_at": bad}
        )
        error = _error(resp, 400)
        assert error["type"] == "AnnotationError" and "created_at" in error["message"]
    assert sample.captions == []
    ok = client.call(
        "caption_add",
        {"sample_id": str(sample.sample_id), "text": "hi", "created_at": "2024-05-01T12:30:00"},
    )
    assert ok.status == 200


def test_json_nested_100k_deep_is_a_quick_400(client):
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000):
        started = time.perf_counter()
        resp = client.request("POST", "/api/count", body, {"Content-Type": "application/json"})
        error = _error(resp, 400)
        assert "nested too deeply" in error["message"]
        assert time.perf_counter() - started < 2


def _frames(header: bytes, tail: bytes = b"") -> bytes:
    return _transport.MAGIC + struct.pack("<I", len(header)) + header + tail


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (_frames(b"[1, 2]"), "frames header must be a JSON object"),
        (_frames(b'{"result": {}, "buffers": {"a": 1}}'), "[offset, length]"),
        (_frames(b'{"result": {}, "buffers": [[-8, 4]]}'), "[offset, length]"),
        (_frames(b'{"result": {}, "buffers": [[16, 99]]}', b"\0" * 8), "outside the body"),
        (_frames(b'{"result": []}'), "result (the params) must be a JSON object"),
        (_transport.MAGIC + struct.pack("<I", 2**31), "runs past the body"),
        (b"LSF", "not a frames body"),
    ],
)
def test_a_malformed_frames_body_is_a_400_saying_what_is_wrong(client, body, named):
    resp = client.request("POST", "/api/select_ids", body, {"Content-Type": _transport.FRAMES_TYPE})
    error = _error(resp, 400)
    assert error["type"] == "BadRequest" and named in error["message"]


def test_a_thumbnail_of_an_undecodable_file_is_a_client_error_not_a_500(client, ds):
    sample = ds.by_name["d.jpg"]
    with open(sample.file_path_abs, "wb") as fh:
        fh.write(b"this is not a JPEG")
    resp = client.request("GET", f"/thumbnail/{sample.sample_id}")
    assert 400 <= resp.status < 500, resp.data[:300]  # 422 from the handler
    assert json.loads(resp.data)["error"]["message"]
    # The grid's batched call reports it beside the others and still answers.
    resp = client.call(
        "thumbnails", {"dataset_id": str(ds.dataset_id), "sample_ids": [str(sample.sample_id)]}
    )
    assert resp.status == 200


def _raw(client, head: bytes, body: bytes = b"", read_timeout: float = 10) -> bytes:
    """Send ``head`` (+ ``body``) on a fresh socket; what comes back before it closes."""
    port = int(client.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head + body)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data and data.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n").endswith(
                    b"}"
                ):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return data


@pytest.mark.parametrize(
    ("size", "expect"),
    [
        (_app.MAX_BODY_BYTES + 1, "Expect: 100-continue\r\n"),  # the client waits to be told
        (_app.HARD_BODY_BYTES + 1, ""),  # past tornado's own cap
    ],
)
def test_an_oversized_body_is_answered_413_before_it_is_sent(client, size, expect):
    # Only the headers go out: the 413 comes from the Content-Length alone.
    head = (
        f"POST /api/count HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
        f"\r\nContent-Length: {size}\r\n{expect}\r\n"
    ).encode()
    reply = _raw(client, head)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    error = json.loads(reply.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["type"] == "PayloadTooLarge" and str(_app.MAX_BODY_BYTES) in error["message"]


def test_an_oversized_body_sent_whole_gets_413_too(client):
    body = b" " * (_app.MAX_BODY_BYTES + 10)
    resp = client.request("POST", "/api/count", body, {"Content-Type": "application/json"})
    assert _error(resp, 413)["type"] == "PayloadTooLarge"


def test_an_oversized_chunked_body_gets_413(client):
    chunk = b" " * (1 << 20)
    body = (
        b"".join(
            b"%x\r\n%s\r\n" % (len(chunk), chunk)
            for _ in range(_app.MAX_BODY_BYTES // len(chunk) + 1)
        )
        + b"0\r\n\r\n"
    )
    head = (
        b"POST /api/count HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
        b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    reply = _raw(client, head, body)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_oversized_headers_get_431_naming_the_limit(client):
    resp = client.request(
        "GET", "/health", headers={"X-Padding": "a" * (_app.MAX_HEADER_BYTES + 1)}
    )
    error = _error(resp, 431)
    assert error["type"] == "RequestHeaderFieldsTooLarge"
    assert str(_app.MAX_HEADER_BYTES) in error["message"]
    resp = client.call("count", {}, headers={f"X-Pad-{i}": "b" * 1000 for i in range(80)})
    assert _error(resp, 431)["type"] == "RequestHeaderFieldsTooLarge"


def test_headers_past_tornados_hard_cap_drop_the_connection_and_the_server_lives_on(client):
    # The one case tornado answers by closing the connection: it stops reading headers at
    # HARD_HEADER_BYTES and gives the application no request to answer.
    head = (
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "
        + b"a" * (_app.HARD_HEADER_BYTES + 10)
        + b"\r\n\r\n"
    )
    reply = _raw(client, head)
    assert b" 200 " not in reply[:20]
    assert client.request("GET", "/health").status == 200
