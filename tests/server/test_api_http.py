"""POST /api/<method>: JSON in, JSON (gzipped) or binary frames out, errors as JSON."""

from __future__ import annotations

import gzip
import json
import struct
import time
import uuid

from lightly_studio.server import _transport


def test_a_method_returns_its_result_as_json(client):
    resp = client.call("echo", {"a": 1, "label": "cat"})
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith("application/json")
    assert json.loads(resp.data) == {
        "result": {"params": {"a": 1, "label": "cat"}, "id": "00000000-0000-0000-0000-000000000001"}
    }


def test_buffers_come_back_as_aligned_frames(client):
    resp = client.call("floats")
    assert resp.getheader("Content-Type") == _transport.FRAMES_TYPE
    result, buffers = _transport.decode_reply(resp.data)
    assert result == {"n": 3}
    assert struct.unpack("<3f", buffers[0]) == (1.0, 2.0, 3.0)
    assert buffers[1] == b"abc"
    header = json.loads(resp.data[8 : 8 + struct.unpack_from("<I", resp.data, 4)[0]])
    assert all(offset % 8 == 0 for offset, _ in header["buffers"])


def test_json_is_gzipped_when_the_client_accepts_it(client):
    plain = client.call("big")
    zipped = client.call("big", headers={"Accept-Encoding": "gzip"})
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert len(zipped.data) < len(plain.data) / 5
    assert gzip.decompress(zipped.data) == plain.data


def test_unknown_method_is_404(client):
    resp = client.call("no_such_method")
    assert resp.status == 404
    assert json.loads(resp.data)["error"]["type"] == "MethodNotFound"


def test_a_user_error_is_400_with_its_message(client):
    resp = client.call("missing_dataset")
    assert resp.status == 400
    assert json.loads(resp.data)["error"] == {
        "type": "DatasetNotFoundError",
        "message": "dataset 'x' is not in lightly_studio.db",
    }


def test_an_internal_error_is_500_without_details(client):
    resp = client.call("crash")
    assert resp.status == 500
    assert b"secret internal detail" not in resp.data


def test_params_must_be_a_json_object(client):
    resp = client.request("POST", "/api/echo", b"[1, 2]", {"Content-Type": "application/json"})
    assert resp.status == 400
    resp = client.request("POST", "/api/echo", b"{not json", {"Content-Type": "application/json"})
    assert resp.status == 400


def test_health_names_the_process_and_db(client):
    resp = client.request("GET", "/health")
    body = json.loads(resp.data)
    assert resp.status == 200 and body["status"] == "ok" and body["pid"] > 0


def test_the_page_loads_the_app_bundle(client):
    resp = client.request("GET", "/")
    assert resp.status == 200
    assert b'src="static/app.js"' in resp.data
    assert "script-src 'self'" in resp.getheader("Content-Security-Policy")


def test_the_page_carries_the_dataset_list_as_inert_escaped_json(client, backend):
    evil = "</script><script>alert(1)</script> & <!--"
    backend.datasets = [
        {"dataset_id": str(uuid.UUID(int=1)), "name": evil, "kind": "image", "count": 3}
    ]
    resp = client.request("GET", "/")
    html = resp.data.decode()
    assert resp.status == 200 and "<script>alert" not in html and "<!--" not in html
    start = html.index('<script type="application/json" id="lightly-studio-boot">')
    block = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    # After the bundle's tag (a module runs once the page is parsed, so it finds the block).
    assert html.index('src="static/app.js"') < start
    assert json.loads(block) == {"list_datasets": {"datasets": backend.datasets}}


def test_serving_the_page_starts_the_first_datasets_thumbnails(client, backend):
    first, second = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))
    backend.datasets = [
        {"dataset_id": d, "name": d, "kind": "image", "count": 1} for d in (first, second)
    ]
    assert client.request("GET", "/").status == 200
    # Fire and forget on the server's media threads: wait for it to have run.
    deadline = time.monotonic() + 5
    while ("prefetch_thumbnails", {"dataset_id": first}) not in backend.calls:
        assert time.monotonic() < deadline, backend.calls
        time.sleep(0.01)
    assert ("prefetch_thumbnails", {"dataset_id": second}) not in backend.calls


def test_no_prefetch_without_datasets(client, backend):
    backend.datasets = []
    assert client.request("GET", "/").status == 200
    time.sleep(0.1)
    assert not [c for c in backend.calls if c[0] == "prefetch_thumbnails"]


def test_the_page_renders_without_the_list_when_the_backend_cannot_list(client):
    resp = client.request("GET", "/")  # the stub backend has no list_datasets by default
    assert resp.status == 200 and b"lightly-studio-boot" not in resp.data
    assert resp.data.rstrip().endswith(b"</html>")


def test_binary_input_goes_in_as_frames(client):
    content_type, body = _transport.encode_reply({"mask": True}, [b"\x01\x02\x03\x04\x05", b"xy"])
    resp = client.request("POST", "/api/sizes", body, {"Content-Type": content_type})
    assert json.loads(resp.data)["result"] == {"sizes": [5, 2], "first": "01020304"}


def test_a_frames_body_pointing_outside_itself_is_400(client):
    header = b'{"result": {}, "buffers": [[0, 99999]]}'
    body = b"LSF1" + struct.pack("<I", len(header)) + header
    resp = client.request("POST", "/api/sizes", body, {"Content-Type": _transport.FRAMES_TYPE})
    assert resp.status == 400
