"""Originals with byte ranges (video seeking) and ETags; thumbnails cacheable with 304s."""

from __future__ import annotations

import uuid

import pytest

from lightly_studio.server._media import parse_range

IMAGE_ID = str(uuid.UUID(int=10))
CONTENT = bytes(range(256)) * 40


def test_the_whole_file_with_type_etag_and_accept_ranges(client):
    resp = client.request("GET", f"/media/{IMAGE_ID}")
    assert resp.status == 200
    assert resp.data == CONTENT
    assert resp.getheader("Content-Type") == "image/jpeg"
    assert resp.getheader("Accept-Ranges") == "bytes"
    assert resp.getheader("ETag")


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 10239),
        ("bytes=-16", 10224, 10239),
        ("bytes=10000-99999", 10000, 10239),
    ],
)
def test_a_range_request_gets_206_and_exactly_those_bytes(client, header, first, last):
    resp = client.request("GET", f"/media/{IMAGE_ID}", headers={"Range": header})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes {first}-{last}/10240"
    assert resp.data == CONTENT[first : last + 1]


def test_a_range_past_the_end_is_416(client):
    resp = client.request("GET", f"/media/{IMAGE_ID}", headers={"Range": "bytes=20000-"})
    assert resp.status == 416
    assert resp.getheader("Content-Range") == "bytes */10240"


def test_a_matching_etag_gets_304_and_a_changed_file_a_new_etag(client, media):
    first = client.request("GET", f"/media/{IMAGE_ID}")
    etag = first.getheader("ETag")
    again = client.request("GET", f"/media/{IMAGE_ID}", headers={"If-None-Match": etag})
    assert again.status == 304 and again.data == b""
    media["image"].write_bytes(b"new content of the image")
    changed = client.request("GET", f"/media/{IMAGE_ID}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.data == b"new content of the image"
    assert changed.getheader("ETag") != etag


def test_head_gives_the_size_without_the_body(client):
    resp = client.request("HEAD", f"/media/{IMAGE_ID}")
    assert resp.status == 200 and resp.getheader("Content-Length") == "10240" and resp.data == b""


def test_thumbnails_are_cacheable_and_revalidate_with_304(client):
    resp = client.request("GET", f"/thumbnail/{IMAGE_ID}")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "image/jpeg"
    assert "max-age" in resp.getheader("Cache-Control")
    etag = resp.getheader("ETag")
    again = client.request("GET", f"/thumbnail/{IMAGE_ID}", headers={"If-None-Match": etag})
    assert again.status == 304
    assert client.request("GET", f"/thumbnail/{uuid.UUID(int=99)}").status == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", (0, 0)),
        ("bytes=5-", (5, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-0", "unsatisfiable"),
        ("bytes=10-", "unsatisfiable"),
        ("bytes=5-2", "unsatisfiable"),
        ("items=0-1", None),
        ("bytes=0-1,3-4", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 10) == expected
