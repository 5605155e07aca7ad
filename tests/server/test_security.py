"""Who may use the server: token off loopback, Host/Origin checks, only sample files served."""

from __future__ import annotations

import json
import uuid

import pytest

from lightly_studio.server import _security

IMAGE_ID = str(uuid.UUID(int=10))
LINK_ID = str(uuid.UUID(int=11))


# -- token -------------------------------------------------------------------------------------
@pytest.fixture
def remote(start):
    """A server bound to every interface: a token is required."""
    server, client = start(host="0.0.0.0")
    return server, client


def test_a_loopback_server_needs_no_token(server):
    srv, client = server
    assert srv.token is None
    assert "token" not in srv.url
    assert client.request("GET", "/health").status == 200


def test_a_server_on_another_host_prints_a_random_token_in_its_url(remote, start):
    server, _ = remote
    assert server.token and len(server.token) >= 24
    assert server.url == f"http://localhost:{server.port}/?token={server.token}"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/health",
        "/static/app.js",
        f"/media/{IMAGE_ID}",
        f"/thumbnail/{IMAGE_ID}",
        "/ws",
        "/nope",
    ],
)
def test_every_route_without_the_token_is_401(remote, path):
    _, client = remote
    assert client.request("GET", path, token=False).status == 401


def test_api_without_token_is_401_and_with_a_wrong_one_403(remote, backend):
    _, client = remote
    assert client.call("echo", token=False).status == 401
    assert (
        client.call("echo", token=False, headers={"X-Lightly-Studio-Token": "guess"}).status == 403
    )
    assert client.call("echo", token=False, headers={"Authorization": "token guess"}).status == 403
    assert backend.calls == []  # nothing ran
    assert client.call("echo").status == 200


def test_the_token_in_the_url_sets_a_cookie_the_page_then_uses(remote):
    server, client = remote
    page = client.request("GET", f"/?token={server.token}", token=False)
    assert page.status == 200
    cookie = page.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    name_value = cookie.split(";")[0]
    assert (
        client.request("GET", "/health", token=False, headers={"Cookie": name_value}).status == 200
    )
    bad = name_value.split("=")[0] + "=wrong"
    assert client.request("GET", "/health", token=False, headers={"Cookie": bad}).status == 403


def test_a_fixed_token_is_required_even_on_loopback(start):
    _server, client = start(token="s3cret-token-for-tests")
    assert client.request("GET", "/health", token=False).status == 401
    assert client.request("GET", "/health?token=s3cret-token-for-tests", token=False).status == 200


# -- Host / Origin / content type ----------------------------------------------------------------
def test_dns_rebinding_host_is_refused_without_token(client):
    assert client.request("GET", "/health", host="evil.example:8001").status == 403
    assert client.request("GET", "/health", host="localhost:8001").status == 200
    assert client.request("GET", "/health", host="[::1]:8001").status == 200


def test_cross_site_posts_are_refused(client, backend):
    host = client.base.removeprefix("http://")
    ok = client.call("echo", headers={"Origin": f"http://{host}"})
    assert ok.status == 200
    evil = client.call("echo", headers={"Origin": "http://evil.example"})
    assert evil.status == 403
    # A form post ("simple" request, no preflight) cannot send application/json.
    form = client.request(
        "POST", "/api/echo", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status == 415
    assert [m for m, _ in backend.calls] == ["echo"]


def test_no_cors_headers_are_ever_sent(client):
    resp = client.request(
        "OPTIONS",
        "/api/echo",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert resp.status >= 400
    assert resp.getheader("Access-Control-Allow-Origin") is None
    resp = client.call("echo", headers={"Origin": "http://evil.example"})
    assert resp.getheader("Access-Control-Allow-Origin") is None


def test_oversized_bodies_are_refused(client):
    body = b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}'
    try:
        resp = client.request("POST", "/api/echo", body, {"Content-Type": "application/json"})
        assert resp.status == 400 or resp.status == 413
    except (ConnectionError, OSError):
        pass  # tornado closes the connection while the client is still sending: also a refusal


# -- only registered sample files ----------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/media/../../etc/passwd",
        "/media/..%2f..%2fetc%2fpasswd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        "/media//etc/passwd",
        "/media/" + IMAGE_ID + "/../../secret.txt",
        "/media/" + IMAGE_ID + "%2f..%2f..%2fsecret.txt",
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/thumbnail/..%2f..%2fetc%2fpasswd",
        "/media/" + str(uuid.UUID(int=99)),  # a well-formed id that is not a sample
    ],
)
def test_paths_from_the_url_never_reach_the_filesystem(client, path):
    resp = client.request("GET", path)
    assert resp.status in (403, 404)
    assert b"root:" not in resp.data and b"TOP SECRET" not in resp.data


def test_a_sample_symlinked_to_a_non_media_file_is_refused(client):
    resp = client.request("GET", f"/media/{LINK_ID}")
    assert resp.status == 403
    assert b"TOP SECRET" not in resp.data


def test_a_missing_sample_file_is_404(client):
    assert client.request("GET", f"/media/{uuid.UUID(int=12)}").status == 404


def test_error_bodies_are_json_never_html(client):
    resp = client.request("GET", "/nope")
    assert resp.getheader("Content-Type").startswith("application/json")
    assert json.loads(resp.data)["error"]["type"] == "NotFound"


# -- helpers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.1.2.3", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host, loopback):
    assert _security.is_loopback(host) is loopback
